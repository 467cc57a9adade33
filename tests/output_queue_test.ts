/**
 * Output that never blocks the loop: the bounded queue in front of stdout
 * and stderr (sys/output_queue.ts) with a fake stream, a fake clock and
 * hand-run timers; the EAGAIN/EPIPE mapping of write(2) on a real FIFO; and
 * ProcessOutput's switch to O_NONBLOCK and back (sys/stdio.ts) on fake fds.
 */
import assert from "node:assert/strict";
import { dropCounts, type DropEpisode, OutputQueue } from "../src/sys/output_queue.ts";
import {
  dropMessage,
  EXIT_FLUSH,
  fdWriter,
  OutputClosed,
  ProcessOutput,
  QUEUE_BYTES,
  stdio,
  type StdioSystem,
} from "../src/sys/stdio.ts";
import { DaemonCounters } from "../src/metrics/daemon_counters.ts";
import { snapshotExposition } from "../src/metrics/snapshot_metrics.ts";
import { sampleSnapshot } from "./fixtures/snapshot_sample.ts";
import { Errno, SyscallError } from "../src/ffi/errno.ts";
import { libc, O_NONBLOCK, O_RDONLY, O_WRONLY } from "../src/ffi/libc.ts";
import { OwnedFd } from "../src/ffi/owned.ts";

const decoder = new TextDecoder();
// libc stays open for the whole file (the sanitizer counts a library opened inside a test).
libc();

/** A stream that takes `room` more bytes (then EAGAIN, as 0) or throws `fail`. */
class FakeStream {
  text = "";
  room = Infinity;
  fail: Error | null = null;
  calls = 0;
  write = (bytes: Uint8Array<ArrayBuffer>): number => {
    this.calls++;
    if (this.fail !== null) throw this.fail;
    const n = Math.min(bytes.length, this.room);
    this.room -= n;
    this.text += decoder.decode(bytes.subarray(0, n));
    return n;
  };
}

/** Timers run by hand, a clock moved by hand. */
class FakeTime {
  ms = 0;
  timers: (() => void)[] = [];
  now = () => this.ms;
  later = (retry: () => void, _ms: number) => {
    this.timers.push(retry);
    return () => {
      this.timers = this.timers.filter((t) => t !== retry);
    };
  };
  /** Advance by `ms` and run the timers that were due. */
  tick(ms: number): void {
    this.ms += ms;
    const due = this.timers;
    this.timers = [];
    for (const t of due) t();
  }
  sleep = (ms: number) => {
    this.tick(ms);
    return Promise.resolve();
  };
}

function setup(capacityBytes = 100) {
  const stream = new FakeStream();
  const time = new FakeTime();
  const queue = new OutputQueue({
    write: stream.write,
    capacityBytes,
    now: time.now,
    later: time.later,
    retryMs: 20,
  });
  const episodes: DropEpisode[] = [];
  queue.onEpisodeEnd = (e) => void episodes.push(e);
  return { stream, time, queue, episodes };
}

const line = (i: number) => `line ${String(i).padStart(3, "0")}\n`; // 9 bytes

Deno.test("a stream that takes everything: written at once, no timer, nothing queued", () => {
  const { stream, time, queue } = setup();
  for (let i = 0; i < 50; i++) queue.write(line(i));
  assert.equal(stream.text, Array.from({ length: 50 }, (_, i) => line(i)).join(""));
  assert.equal(queue.queuedBytes, 0);
  assert.equal(time.timers.length, 0);
  assert.equal(queue.droppedLines, 0);
});

Deno.test("EAGAIN: the line waits whole, one retry is armed, and it goes out once writable", () => {
  const { stream, time, queue } = setup();
  stream.room = 4; // half a line, then the pipe is full
  queue.write(line(1));
  queue.write(line(2));
  assert.equal(stream.text, "line");
  assert.equal(queue.queuedBytes, 18 - 4);
  assert.equal(time.timers.length, 1, "one retry, not one per line");
  // Still full: the retry writes nothing and arms the next one.
  time.tick(20);
  assert.equal(stream.text, "line");
  assert.equal(time.timers.length, 1);
  stream.room = Infinity;
  time.tick(20);
  assert.equal(stream.text, line(1) + line(2));
  assert.equal(queue.queuedBytes, 0);
  assert.equal(time.timers.length, 0, "no timer once drained");
});

