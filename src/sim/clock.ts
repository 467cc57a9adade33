/**
 * Simulated time for the simulated machine. Two modes:
 *
 * - scaled (default): simulated time runs `timeScale` times faster than real
 *   time, so `waspd --sim --time-scale 10` shows ten minutes of workload in one.
 * - manual (tests): time stands still until `advance(ms)` moves it; every
 *   `sleep` whose deadline is passed resolves in deadline order, so a test
 *   runs minutes of simulated daemon loop in milliseconds of real time and
 *   never depends on the speed of the machine it runs on.
 */
import { type Clock, realClock } from "../host.ts";

export interface SimClockOptions {
  /** Simulated ms per real ms (scaled mode). */
  timeScale?: number;
  /** Time moves only through `advance()`. */
  manual?: boolean;
  /** Wall-clock ms of simulated time 0. Manual mode defaults to a fixed epoch (replayable). */
  wallStartMs?: number;
  /** Simulated time to start at (a machine resumed from saved state); default 0. */
  startMs?: number;
}

interface Sleeper {
  deadlineMs: number;
  /** Insertion order: equal deadlines wake first-come first-served. */
  order: number;
  wake: () => void;
}

/** 2026-01-01T00:00:00Z: a fixed wall origin so manual runs replay byte for byte. */
const MANUAL_WALL_EPOCH_MS = Date.UTC(2026, 0, 1);
/** Real ms a woken sleeper may take (I/O) to sleep again before manual time moves on. */
const RESLEEP_GRACE_MS = 100;

export class SimClock implements Clock {
  readonly timeScale: number;
  readonly manual: boolean;
  readonly #wallStartMs: number;
  readonly #realStartMs = performance.now();
  readonly #startMs: number;
  #manualNowMs: number;
  #sleepers: Sleeper[] = [];
  #sleepWatchers: { count: number; resolve: () => void }[] = [];
  #sleepCount = 0;

  constructor(options: SimClockOptions = {}) {
    const scale = options.timeScale ?? 1;
    if (!(Number.isFinite(scale) && scale > 0)) {
      throw new RangeError(`timeScale must be a number > 0, got ${scale}`);
    }
    this.timeScale = scale;
    this.manual = options.manual ?? false;
    this.#startMs = options.startMs ?? 0;
    this.#manualNowMs = this.#startMs;
    this.#wallStartMs = options.wallStartMs ??
      (this.manual ? MANUAL_WALL_EPOCH_MS : Date.now() - this.#startMs);
  }

  now(): number {
    if (this.manual) return this.#manualNowMs;
    return this.#startMs + (performance.now() - this.#realStartMs) * this.timeScale;
  }

  wallNow(): number {
    return this.#wallStartMs + this.now();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.manual) return this.#manualSleep(ms, signal);
    return realClock.sleep(Math.max(0, ms) / this.timeScale, signal);
  }

  /** Sleepers still waiting (manual mode): lets a test see what the loop waits for. */
  get pendingSleeps(): number {
    return this.#sleepers.length;
  }

  /**
   * Manual mode: resolves once at least `count` sleeps are pending, e.g. a
   * daemon loop that has finished its first tick (real I/O included) and
   * sleeps. Call it before `advance()` so no tick is skipped.
   */
  whenSleeping(count = 1): Promise<void> {
    if (this.#sleepers.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#sleepWatchers.push({ count, resolve }));
  }

  /**
   * Manual mode: move time forward by `ms`, waking sleepers one deadline at a
   * time and letting the woken code run before the next deadline, so a loop
   * that sleeps again inside the window is woken again.
   *
   * "Letting it run" is a message-channel turn (tens of µs: microtasks flush,
   * ready events are handled). When the woken code has not gone back to sleep
   * by then (it may be waiting on real I/O, like a daemon tick writing its
   * log), timer turns follow until it sleeps again, for at most
   * RESLEEP_GRACE_MS of real time: so code that never sleeps again (a
   * deadline that fired) costs that grace once, and a daemon loop costs tens
   * of µs per tick.
   */
  async advance(ms: number): Promise<void> {
    if (!this.manual) throw new Error("SimClock.advance() needs a manual clock");
    if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError(`advance(${ms}): need ms >= 0`);
    const targetMs = this.#manualNowMs + ms;
    const turns = new EventTurns();
    try {
      await turns.timer();
      for (;;) {
        const next = this.#earliestSleeper();
        if (next === undefined || next.deadlineMs > targetMs) break;
        const sleepingBefore = this.#sleepers.length;
        this.#manualNowMs = Math.max(this.#manualNowMs, next.deadlineMs);
        this.#sleepers = this.#sleepers.filter((s) => s !== next);
        next.wake();
        await turns.message();
        // Woken code that has not slept again may be in real I/O: give it up to
        // RESLEEP_GRACE_MS of real time (timer turns) before time moves on.
        const graceEnd = performance.now() + RESLEEP_GRACE_MS;
        while (this.#sleepers.length < sleepingBefore && performance.now() < graceEnd) {
          await turns.timer();
        }
      }
      this.#manualNowMs = targetMs;
      await turns.timer();
    } finally {
      turns.close();
    }
  }

  #earliestSleeper(): Sleeper | undefined {
    let best: Sleeper | undefined;
    for (const s of this.#sleepers) {
      if (
        best === undefined || s.deadlineMs < best.deadlineMs ||
        (s.deadlineMs === best.deadlineMs && s.order < best.order)
      ) best = s;
    }
    return best;
  }

  #manualSleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const sleeper: Sleeper = {
        deadlineMs: this.#manualNowMs + Math.max(0, ms),
        order: this.#sleepCount++,
        wake: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        sleeper.wake();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#sleepers.push(sleeper);
      const ready = this.#sleepWatchers.filter((w) => this.#sleepers.length >= w.count);
      this.#sleepWatchers = this.#sleepWatchers.filter((w) => !ready.includes(w));
      for (const watcher of ready) watcher.resolve();
    });
  }
}

/** Ways to let other code run: a fast message turn, or a slower timer turn. */
class EventTurns {
  readonly #channel = new MessageChannel();

  /** One message-channel round trip: microtasks and ready events run first. */
  message(): Promise<void> {
    return new Promise((resolve) => {
      this.#channel.port1.onmessage = () => resolve();
      this.#channel.port2.postMessage(0);
    });
  }

  /** One timer turn (setTimeout 0): also lets quick real I/O complete. */
  timer(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 0));
  }

  /** Ports are resources: close them so nothing outlives `advance()`. */
  close(): void {
    this.#channel.port1.close();
    this.#channel.port2.close();
  }
}
