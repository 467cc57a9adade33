/**
 * The FFI layer for real on this machine (1 NUMA node, stock kernel, root):
 * every call below reaches the kernel; nothing is mocked. The two tests that
 * depend on the machine (a node that does not exist, a kernel without
 * Mitosis) look first and adapt or say why they do not run.
 */
import assert from "node:assert/strict";
import { SyscallError } from "../src/ffi/errno.ts";
import { libc, maskNodes, MPOL_BIND, MPOL_MF_STRICT, nodeMask } from "../src/ffi/libc.ts";
import { PR_GET_PGTABLE_REPL, PR_SET_PGTABLE_REPL } from "../src/core/prctl.ts";
import { listThreadIds } from "../src/sys/procfs.ts";
import { readPrivileges } from "../src/sys/privileges.ts";

const PAGE = 4096;
const MAPPING_BYTES = 64 * 1024 * 1024;

/** Entry names of `dir`; none when it cannot be listed. */
function entries(dir: string): Set<string> {
  try {
    return new Set(Array.from(Deno.readDirSync(dir), (entry) => entry.name));
  } catch {
    return new Set();
  }
}

/** A Mitosis kernel lists /proc/mitosis; there prctl(100) would really replicate this process. */
const MITOSIS_KERNEL = entries("/proc").has("mitosis");
/** The first node number from 7 up that this machine does not have (7 on a small machine). */
const ABSENT_NODE = (() => {
  const nodes = entries("/sys/devices/system/node");
  let node = 7;
  while (nodes.has(`node${node}`)) node++;
  return node;
})();

// Open libc once, outside any test: the library stays loaded for the process
// (by design), which the resource sanitizer would otherwise pin on one test.
const c = libc();

Deno.test("nodeMask / maskNodes round trip, out-of-range nodes refused", () => {
  const mask = nodeMask([0, 3, 64, 1023]);
  assert.equal(mask[0], (1n << 0n) | (1n << 3n));
  assert.equal(mask[1], 1n);
  assert.deepEqual(maskNodes(mask), [0, 3, 64, 1023]);
  assert.throws(() => nodeMask([1024]), RangeError);
  assert.throws(() => nodeMask([-1]), RangeError);
});

Deno.test("mmap 64 MiB, mbind to node 0, touch: every page is on node 0", () => {
  const addr = c.mmapAnonymous(MAPPING_BYTES);
  try {
    c.mbind(addr, MAPPING_BYTES, MPOL_BIND, [0], MPOL_MF_STRICT);
    const policy = c.policyOfAddress(addr);
    assert.equal(policy.mode, MPOL_BIND);
    assert.deepEqual(policy.nodes, [0]);

    const bytes = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(addr, MAPPING_BYTES));
    const pageCount = MAPPING_BYTES / PAGE;
    for (let page = 0; page < pageCount; page++) bytes[page * PAGE] = page & 0xff;
    assert.equal(bytes[(pageCount - 1) * PAGE], (pageCount - 1) & 0xff);

    const base = Deno.UnsafePointer.value(addr);
    assert.equal(c.nodeOfAddress(addr), 0);
    const last = Deno.UnsafePointer.create(BigInt(base) + BigInt(MAPPING_BYTES - PAGE));
    assert.equal(c.nodeOfAddress(last), 0);

    const pages = new BigUint64Array(pageCount);
    for (let page = 0; page < pageCount; page++) {
      pages[page] = BigInt(base) + BigInt(page * PAGE);
    }
    const status = c.queryPageNodes(0, pages);
    assert.equal(status.length, pageCount);
    const offNode0 = status.filter((node) => node !== 0).length;
    assert.equal(offNode0, 0, `${offNode0} of ${pageCount} pages not on node 0`);
  } finally {
    c.munmap(addr, MAPPING_BYTES);
  }
});

Deno.test("an untouched page is reported absent by move_pages, not as node 0", () => {
  const addr = c.mmapAnonymous(2 * PAGE);
  try {
    const base = BigInt(Deno.UnsafePointer.value(addr));
    const status = c.queryPageNodes(0, new BigUint64Array([base, base + BigInt(PAGE)]));
    // -ENOENT (page not present) on current kernels; some return -EFAULT.
    for (const node of status) assert.ok(node < 0, `untouched page reported on node ${node}`);
  } finally {
    c.munmap(addr, 2 * PAGE);
  }
});

Deno.test(`mbind to a node that does not exist (node ${ABSENT_NODE}): SyscallError EINVAL`, () => {
  const addr = c.mmapAnonymous(16 * PAGE);
  try {
    assert.throws(
      () => c.mbind(addr, 16 * PAGE, MPOL_BIND, [ABSENT_NODE]),
      (error: unknown) => {
        assert.ok(error instanceof SyscallError);
        assert.equal(error.code, "EINVAL");
        assert.equal(error.errno, 22);
        assert.match(error.call, new RegExp(`mbind\\(nodes ${ABSENT_NODE}\\)`));
        assert.match(error.message, /EINVAL \(Invalid argument\)/);
        return true;
      },
    );
  } finally {
    c.munmap(addr, 16 * PAGE);
  }
});

Deno.test({
  // On a Mitosis kernel the same call would turn replication on for this process.
  name: "prctl(100) on a stock kernel: SyscallError EINVAL" +
    (MITOSIS_KERNEL ? " (ignored: this kernel has /proc/mitosis)" : ""),
  ignore: MITOSIS_KERNEL,
  fn() {
    assert.throws(
      () => c.prctl(PR_SET_PGTABLE_REPL, 1, 0),
      (error: unknown) => error instanceof SyscallError && error.code === "EINVAL",
    );
  },
});

Deno.test({
  name: "prctl(101) on a Mitosis kernel: the caller's mask, a number" +
    (MITOSIS_KERNEL ? "" : " (ignored: stock kernel, no /proc/mitosis)"),
  ignore: !MITOSIS_KERNEL,
  fn() {
    // 101 only reads the caller's mask: safe to call on the machine under test.
    const mask = c.prctl(PR_GET_PGTABLE_REPL, 0, 0);
    assert.ok(Number.isInteger(mask) && mask >= 0, `mask ${mask}`);
  },
});

Deno.test("setAffinity to CPU 0 runs this thread on CPU 0, then the original mask returns", () => {
  const original = c.getAffinity(0);
  assert.ok(original.length > 0);
  assert.ok(original.includes(0), "CPU 0 must be allowed for this test");
  try {
    c.setAffinity(0, [0]);
    assert.deepEqual(c.getAffinity(0), [0]);
    assert.equal(c.schedGetcpu(), 0);
  } finally {
    c.setAffinity(0, original);
  }
  assert.deepEqual(c.getAffinity(0), original);
});

Deno.test("gettid is one of this process's threads; munmap of a bad range is EINVAL", async () => {
  // Not necessarily Deno.pid: `deno test` runs the tests on a thread other than the main one.
  assert.ok((await listThreadIds("/proc", Deno.pid)).includes(c.gettid()));
  const addr = c.mmapAnonymous(PAGE);
  const misaligned = Deno.UnsafePointer.create(BigInt(Deno.UnsafePointer.value(addr)) + 1n);
  assert.ok(misaligned !== null);
  assert.throws(
    () => c.munmap(misaligned, PAGE),
    (error: unknown) => error instanceof SyscallError && error.code === "EINVAL",
  );
  c.munmap(addr, PAGE);
});

Deno.test("readPrivileges: geteuid agrees with Deno.uid (root on this machine)", () => {
  const privileges = readPrivileges();
  assert.equal(privileges.uid, Deno.uid());
  assert.equal(privileges.root, Deno.uid() === 0);
});
