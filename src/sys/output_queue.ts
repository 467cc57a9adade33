/**
 * A bounded queue in front of a stream that must never stop the daemon's
 * loop: stdout into a pipe whose reader stopped reading (`waspd --json |
 * slow`), the journal's socket under `--headless`. A line goes out at once
 * when the stream takes it; what the stream does not take now waits here
 * and is retried on a timer. When waiting lines fill the queue, a new line
 * is dropped whole and counted: a line is whole or absent, never cut, and a
 * stalled reader costs at most `capacityBytes` (one line is always taken
 * into an empty queue, however long).
 *
 * Drops come in episodes, from the first dropped line until the queue is
 * empty again (the reader caught up); each episode is told once, with its
 * counts, so a reader that stalls for an hour costs one report, not one per
 * line. Everything outside (the write, the clock, the timer) is injected.
 */

/** One episode of dropped lines. */
export interface DropEpisode {
  lines: number;
  bytes: number;
  /** From the first dropped line to the drain (or to now, when ongoing). */
  ms: number;
  /** The stream has not taken the queue yet: the counts are so far. */
  ongoing: boolean;
}

export interface OutputQueueOptions {
  /**
   * Write a prefix of `bytes` without waiting: the count written, 0 when the
   * stream would block (EAGAIN). Throws when the stream failed (EPIPE...).
   */
  write(bytes: Uint8Array<ArrayBuffer>): number;
  capacityBytes: number;
  /** Monotonic ms. */
  now(): number;
  /** Call `retry` in `ms` (a timer that must not keep the process alive); returns its cancel. */
  later(retry: () => void, ms: number): () => void;
  /** How long to wait before trying a stream that would block again. */
  retryMs: number;
}

/** How long a flush may wait: this long without any byte taken, and this long in all. */
export interface FlushLimits {
  stallMs: number;
  maxMs: number;
  sleep(ms: number): Promise<void>;
}

/** Up to this many queued bytes go out in one write (many short lines, one system call). */
const GATHER_BYTES = 64 * 1024;

const encoder = new TextEncoder();

export class OutputQueue {
  readonly #o: OutputQueueOptions;
  /**
   * One entry per line from `#first` on (an index, not shift(): tens of
   * thousands of short lines may wait); the first may be partly written:
   * `#head` bytes of it are out.
   */
  #lines: Uint8Array<ArrayBuffer>[] = [];
  #first = 0;
  #head = 0;
  #queuedBytes = 0;
  /** The stream failed: every later write throws this. */
  #error: { error: unknown } | null = null;
  #episode: { lines: number; bytes: number; sinceMs: number } | null = null;
  #cancelRetry: (() => void) | null = null;
  #scratch = new Uint8Array(GATHER_BYTES);
  #encoded = new Uint8Array(64 * 1024);
  /** Lines and bytes dropped over the queue's life (the metric). */
  droppedLines = 0;
  droppedBytes = 0;
  /** Hears each episode of drops once it ends (the queue drained). */
  onEpisodeEnd: ((episode: DropEpisode) => void) | null = null;

  constructor(options: OutputQueueOptions) {
    this.#o = options;
  }

