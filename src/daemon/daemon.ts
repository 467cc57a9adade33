/**
 * The daemon: its start (`open`: the machine read, the takeover, `-c`), the
 * loop of ticks (`run`, `once`; a round is tick.ts's), the operator's
 * commands (operator.ts), PTL in the background (ptl_feed.ts), and on stop
 * the undo of what it changed (`shutdown`, `await using`). It only ever sees
 * a Host, so it runs the same on the real machine and the simulated one.
 */
import { errorMessage } from "../core/error_message.ts";
import { selectManageable } from "../core/discovery.ts";
import { EventLog, type EventSink } from "../core/events.ts";
import { replicationMask } from "../core/replication_mask.ts";
import type { Snapshot } from "../core/snapshot.ts";
import { processKeyString } from "../core/types.ts";
import { isExcludedName } from "../config.ts";
import type { Config } from "../options.ts";
import { applyLive, type ConfigDiff, diffConfig, reloadMessage } from "../config_reload.ts";
import type { Command, DaemonControl } from "./control.ts";
import type { Host } from "../host.ts";
import { Actuator } from "./actuator.ts";
import { label } from "./managed.ts";
import { MitosisOperations } from "./operations.ts";
import { LatencyState } from "./latency_state.ts";
import { Ownership } from "./ownership.ts";
import { claimOwnership, takeOverOwnership } from "./takeover.ts";
import type { PtlScheduler } from "./ptl.ts";
import { type MachineAtStart, readMachine, startupLines } from "./startup.ts";
import { type LiveMachine, Ticker } from "./tick.ts";
import { operate, type OperatorParts } from "./operator.ts";
import { ptlFeed } from "./ptl_feed.ts";

/** Longest a prctl(100) may take before the process is marked stuck. */
export const PRCTL_DEADLINE_MS = 2000;

export interface DaemonOptions {
  /**
   * The event log to emit into: the daemon command makes it before anything
   * else, so that what happens before the daemon starts is in it too.
   * Default: a new one on the host's clock, writing to `eventSink`.
   */
  events?: EventLog;
  /** Where every event is also written as a JSON line, for a log made here. */
  eventSink?: EventSink | null;
  /** The daemon's own pid, never managed (default: this process). */
  selfPid?: number;
}

export class Daemon implements DaemonControl {
  readonly #host: Host;
  readonly events: EventLog;
  readonly #config: Config;
  readonly #selfPid: number;
  readonly #actuator: Actuator;
  readonly #ownership: Ownership;
  readonly #ptl: PtlScheduler;
  readonly #ops: MitosisOperations;
  /** Root on a Mitosis kernel: the daemon acts; otherwise it only advises. */
  readonly #enforcing: boolean;
  readonly #stop = new AbortController();
  readonly #live: LiveMachine;
  readonly #ticker: Ticker;
  readonly #operatorParts: OperatorParts;
  #shutdown: Promise<string[]> | null = null;
  stopReason: string | null = null;

