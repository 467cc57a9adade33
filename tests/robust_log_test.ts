/**
 * A --log that fails (full disk, /dev/full, a FIFO whose
 * reader left) never stops the daemon: logging is reported stopped once and
 * retried later; and any unexpected error in the loop runs the undo first,
 * then exits 1 with one line. The sink's logic with a fake file; the rest
 * with the real process in --sim enforcing mode, checking the undo ran.
 */
import assert from "node:assert/strict";
import { type LogTarget, ResilientLog } from "../src/daemon/log_sink.ts";
import { runDaemonCommand } from "../src/commands/daemon.ts";
import { defaultConfig } from "../src/options.ts";
import { SimHost } from "../src/sim/host.ts";
import { runUntil, type Snapshots, startWaspd } from "./support/waspd.ts";

// ------------------------------------------------------------ the sink, pure

/** A file that fails on demand; `lines` holds what got through. */
class FakeFile implements LogTarget {
  lines = "";
  opens = 0;
  failWrite: string | null = null;
  failOpen: string | null = null;
  /** Bytes the file still takes (a pipe near full); then EAGAIN. */
  room = Infinity;
  open(): void {
    if (this.failOpen !== null) throw new Error(this.failOpen);
    this.opens++;
  }
  write(bytes: Uint8Array<ArrayBuffer>): number {
    if (this.failWrite !== null) throw new Error(this.failWrite);
    if (this.room === 0) throw new Error("Resource temporarily unavailable (EAGAIN)");
    const n = Math.min(bytes.length, this.room);
    this.room -= n;
    this.lines += new TextDecoder().decode(bytes.subarray(0, n));
    return n;
  }
  close(): void {}
}

function sink(file: FakeFile) {
  let now = 0;
  const reports: string[] = [];
  const log = new ResilientLog({
    name: "x.log",
    target: file,
    now: () => now,
    retryMs: 10_000,
    report: (kind, message) => {
      reports.push(`${kind}: ${message}`);
      log.write(`{"report":"${kind}"}`); // the report is an event, and is logged too
    },
  });
  log.open();
  return { log, reports, advance: (ms: number) => void (now += ms) };
}

Deno.test("row 1: a failing write is reported once, never thrown; later lines are counted", () => {
  const file = new FakeFile();
  const { log, reports, advance } = sink(file);
  log.write("a");
  file.failWrite = "No space left on device (ENOSPC)";
  for (let i = 0; i < 50; i++) {
    log.write(`line ${i}`);
    advance(100);
  }
  assert.deepEqual(reports, [
    "stopped: --log x.log: logging stopped: No space left on device (ENOSPC); retrying every 10 s",
  ]);
  assert.equal(file.lines, "a\n", "nothing written while stopped");
});

Deno.test("row 1: a log still failing at the retry stays quiet; one that works says resumed", () => {
  const file = new FakeFile();
  const { log, reports, advance } = sink(file);
  file.failWrite = "Broken pipe (EPIPE)";
  log.write("lost 1");
  advance(10_000);
  file.failWrite = null;
  file.failOpen = "No such device or address (ENXIO)"; // the FIFO has no reader yet
  log.write("lost 2");
  advance(5_000);
  log.write("lost 3 (resting)");
  advance(5_000);
  file.failOpen = null;
  log.write("back");
  assert.equal(reports.length, 2, reports.join("\n"));
  assert.match(reports[1]!, /^resumed: --log x.log: logging resumed \(4 lines not logged\)$/);
  assert.equal(file.lines, 'back\n{"report":"resumed"}\n');
  assert.equal(file.opens, 2, "opened at start and once more at the good retry");
});

Deno.test("row 1: a line cut short stops the log and the next line starts on its own line", () => {
  const file = new FakeFile();
  const { log, reports, advance } = sink(file);
  file.room = 4;
  log.write("0123456789");
  assert.equal(reports.length, 1);
  assert.match(reports[0]!, /logging stopped: Resource temporarily unavailable \(EAGAIN\)/);
  file.room = Infinity;
  advance(10_000);
  log.write("next");
  assert.ok(file.lines.startsWith("0123\nnext\n"), JSON.stringify(file.lines));
});

// ------------------------------------------------------------ the real process

interface Snapshot {
  daemon: { replicated: number };
  events: { kind: string; message: string }[];
}
type Run = Snapshots<Snapshot>;

/**
 * waspd on the simulated machine (enforcing), JSON lines; `act` sees each
 * snapshot and returns true to send SIGTERM. Bounded by a timeout.
 */
async function runSim(
  extra: string[],
  act: (s: Snapshot, all: readonly Snapshot[]) => boolean | Promise<boolean>,
): Promise<Run> {
  return await runUntil(
    [
      "--sim",
      "--json",
      "--time-scale",
      "50",
      "-u",
      "200",
      "-y",
      "1000",
      "-i",
      "600000",
      ...extra,
    ],
    act,
    "SIGTERM",
  );
}

const logStops = (r: Run) =>
  r.snapshots.flatMap((s) => s.events).filter((e) => /logging stopped/.test(e.message));