  /** Bytes waiting for the stream. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /**
   * Queue `text` and write what the stream takes now. Never waits. Throws
   * what the stream threw (now or on an earlier retry); nothing is written
   * after that.
   */
  write(text: string): void {
    if (this.#error !== null) throw this.#error.error;
    if (text.length === 0) return;
    if (this.#queuedBytes === 0) {
      this.#writeNow(text);
      return;
    }
    const bytes = encoder.encode(text);
    if (this.#queuedBytes + bytes.length > this.#o.capacityBytes) {
      this.#drop(bytes.length);
      return;
    }
    this.#lines.push(bytes);
    this.#queuedBytes += bytes.length;
    // Waiting for a retry already: the stream would block, and the line keeps its place.
    if (this.#cancelRetry !== null) return;
    this.#pumpOrFail();
  }

  /**
   * Try to hand the stream what is queued until it is empty, the stream took
   * nothing for `stallMs`, or `maxMs` passed: true when everything went out.
   * Never throws; a failed stream ends it with false.
   */
  async flush(limits: FlushLimits): Promise<boolean> {
    const start = this.#o.now();
    let progressAt = start;
    // Progress is counted across the sleep: a retry timer may have written meanwhile.
    let before = this.#queuedBytes;
    for (;;) {
      if (this.#error !== null) return false;
      try {
        this.#pumpOrFail();
      } catch {
        return false;
      }
      if (this.#queuedBytes === 0) return true;
      const now = this.#o.now();
      if (this.#queuedBytes < before) progressAt = now;
      before = this.#queuedBytes;
      if (now - progressAt >= limits.stallMs || now - start >= limits.maxMs) return false;
      await limits.sleep(this.#o.retryMs);
    }
  }

  /** The episode under way, ended here (its later drops start a new one); null when none. */
  endEpisode(): DropEpisode | null {
    const e = this.#episode;
    if (e === null) return null;
    this.#episode = null;
    return { lines: e.lines, bytes: e.bytes, ms: this.#o.now() - e.sinceMs, ongoing: true };
  }

  /** Stop retrying; the queued lines stay (a later write or flush tries them again). */
  stop(): void {
    this.#cancelRetry?.();
    this.#cancelRetry = null;
  }

  /**
   * The usual case, nothing waiting: encode into one reused buffer and write
   * from it; only what the stream does not take is copied into the queue (a
   * fresh array per line was external memory that only a major GC gave back).
   */
  #writeNow(text: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 unit.
    if (this.#encoded.length < text.length * 3) this.#encoded = new Uint8Array(text.length * 3);
    const bytes = this.#encoded.subarray(0, encoder.encodeInto(text, this.#encoded).written);
    let written = 0;
    try {
      while (written < bytes.length) {
        const n = this.#o.write(bytes.subarray(written));
        if (n <= 0) break;
        written += n;
      }
    } catch (error) {
      this.#error = { error };
      this.droppedLines++;
      this.droppedBytes += bytes.length - written;
      throw error;
    }
    if (written === bytes.length) return;
    this.#lines.push(bytes.slice(written));
    this.#queuedBytes = bytes.length - written;
    this.#cancelRetry = this.#o.later(() => this.#retry(), this.#o.retryMs);
  }

  #drop(bytes: number): void {
    this.#episode ??= { lines: 0, bytes: 0, sinceMs: this.#o.now() };
    this.#episode.lines++;
    this.#episode.bytes += bytes;
    this.droppedLines++;
    this.droppedBytes += bytes;
  }

  #pumpOrFail(): void {
    try {
      this.#pump();
    } catch (error) {
      // The stream is gone or broken: what waits is lost with it.
      this.#error = { error };
      this.droppedLines += this.#lines.length - this.#first;
      this.droppedBytes += this.#queuedBytes;
      this.#lines = [];
      this.#first = 0;
      this.#head = 0;
      this.#queuedBytes = 0;
      this.stop();
      throw error;
    }
  }

  #pump(): void {
    while (this.#queuedBytes > 0) {
      const n = this.#o.write(this.#nextBytes());
      if (n <= 0) {
        this.#cancelRetry ??= this.#o.later(() => this.#retry(), this.#o.retryMs);
        return;
      }
      this.#consume(n);
    }
    this.stop();
    const e = this.#episode;
    if (e === null) return;
    this.#episode = null;
    // Last, with the queue consistent: the listener may write (an event line) at once.
    this.onEpisodeEnd?.({
      lines: e.lines,
      bytes: e.bytes,
      ms: this.#o.now() - e.sinceMs,
      ongoing: false,
    });
  }

  #retry(): void {
    this.#cancelRetry = null;
    try {
      this.#pumpOrFail();
    } catch {
      // Kept in #error: the next write throws it where its caller can act.
    }
  }

  /** The first line's unwritten bytes, or several short lines gathered into one buffer. */
  #nextBytes(): Uint8Array<ArrayBuffer> {
    const first = this.#lines[this.#first]!.subarray(this.#head);
    if (this.#lines.length === this.#first + 1 || first.length >= GATHER_BYTES) return first;
    let filled = 0;
    for (let i = this.#first; i < this.#lines.length && filled < GATHER_BYTES; i++) {
      const line = i === this.#first ? first : this.#lines[i]!;
      const take = Math.min(line.length, GATHER_BYTES - filled);
      this.#scratch.set(line.subarray(0, take), filled);
      filled += take;
    }
    return this.#scratch.subarray(0, filled);
  }

  #consume(n: number): void {
    this.#queuedBytes -= n;
    while (n > 0) {
      const rest = this.#lines[this.#first]!.length - this.#head;
      if (n < rest) {
        this.#head += n;
        return;
      }
      n -= rest;
      this.#first++;
      this.#head = 0;
    }
    if (this.#first === this.#lines.length) {
      this.#lines = [];
      this.#first = 0;
    } else if (this.#first > 1024 && this.#first * 2 > this.#lines.length) {
      this.#lines = this.#lines.slice(this.#first);
      this.#first = 0;
    }
  }
}

/** `1234 lines (96.4 KiB) in 12.3 s`: an episode's counts as a report says them. */
export function dropCounts(e: DropEpisode): string {
  const lines = `${e.lines} line${e.lines === 1 ? "" : "s"}`;
  return `${lines} (${formatBytes(e.bytes)}) in ${(e.ms / 1000).toFixed(1)} s`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
