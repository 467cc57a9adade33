/**
 * What the daemon tells its service manager, and when (sd_notify(3) states):
 * READY=1 after the first completed tick (Daemon.open has claimed the
 * ownership record by then), a STATUS= line every tick, WATCHDOG=1 only from
 * a completed tick and at most every half watchdog period, RELOADING=1 then
 * READY=1 around a reload, STOPPING=1 when the undo starts. The sending is
 * the caller's (sys/sd_notify.ts); the clocks are injected.
 */
import type { Snapshot } from "../core/snapshot.ts";

export interface ServiceNotifyOptions {
  send(state: string): void;
  /** Monotonic ms. */
  now(): number;
  /** CLOCK_MONOTONIC in µs (MONOTONIC_USEC= of RELOADING=1). */
  monotonicUsec(): bigint;
  /** Ping period, ms (half of WATCHDOG_USEC), or null without a watchdog. */
  watchdogMs: number | null;
}

/** The one-line STATUS= text: mode, processes replicated, age of the last PTL refresh. */
export function statusLine(snapshot: Snapshot): string {
  const d = snapshot.daemon;
  if (d === null) return "running";
  const ptl = snapshot.ptl === null
    ? d.ptl_error === null ? "PTL not measured yet" : "PTL failed"
    : `PTL refreshed ${formatAge(snapshot.ptl.age_ms)} ago`;
  return `${d.mode}: ${d.replicated} of ${d.tracked} processes replicated; ${ptl}`;
}

function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m} min` : `${Math.round(m / 60)} h`;
}

/** A STATUS= value is one line: systemd shows it verbatim. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ");
}

export class ServiceNotify {
  readonly #o: ServiceNotifyOptions;
  #ready = false;
  #reloading = false;
  #stopping = false;
  #lastPingMs: number | null = null;
  #status: string | null = null;

  constructor(options: ServiceNotifyOptions) {
    this.#o = options;
  }

  /** A tick completed with this snapshot. */
  ticked(snapshot: Snapshot): void {
    if (this.#stopping) return;
    const lines: string[] = [];
    if (!this.#ready) {
      this.#ready = true;
      lines.push("READY=1");
    }
    this.#status = oneLine(statusLine(snapshot));
    lines.push(`STATUS=${this.#status}`);
    const now = this.#o.now();
    const period = this.#o.watchdogMs;
    if (period !== null && (this.#lastPingMs === null || now - this.#lastPingMs >= period)) {
      this.#lastPingMs = now;
      lines.push("WATCHDOG=1");
    }
    this.#o.send(lines.join("\n"));
  }

  /** A reload begins (RELOADING=1 with the monotonic time systemd compares it to). */
  reloading(): void {
    if (this.#stopping) return;
    this.#reloading = true;
    this.#o.send(`RELOADING=1\nMONOTONIC_USEC=${this.#o.monotonicUsec()}`);
  }

  /** The reload is over, applied or refused: the service is ready again (the last STATUS= stays). */
  reloaded(): void {
    if (this.#stopping || !this.#reloading) return;
    this.#reloading = false;
    this.#o.send(this.#status === null ? "READY=1" : `READY=1\nSTATUS=${this.#status}`);
  }

  /** The undo starts; nothing is sent after this. */
  stopping(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#o.send("STOPPING=1");
  }
}