Deno.test("a full queue drops whole lines, counts them, and tells the episode once when drained", () => {
  const { stream, time, queue, episodes } = setup(100);
  stream.room = 0;
  for (let i = 0; i < 40; i++) {
    queue.write(line(i));
    time.ms += 100;
  }
  // 11 lines (99 bytes) fit; the other 29 are dropped, none cut.
  assert.equal(queue.queuedBytes, 99);
  assert.equal(queue.droppedLines, 29);
  assert.equal(queue.droppedBytes, 29 * 9);
  assert.equal(episodes.length, 0, "no report while the reader is stalled");
  stream.room = Infinity;
  time.tick(20);
  assert.equal(stream.text, Array.from({ length: 11 }, (_, i) => line(i)).join(""));
  assert.deepEqual(episodes, [{ lines: 29, bytes: 261, ms: 4020 - 1100, ongoing: false }]);
  // Flowing again: no drop, no report; a second stall is a second episode.
  queue.write(line(99));
  assert.ok(stream.text.endsWith(line(99)));
  stream.room = 0;
  for (let i = 0; i < 13; i++) queue.write(line(i));
  stream.room = Infinity;
  time.tick(20);
  assert.equal(episodes.length, 2);
  assert.equal(episodes[1]!.lines, 2);
  assert.equal(queue.droppedLines, 31);
  // Every line that went out went out whole.
  for (const l of stream.text.split("\n").slice(0, -1)) assert.match(l, /^line \d{3}$/);
});

Deno.test("a line longer than the queue is taken into an empty queue, not dropped forever", () => {
  const { stream, time, queue } = setup(10);
  stream.room = 0;
  const big = "x".repeat(50) + "\n";
  queue.write(big);
  assert.equal(queue.droppedLines, 0);
  queue.write(line(1));
  assert.equal(queue.droppedLines, 1, "the queue is over its size: the next line is dropped");
  stream.room = Infinity;
  time.tick(20);
  assert.equal(stream.text, big);
});

Deno.test("many short queued lines go out in few writes", () => {
  const { stream, time, queue } = setup(1 << 20);
  stream.room = 0;
  for (let i = 0; i < 5000; i++) queue.write(line(i % 1000));
  stream.room = Infinity;
  const before = stream.calls;
  time.tick(20);
  assert.equal(queue.queuedBytes, 0);
  assert.equal(stream.text.length, 5000 * 9);
  assert.ok(stream.calls - before <= Math.ceil((5000 * 9) / 65536) + 1, `${stream.calls - before}`);
});

Deno.test("a stream that fails on a retry: the next write throws it, and nothing is written after", () => {
  const { stream, time, queue } = setup();
  stream.room = 0;
  queue.write(line(1));
  stream.fail = new OutputClosed("stdout closed by its reader");
  time.tick(20);
  assert.throws(() => queue.write(line(2)), OutputClosed);
  assert.throws(() => queue.write(line(3)), OutputClosed);
  assert.equal(queue.queuedBytes, 0);
  assert.equal(time.timers.length, 0);
  // A failure on the write itself is thrown there.
  const other = setup();
  other.stream.fail = new Error("No space left on device");
  assert.throws(() => other.queue.write(line(1)), /No space/);
});

Deno.test("flush: true once drained; false after stallMs without progress, never longer", async () => {
  const { stream, time, queue } = setup();
  stream.room = 0;
  queue.write(line(1));
  const start = time.ms;
  assert.equal(await queue.flush({ stallMs: 500, maxMs: 2000, sleep: time.sleep }), false);
  assert.ok(time.ms - start >= 500 && time.ms - start <= 520, `${time.ms - start}`);
  // A slow reader that keeps taking a little is given up to maxMs.
  const slow = setup();
  slow.stream.room = 0;
  slow.queue.write("y".repeat(90) + "\n");
  const slowSleep = (ms: number) => {
    slow.stream.room = 1;
    return slow.time.sleep(ms);
  };
  const t0 = slow.time.ms;
  assert.equal(await slow.queue.flush({ stallMs: 500, maxMs: 1000, sleep: slowSleep }), false);
  assert.ok(slow.time.ms - t0 >= 1000 && slow.time.ms - t0 <= 1020);
  stream.room = Infinity;
  assert.equal(await queue.flush({ stallMs: 500, maxMs: 2000, sleep: time.sleep }), true);
  assert.equal(stream.text, line(1));
});