  private constructor(host: Host, config: Config, options: DaemonOptions, at: MachineAtStart) {
    this.#host = host;
    // The daemon's own copy: a reload changes it in place, and every part reads it.
    config = { ...config, exclude: [...config.exclude] };
    this.#config = config;
    this.#selfPid = options.selfPid ?? Deno.pid;
    this.#live = {
      topology: at.topology,
      mitosis: at.mitosis,
      updateMs: config.updateIntervalMs,
      autoHeld: false,
    };
    this.events = options.events ??
      new EventLog(() => host.clock.wallNow(), options.eventSink ?? null);
    this.#enforcing = at.privileges.root && at.detection.present;
    this.#ownership = new Ownership(
      host.ownership,
      this.#selfPid,
      () => host.clock.wallNow(),
      (kind, message, pid) => this.events.emit(kind, message, pid),
    );
    this.#actuator = new Actuator(
      host,
      this.events,
      PRCTL_DEADLINE_MS,
      this.#ownership,
      () => replicationMask(this.#live.topology),
    );
    this.#ops = new MitosisOperations(host.mitosis, this.events, this.#enforcing, this.#ownership);
    this.#ops.remember(at.mitosis);
    const latency = new LatencyState();
    const parts = {
      host,
      config,
      events: this.events,
      actuator: this.#actuator,
      ownership: this.#ownership,
      latency,
      live: this.#live,
      enforcing: this.#enforcing,
    };
    this.#ptl = ptlFeed(parts);
    this.#ticker = new Ticker({
      ...parts,
      selfPid: this.#selfPid,
      ptl: this.#ptl,
      privileges: at.privileges,
      detection: at.detection,
    });
    this.#operatorParts = {
      ...parts,
      ops: this.#ops,
      ptl: this.#ptl,
      process: (key) => this.#ticker.process(key),
    };
  }

  /**
   * Read the machine once, say in which mode the daemon runs, apply `-c`:
   * a started daemon, which owns `host` from here on (its shutdown closes
   * it). If it cannot start, the host is closed before the error is thrown.
   */
  static async open(host: Host, config: Config, options: DaemonOptions = {}): Promise<Daemon> {
    let at: MachineAtStart;
    try {
      at = await readMachine(host);
    } catch (error) {
      await host.close();
      throw error;
    }
    const daemon = new Daemon(host, config, options, at);
    try {
      // First: a second enforcing waspd refuses before it touches anything
      // (the pins file too), and before it says it enforces.
      const free = daemon.#claim();
      for (const line of startupLines(at, host.counters.status())) {
        daemon.events.emit("info", line.text, null, line.warning ? { severity: "warning" } : {});
      }
      await daemon.#takeOver(free);
      if (daemon.enforcing) {
        const keep = config.keepInherit ? "--keep-inherit" : config.once ? "--once" : null;
        await daemon.#ops.inheritOff(keep);
      }
      if (config.cachePages > 0) await daemon.#ops.populateCache(config.cachePages);
    } catch (error) {
      await daemon.shutdown();
      throw error;
    }
    return daemon;
  }

  /** At start: claim the ownership record (see claimOwnership); throws RecordClaimed. */
  #claim(): boolean {
    return claimOwnership({
      ownership: this.#ownership,
      enforcing: this.enforcing,
      claims: !this.#config.once,
      report: (kind, message, pid) => this.events.emit(kind, message, pid),
    });
  }

  /**
   * At start, `free` being the claim's answer: prune the pins of processes
   * that are gone (only the waspd holding the record writes the state
   * directory), then take over what a previous waspd left on without its
   * undo (adopt it, or turn it off).
   */
  async #takeOver(free: boolean): Promise<void> {
    const host = this.#host;
    const claims = !this.#config.once;
    // Advisory and --once daemons only read the operator's pins file.
    const holdsRecord = free && this.enforcing && claims;
    const { pins, warnings } = holdsRecord ? await host.pins.prune() : await host.pins.read();
    for (const w of warnings) this.events.emit("error", w);
    const active = this.#live.mitosis?.active.filter((a) => a.live).map((a) => a.pid);
    const live = active === undefined ? null : new Set(active);
    await takeOverOwnership({
      ownership: this.#ownership,
      confirm: (key) => host.confirm(key),
      replicated: (pid) => (live === null ? null : live.has(pid)),
      manageable: (p) =>
        selectManageable([p], (name) => isExcludedName(name, this.#config.exclude), this.#selfPid)
          .managed.length === 1,
      pinned: (key) => pins.get(processKeyString(key))?.state ?? null,
      enforcing: this.enforcing,
      claims,
      restoreInherit: (found) => this.#ops.restoreLeft(found),
      restoreMode: (found) => this.#ops.restoreModeLeft(found),
      disable: (target, reason) => this.#actuator.disable(target, reason),
      report: (kind, message, pid) => this.events.emit(kind, message, pid),
      label,
    }, free);
  }

  get enforcing(): boolean {
    return this.#enforcing;
  }

  get stopSignal(): AbortSignal {
    return this.#stop.signal;
  }

  /** Resolves when the kernel calls under way (each bounded by its deadline) are done. */
  settle(): Promise<void> {
    return this.#actuator.settle();
  }

  /** Pids whose prctl 100 overran its deadline (and has not answered since). */
  stuckPids(): number[] {
    return [...this.#actuator.stuck.values()].map((p) => p.target.pid);
  }

  /** Resolves when the PTL measurement under way (if any) has finished. */
  ptlIdle(): Promise<void> {
    return this.#ptl.idle();
  }

  /**
   * Tick once per update interval, handing each snapshot to `onSnapshot`,
   * until `stop()` is called or `signal` aborts (which stops the daemon with
   * the signal's reason). Resolves when the loop has ended; undo is
   * `shutdown`'s job.
   */
  async run(onSnapshot: (snapshot: Snapshot) => void, signal?: AbortSignal): Promise<void> {
    const unlink = this.#stopOn(signal);
    try {
      const clock = this.#host.clock;
      while (!this.#stop.signal.aborted) {
        const started = clock.now();
        onSnapshot(await this.tick());
        const elapsed = clock.now() - started;
        await clock.sleep(Math.max(0, this.#live.updateMs - elapsed), this.#stop.signal);
      }
    } finally {
      unlink();
    }
  }

  /**
   * `--once`: two ticks one update interval apart (rates need a window) with
   * the first PTL measurement finished in between; the second snapshot,
   * carrying the events of both. `signal` cuts the wait short.
   */
  async once(signal?: AbortSignal): Promise<Snapshot> {
    const unlink = this.#stopOn(signal);
    try {
      // A one-shot report measures once, at full accuracy: the budget is for a running daemon.
      this.#ptl.requestNow();
      const first = await this.tick();
      await this.#host.clock.sleep(this.#live.updateMs, this.#stop.signal);
      await this.ptlIdle();
      const second = await this.tick();
      return { ...second, events: [...first.events, ...second.events] };
    } finally {
      unlink();
    }
  }

  /** Stop when `signal` aborts (now, if it already has); returns the unlink. */
  #stopOn(signal: AbortSignal | undefined): () => void {
    if (signal === undefined) return () => {};
    const onAbort = () => this.stop(String(signal.reason ?? "aborted"));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    return () => signal.removeEventListener("abort", onAbort);
  }

  /** One sample-decide-act round; returns the snapshot of it. */
  tick(): Promise<Snapshot> {
    return this.#ticker.tick();
  }

  // ------------------------------------------------------------ DaemonControl

  act(command: Command): void {
    if (command.kind === "stop") this.stop(command.reason);
    else operate(this.#operatorParts, command);
  }

  /**
   * A reloaded configuration: the thresholds, hysteresis, damping, intervals,
   * exclusions and PTL budget take effect from the next tick; what only a
   * restart changes is left as it runs and named as such. Replication this
   * waspd turned on for a process the new exclusions name is turned off
   * (an excluded process is never managed, so nothing else would undo it).
   * One event says what changed; nothing is undone. Returns the difference.
   */
  reconfigure(next: Config, source: string): ConfigDiff {
    const diff = diffConfig(this.#config, next);
    Object.assign(this.#config, applyLive(this.#config, next));
    this.#ticker.exclusionsChanged();
    this.#ptl.reconfigure(this.#config.ptlIntervalMs, {
      cpuFraction: this.#config.ptlCpuPercent / 100,
      memoryBytes: this.#config.ptlMemoryMb * 1024 * 1024,
    });
    this.#live.updateMs = this.#config.updateIntervalMs;
    this.events.emit("info", reloadMessage(source, diff));
    for (const target of this.#ownership.owned()) {
      if (isExcludedName(target.name, this.#config.exclude)) {
        this.#actuator.disable(target, "excluded by the reloaded configuration");
      }
    }
    return diff;
  }

  /** The configuration the daemon runs with now (a reload changes its live settings). */
  get config(): Readonly<Config> {
    return this.#config;
  }

  stop(reason: string): void {
    if (this.stopReason === null) this.stopReason = reason;
    this.#stop.abort();
  }

  /**
   * Undo what the daemon changed: replication it turned on, the mode and
   * inherit values it found; then close the host. Returns one line per thing
   * undone (or left). Safe to call twice: the second call gets the same lines.
   */
  shutdown(): Promise<string[]> {
    this.#shutdown ??= this.#undo();
    return this.#shutdown;
  }

  /** `await using daemon = await Daemon.open(...)`: the undo when the scope ends. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  async #undo(): Promise<string[]> {
    // Each step runs whatever the one before did: a failure is one more line.
    const lines: string[] = [];
    const step = async (what: string, run: () => Promise<void>) => {
      try {
        await run();
      } catch (error) {
        lines.push(`${what} failed: ${errorMessage(error)}`);
      }
    };
    await step("stopping the PTL measurement", () => this.#ptl.stop());
    await step("the undo", async () => void lines.push(...await this.#actuator.undoAll()));
    await step(
      "restoring Mitosis settings",
      async () => void lines.push(...await this.#ops.restore()),
    );
    for (const line of lines) this.events.emit("undo", line);
    this.#ownership.release();
    await step("closing the host", () => this.#host.close());
    return lines;
  }
}
