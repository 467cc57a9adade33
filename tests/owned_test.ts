/**
 * The resource owners for real: an fd, a mapping and a perf counter are each
 * released once, whether by an explicit close or by `using`, and the fd
 * ledger counts exactly the counters that are open.
 */
import assert from "node:assert/strict";
import { libc, O_CLOEXEC, O_WRONLY } from "../src/ffi/libc.ts";
import { Mapping, OwnedFd } from "../src/ffi/owned.ts";
import { FdLedger } from "../src/sys/perf/fd_budget.ts";
import { PerfCounter } from "../src/sys/perf/perf_counter.ts";
import { SOFTWARE_EVENTS } from "../src/sys/perf/events.ts";

// libc stays open for the life of the process by design: open it outside any test.
libc();

const PAGE = 4096;

function fdIsOpen(fd: number): boolean {
  try {
    Deno.readLinkSync(`/proc/self/fd/${fd}`);
    return true;
  } catch {
    return false;
  }
}

Deno.test("OwnedFd: close is safe twice, using closes, a closed fd is not handed out", () => {
  const file = OwnedFd.open("/dev/null", O_WRONLY | O_CLOEXEC);
  const fd = file.fd;
  assert.ok(fdIsOpen(fd));
  assert.equal(file.write(new TextEncoder().encode("x\n")), 2);
  file.close();
  assert.equal(fdIsOpen(fd), false);
  file.close(); // no second close(2): that number may already be someone else's fd
  assert.equal(file.closed, true);
  assert.throws(() => file.fd, /closed/);

  let scoped: OwnedFd;
  {
    using inner = OwnedFd.open("/dev/null", O_WRONLY | O_CLOEXEC);
    scoped = inner;
    assert.ok(fdIsOpen(inner.fd));
  }
  assert.equal(scoped.closed, true);
});

Deno.test("OwnedFd: close reports the kernel's error; dispose after it does nothing more", () => {
  // A number that is no open fd: close(2) answers EBADF, the explicit close says so.
  const bogus = new OwnedFd(1_000_000);
  assert.throws(() => bogus.close(), /EBADF/);
  assert.equal(bogus.closed, true);
  bogus[Symbol.dispose]();
  // Dispose alone never throws: it runs on error paths too.
  new OwnedFd(1_000_001)[Symbol.dispose]();
});

Deno.test("Mapping: usable while mapped, unmapped once, by using or by unmap()", () => {
  let kept: Mapping;
  {
    using mapping = Mapping.anonymous(4 * PAGE);
    kept = mapping;
    const bytes = new Uint8Array(mapping.arrayBuffer());
    bytes[3 * PAGE] = 7;
    assert.equal(bytes[3 * PAGE], 7);
    assert.equal(mapping.byteLength, 4 * PAGE);
  }
  assert.equal(kept.unmapped, true);
  assert.throws(() => kept.arrayBuffer(), /unmapped/);
  kept.unmap(); // a second munmap would hit whatever was mapped there since

  const early = Mapping.anonymous(PAGE);
  early.unmap();
  assert.equal(early.unmapped, true);
  early[Symbol.dispose]();
});

Deno.test("PerfCounter: the ledger counts live counters; close twice leaves once", () => {
  const ledger = new FdLedger(4);
  let outer: PerfCounter;
  {
    using loads = PerfCounter.open(SOFTWARE_EVENTS.loads, 0, ledger);
    outer = loads;
    const walks = PerfCounter.open(SOFTWARE_EVENTS.walks, 0, ledger);
    assert.equal(ledger.used, 2);
    assert.ok(loads.read() !== null);
    walks.close();
    walks.close();
    assert.equal(ledger.used, 1);
    assert.throws(() => walks.read(), /closed/);
  }
  assert.equal(outer.closed, true);
  assert.equal(ledger.used, 0);
  assert.equal(ledger.limit, 4);
  ledger.shrinkToUsed();
  assert.equal(ledger.limit, 0);
});