Deno.test("endEpisode reports the drops so far as ongoing, once", () => {
  const { stream, time, queue } = setup(9);
  stream.room = 0;
  queue.write(line(1));
  time.ms += 1500;
  queue.write(line(2));
  queue.write(line(3));
  time.ms += 500;
  const e = queue.endEpisode()!;
  assert.deepEqual(e, { lines: 2, bytes: 18, ms: 500, ongoing: true });
  assert.equal(queue.endEpisode(), null);
  assert.equal(dropCounts(e), "2 lines (18 bytes) in 0.5 s");
  assert.equal(
    dropMessage({ stream: "stdout", ...e }),
    "output dropped: stdout's reader is not reading: 2 lines (18 bytes) in 0.5 s so far",
  );
  assert.equal(
    dropMessage({ stream: "stderr", lines: 1, bytes: 3 << 20, ms: 12_345, ongoing: false }),
    "output dropped: stderr's reader was not reading: 1 line (3.0 MiB) in 12.3 s; lines go out again",
  );
});

// ------------------------------------------------------- write(2), for real

Deno.test("fdWriter on a real FIFO: EAGAIN is 0, the queue drops instead of blocking, EPIPE is OutputClosed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "waspd-outq-" });
  try {
    const path = `${dir}/fifo`;
    assert.ok((await new Deno.Command("mkfifo", { args: [path] }).output()).success);
    const reader = new OwnedFd(libc().open(path, O_RDONLY | O_NONBLOCK));
    let writer: OwnedFd | null = new OwnedFd(libc().open(path, O_WRONLY | O_NONBLOCK));
    try {
      const time = new FakeTime();
      const queue = new OutputQueue({
        write: fdWriter(writer.fd),
        capacityBytes: 64 * 1024,
        now: time.now,
        later: time.later,
        retryMs: 20,
      });
      // Nobody reads: the pipe (64 KiB) and the queue fill, then lines are dropped.
      const text = "z".repeat(1023) + "\n";
      for (let i = 0; i < 400; i++) queue.write(text);
      assert.ok(queue.droppedLines > 0, "dropped, not blocked");
      assert.ok(queue.queuedBytes <= 64 * 1024);
      const kept = 400 - queue.droppedLines;
      // The reader comes back: everything kept arrives, in whole lines.
      let got = "";
      const buf = new Uint8Array(65536);
      for (let round = 0; round < 100 && got.length < kept * 1024; round++) {
        for (;;) {
          let n = 0;
          try {
            n = reader.read(buf);
          } catch (error) {
            if ((error as SyscallError).errno === Errno.EAGAIN) break;
            throw error;
          }
          if (n === 0) break;
          got += decoder.decode(buf.subarray(0, n));
        }
        time.tick(20);
      }
      assert.equal(got, text.repeat(kept));
      // The reader leaves: EPIPE, thrown as OutputClosed.
      reader.close();
      assert.throws(() => queue.write(text), OutputClosed);
      writer.close();
      writer = null;
    } finally {
      writer?.[Symbol.dispose]();
      reader[Symbol.dispose]();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fdWriter: EINTR is retried; an error other than EAGAIN or EPIPE is thrown as it is", () => {
  const errnos = [Errno.EINTR, Errno.EINTR];
  const lib = {
    write: (_fd: number, bytes: Uint8Array<ArrayBuffer>) => {
      const errno = errnos.shift();
      if (errno !== undefined) throw new SyscallError("write(fd 1)", errno);
      return bytes.length;
    },
  };
  assert.equal(fdWriter(1, lib)(new Uint8Array(5)), 5);
  const eio = {
    write: () => {
      throw new SyscallError("write(fd 1)", 5);
    },
  };
  assert.throws(() => fdWriter(1, eio)(new Uint8Array(1)), /EIO/);
  const again = {
    write: () => {
      throw new SyscallError("write(fd 1)", Errno.EAGAIN);
    },
  };
  assert.equal(fdWriter(1, again)(new Uint8Array(1)), 0);
});

// ------------------------------------------------- ProcessOutput, fake fds

/** Two fds, optionally sharing one open file (2>&1, the journal's socket). */
function fakeSystem(o: { terminal?: number[]; shared?: boolean; stalled?: boolean }) {
  const time = new FakeTime();
  const files = { a: 0o1, b: 0o1 }; // O_WRONLY
  const fileOf = (fd: number) => (fd === 2 && !o.shared ? "b" : "a") as "a" | "b";
  const written: Record<number, string> = { 1: "", 2: "" };
  const blocking: number[] = [];
  let exitHooks = 0;
  let stalled = o.stalled ?? false;
  const sys: StdioSystem = {
    isTerminal: (fd) => (o.terminal ?? []).includes(fd),
    getFlags: (fd) => files[fileOf(fd)],
    setFlags: (fd, flags) => void (files[fileOf(fd)] = flags),
    writer: (fd) => (bytes) => {
      if (stalled) return 0;
      written[fd] += decoder.decode(bytes);
      return bytes.length;
    },
    writeAll: (fd, text) => {
      blocking.push(fd);
      written[fd] += text;
    },
    now: time.now,
    later: time.later,
    sleep: time.sleep,
    onExit: () => void exitHooks++,
  };
  return {
    sys,
    time,
    files,
    written,
    blocking,
    exitHooks: () => exitHooks,
    setStalled: (s: boolean) => void (stalled = s),
  };
}

Deno.test("until unblock(), writes block as they always did (one-shot commands)", () => {
  const f = fakeSystem({});
  const io = new ProcessOutput(f.sys);
  io.out("a\n");
  io.err("b\n");
  assert.deepEqual(f.blocking, [1, 2]);
  assert.equal(f.files.a & O_NONBLOCK, 0);
});

Deno.test("unblock(): O_NONBLOCK on each non-terminal stream, queued writes, flags back at finish", async () => {
  const f = fakeSystem({ shared: true });
  const io = new ProcessOutput(f.sys);
  io.unblock(() => {});
  assert.equal(f.files.a & O_NONBLOCK, O_NONBLOCK);
  assert.equal(f.exitHooks(), 1, "the flags are also put back on Deno.exit");
  io.out("x\n");
  io.err("y\n");
  assert.deepEqual(f.blocking, [], "nothing through the blocking path");
  assert.deepEqual(f.written, { 1: "x\n", 2: "y\n" });
  await io.finish();
  // One open file for both fds: the flags from before the first switch come back.
  assert.equal(f.files.a, 0o1);
  // A terminal is left alone.
  const t = fakeSystem({ terminal: [1] });
  const tio = new ProcessOutput(t.sys);
  tio.unblock(() => {});
  assert.equal(t.files.a, 0o1);
  assert.equal(t.files.b & O_NONBLOCK, O_NONBLOCK);
  tio.out("screen");
  assert.deepEqual(t.blocking, [1]);
  await tio.finish();
  assert.equal(t.files.b, 0o1);
});

Deno.test("a stalled reader: out() returns, drops are counted and reported, finish() is bounded", async () => {
  const f = fakeSystem({ stalled: true });
  const io = new ProcessOutput(f.sys);
  const reports: string[] = [];
  const stop = io.unblock((r) => void reports.push(dropMessage(r)));
  const text = "w".repeat(1023) + "\n";
  const n = QUEUE_BYTES.stdout / 1024 + 50;
  for (let i = 0; i < n; i++) io.out(text);
  assert.equal(io.dropped().stdout, 50);
  assert.equal(io.dropped().stderr, 0);
  // Caught up: one report for the whole episode.
  f.setStalled(false);
  f.time.tick(20);
  assert.deepEqual(reports, [
    "output dropped: stdout's reader was not reading: 50 lines (50.0 KiB) in 0.0 s; lines go out again",
  ]);
  // Stalled again at exit: the episode is told as ongoing, and finish() gives up in bounded time.
  f.setStalled(true);
  for (let i = 0; i < n; i++) io.out(text);
  stop();
  assert.equal(reports.length, 2);
  assert.match(
    reports[1]!,
    /^output dropped: stdout's reader is not reading: \d+ lines .* so far$/,
  );
  const start = f.time.ms;
  await io.finish();
  assert.ok(f.time.ms - start <= EXIT_FLUSH.maxMs, `${f.time.ms - start}`);
  assert.equal(f.files.a & O_NONBLOCK, 0);
  assert.ok(io.dropped().stdout >= 100, "counts outlive the queue");
});

Deno.test("the metric: waspd_output_dropped_lines_total per stream, from the process's counts", () => {
  const counts = { stdout: 7, stderr: 0 };
  const counters = new DaemonCounters(() => counts);
  const text = snapshotExposition(sampleSnapshot(), counters, { version: "0.1.0", deno: "2.9.6" });
  assert.match(text, /^# TYPE waspd_output_dropped_lines_total counter$/m);
  assert.match(text, /^waspd_output_dropped_lines_total\{stream="stdout"\} 7$/m);
  assert.match(text, /^waspd_output_dropped_lines_total\{stream="stderr"\} 0$/m);
  // By default the counts are this process's own stdio's.
  assert.deepEqual(new DaemonCounters().view().outputDropped, stdio.dropped());
});
