/**
 * The state directory is believed only when no one but root (or the user
 * running waspd) can write it: otherwise waspd warns, adopts nothing from
 * its ownership record and honours none of its pins, and still runs.
 */
import assert from "node:assert/strict";
import { judgeStateDir } from "../src/sys/state_dir.ts";
import { encodeOwned } from "../src/core/ownership_record.ts";
import { Ownership } from "../src/daemon/ownership.ts";
import { takeOverOwnership } from "../src/daemon/takeover.ts";
import { libc } from "../src/ffi/libc.ts";
import { FilePins, writePins } from "../src/sys/pins.ts";
import { fileOwnedStore, OWNED_FILE_NAME } from "../src/sys/ownership_file.ts";
import { ownedEntry, T0, takeoverDeps } from "./support/ownership.ts";
import { inTempDir } from "./support/scratch.ts";

// The claim locks through libc: loaded once for the whole file.
libc();

const NOBODY = 65534;
const dir = (uid: number | null, mode: number) => ({
  uid,
  mode: 0o40000 | mode,
  isDirectory: true,
});

Deno.test("judgeStateDir: root's directory for root; root's or the user's for a user; never group/other-writable", () => {
  assert.equal(judgeStateDir("/run/waspd", dir(0, 0o755), 0), null);
  assert.equal(judgeStateDir("/run/waspd", dir(0, 0o700), 1000), null);
  assert.equal(judgeStateDir("/home/u/s", dir(1000, 0o755), 1000), null);
  assert.match(
    judgeStateDir("/tmp/x", dir(NOBODY, 0o755), 0) ?? "",
    /^state directory \/tmp\/x is owned by uid 65534, not root$/,
  );
  assert.match(judgeStateDir("/s", dir(1000, 0o755), 0) ?? "", /owned by uid 1000, not root/);
  assert.match(judgeStateDir("/s", dir(2000, 0o755), 1000) ?? "", /not root or uid 1000/);
  assert.match(judgeStateDir("/s", dir(0, 0o775), 0) ?? "", /writable by its group \(mode 0775\)/);
  assert.match(judgeStateDir("/s", dir(0, 0o757), 0) ?? "", /writable by others \(mode 0757\)/);
  assert.match(
    judgeStateDir("/tmp", dir(0, 0o1777), 0) ?? "",
    /writable by its group \(mode 1777\)/,
  );
  assert.match(
    judgeStateDir("/s", { uid: 0, mode: 0o100644, isDirectory: false }, 0) ?? "",
    /is not a directory/,
  );
});

/** A dead waspd's record naming pid 7, in `stateDir`; returns what a takeover did. */
async function takeOverIn(stateDir: string) {
  Deno.writeTextFileSync(
    `${stateDir}/${OWNED_FILE_NAME}`,
    encodeOwned({
      ownerPid: 99999,
      entries: new Map([["7@70", ownedEntry(7, "on")]]),
      inheritFound: 1,
    }),
  );
  const reports: string[] = [];
  const restored: number[] = [];
  const report = (kind: string, message: string) => void reports.push(`${kind}: ${message}`);
  const ownership = new Ownership(
    fileOwnedStore(`${stateDir}/${OWNED_FILE_NAME}`),
    222,
    () => T0,
    report,
  );
  const verdicts = await takeOverOwnership(takeoverDeps(ownership, reports, {
    restoreInherit: (found) => (restored.push(found), Promise.resolve(true)),
  }));
  ownership.release();
  const adopted = ownership.owned().map((t) => t.pid);
  return { verdicts, adopted, restored, reports: reports.join("\n") };
}

Deno.test("a state directory writable by others: its record is not adopted, inherit not restored", async () => {
  await inTempDir("waspd-statedir-", async (base) => {
    Deno.chmodSync(base, 0o777);
    const r = await takeOverIn(base);
    assert.deepEqual([r.verdicts, r.adopted, r.restored], [[], [], []]);
    assert.match(
      r.reports,
      /ownership record: state directory .* is writable by .*nothing in it is adopted/,
    );
    assert.ok(Deno.lstatSync(`${base}/${OWNED_FILE_NAME}`).isFile, "left where it is");
    // The same directory made private again: the record is the next waspd's.
    Deno.chmodSync(base, 0o700);
    assert.deepEqual((await takeOverIn(base)).adopted, [7]);
  });
});

Deno.test({
  name: "a state directory owned by another user: nothing adopted (root only: chown)",
  ignore: Deno.uid() !== 0,
  fn: () =>
    inTempDir("waspd-statedir-", async (base) => {
      Deno.chownSync(base, NOBODY, null);
      const r = await takeOverIn(base);
      assert.deepEqual([r.adopted, r.restored], [[], []]);
      assert.match(r.reports, /is owned by uid 65534, not root: nothing in it is adopted/);
    }),
});

Deno.test("pins in a state directory writable by others are not honoured; told once", async () => {
  await inTempDir("waspd-statedir-", async (base) => {
    const path = `${base}/pins.json`;
    await writePins(
      path,
      new Map([["7@70", { pid: 7, startTime: 70, state: "off", sinceMs: T0 }]]),
    );
    const pins = new FilePins(path);
    assert.equal((await pins.read()).pins.size, 1);
    Deno.chmodSync(base, 0o777);
    const first = await pins.read();
    assert.equal(first.pins.size, 0, "the cached read is not used either");
    assert.match(
      first.warnings.join(),
      /^pins: state directory .* is writable by its group .*not honoured$/,
    );
    assert.deepEqual((await pins.read()).warnings, [], "told once");
  });
});