/** Replicated, and the log has been reported stopped at least `after` snapshots ago. */
function replicatedAfterStop(after: number) {
  return (s: Snapshot, all: readonly Snapshot[]) => {
    const stopAt = all.findIndex((x) => x.events.some((e) => /logging stopped/.test(e.message)));
    return stopAt >= 0 && all.length - 1 - stopAt >= after && s.daemon.replicated >= 1;
  };
}

function assertKeptRunningAndUndid(r: Run, reason: RegExp) {
  assert.equal(r.code, 0, r.stderr);
  const stops = logStops(r);
  assert.equal(stops.length, 1, "reported once");
  assert.equal(stops[0]!.kind, "error");
  assert.match(stops[0]!.message, reason);
  assert.ok(r.snapshots.some((s) => s.daemon.replicated >= 1), "replicated while logging was off");
  assert.match(r.stderr, /replication turned off for pid \d+/, "the undo ran");
}

Deno.test("row 1: --log /dev/full: the daemon runs on, says so once, and undoes on SIGTERM", async () => {
  const r = await runSim(["--log", "/dev/full"], replicatedAfterStop(3));
  assertKeptRunningAndUndid(r, /No space left on device/);
});

Deno.test("row 1: --log on a FIFO whose reader leaves: runs on, says so once, undoes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "waspd-fifo-" });
  const fifo = `${dir}/log.fifo`;
  try {
    const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert.ok(made.success, "mkfifo");
    // Read-write: a reader that does not block the open; closing it is the reader leaving.
    let reader: Deno.FsFile | null = await Deno.open(fifo, { read: true, write: true });
    const r = await runSim(["--log", fifo], (s, all) => {
      if (reader !== null && all.length >= 3) {
        reader.close();
        reader = null;
      }
      return replicatedAfterStop(3)(s, all);
    });
    assertKeptRunningAndUndid(r, /Broken pipe/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("row 1: --log on a FIFO nobody reads: one line and exit 2 at once, never a hang", async () => {
  const dir = await Deno.makeTempDir({ prefix: "waspd-fifo-" });
  const fifo = `${dir}/log.fifo`;
  try {
    assert.ok((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
    const out = await startWaspd(["--sim", "--json", "--log", fifo], {
      signal: AbortSignal.timeout(30_000), // a blocking open would hang until this
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, err);
    assert.match(err, /^waspd: --log .*log\.fifo: a FIFO with no process reading it \(ENXIO\)\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A 64 KiB tmpfs needs mount(2): root, and a kernel or container that allows it. */
async function canMountTmpfs(): Promise<string | null> {
  if (Deno.uid() !== 0) return "not root";
  const dir = await Deno.makeTempDir();
  try {
    const m = await new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", "size=64k", "t", dir] })
      .output();
    if (!m.success) return `mount failed: ${new TextDecoder().decode(m.stderr).trim()}`;
    await new Deno.Command("umount", { args: [dir] }).output();
    return null;
  } catch (error) {
    return String(error);
  } finally {
    await Deno.remove(dir).catch(() => {});
  }
}
const noTmpfs = await canMountTmpfs();
if (noTmpfs !== null) console.log(`tmpfs --log test ignored: ${noTmpfs}`);

Deno.test({
  name: "row 1: --log on a full 64 KiB tmpfs: runs on, says so once, undoes",
  ignore: noTmpfs !== null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "waspd-tmpfs-" });
    const mount = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=64k", "waspd-test", dir],
    }).output();
    assert.ok(mount.success);
    try {
      // Leave about a page: the first few events fit, then the disk is full.
      await Deno.writeFile(`${dir}/filler`, new Uint8Array(60 * 1024));
      const r = await runSim(["--log", `${dir}/events.jsonl`], replicatedAfterStop(3));
      assertKeptRunningAndUndid(r, /No space left on device/);
      assert.ok(Deno.statSync(`${dir}/events.jsonl`).size > 0, "something was logged first");
    } finally {
      await new Deno.Command("umount", { args: [dir] }).output();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// ------------------------------------------------------------ any error in the loop

Deno.test("row 1: an unexpected error in the loop: the undo runs, then one line and exit 1", async () => {
  const host = new SimHost({ nodes: 4, seed: 1, timeScale: 50 });
  const realRead = host.mitosis.read.bind(host.mitosis);
  let boom = false;
  host.mitosis.read = () => boom ? Promise.reject(new Error("kaboom")) : realRead();
  let err = "";
  const code = await runDaemonCommand(
    {
      ...defaultConfig(),
      simNodes: 4,
      json: true,
      timeScale: 50,
      updateIntervalMs: 200,
      hysteresisMs: 1000,
      ptlIntervalMs: 600_000,
    },
    { openHost: () => Promise.resolve(host) },
    {
      out: (line) => {
        if (JSON.parse(line).daemon.replicated >= 1) boom = true;
      },
      err: (text) => void (err += text),
    },
  );
  assert.equal(code, 1);
  assert.match(err, /replication turned off for pid \d+/, "the undo ran first");
  const lines = err.trimEnd().split("\n");
  assert.equal(lines.at(-1), "waspd: stopped by an unexpected error, after the undo: kaboom");
  assert.deepEqual(host.kernel.replicated(), [], "nothing left replicated");
});
