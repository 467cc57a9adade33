/**
 * `waspd [options]`: run the daemon with one of its faces (live TUI, JSON
 * lines, --headless, or one sample with --once) until q, SIGINT, SIGTERM or
 * (on the live screen: a terminal hangup) SIGHUP; then undo what it changed
 * and say so. A duplicate signal (within a second of the first) is ignored; a
 * later one exits at once. Any other way out (a failed write, an unexpected
 * error) also runs the undo first. With --headless and --json, SIGHUP is a
 * reload instead: the configuration file read again, --log reopened, nothing
 * undone. Under systemd, sd_notify tells it how the daemon is doing.
 */
import { errorMessage } from "../core/error_message.ts";
import type { Config } from "../options.ts";
import { type EventExtra, EventLog, type EventSink } from "../core/events.ts";
import type { Snapshot } from "../core/snapshot.ts";
import { Daemon } from "../daemon/daemon.ts";
import { type Host, realClock } from "../host.ts";
import { absorbSnapshot, initialUiState } from "../ui/state.ts";
import { frameText, renderFrame } from "../ui/render.ts";
import { denoTerminal, restore as restoreTerminal, Screen } from "../ui/screen.ts";
import { colorEnabled, runTui, terminalSupport } from "../ui/tui.ts";
import { EXIT_USAGE, type Reloaded } from "../cli.ts";
import { ServiceNotify } from "../daemon/service_notify.ts";
import { type Notifier, openNotifySocket, watchdogPingMs } from "../sys/sd_notify.ts";
import { libc } from "../ffi/libc.ts";
import { judgeSignal } from "../daemon/signals.ts";
import { LOG_RETRY_MS, ResilientLog } from "../daemon/log_sink.ts";
import { LogFile } from "../sys/log_file.ts";
import { dropMessage, type Output, OutputClosed } from "../sys/stdio.ts";
import { sanitizeLine } from "../ui/sanitize.ts";
import { RecordClaimed } from "../daemon/ownership.ts";
import { headlessOutput, metricsOutput } from "./outputs.ts";
import { Reloads } from "./reloads.ts";

export interface DaemonDeps {
  openHost(config: Config): Promise<Host>;
  /** The configuration read again, for a SIGHUP in --headless and --json. */
  reload?: () => Promise<Reloaded>;
  /** Where sd_notify states go; default: `$NOTIFY_SOCKET`, nothing when it is unset. */
  notifier?: Notifier | null;
}

/**
 * The service manager's side: the socket from `$NOTIFY_SOCKET` (taken out of
 * the environment: the prctl helper and other children are not the service)
 * and what is told when; null when there is no manager to tell.
 */
function serviceNotify(
  config: Config,
  deps: DaemonDeps,
  report: (kind: "error" | "info", message: string, extra?: EventExtra) => void,
): { notify: ServiceNotify; notifier: Notifier } | null {
  if (config.once) return null;
  let notifier = deps.notifier;
  if (notifier === undefined) {
    notifier = openNotifySocket(Deno.env.get("NOTIFY_SOCKET"), (m) => report("error", m));
    Deno.env.delete("NOTIFY_SOCKET");
  }
  if (notifier === null) return null;
  const watchdogMs = watchdogPingMs({
    WATCHDOG_USEC: Deno.env.get("WATCHDOG_USEC"),
    WATCHDOG_PID: Deno.env.get("WATCHDOG_PID"),
  }, Deno.pid);
  if (watchdogMs !== null && config.updateIntervalMs >= watchdogMs) {
    report(
      "info",
      `the update interval (${config.updateIntervalMs} ms) is not shorter than half the ` +
        `watchdog period (${watchdogMs * 2} ms): systemd may kill a waspd that is well`,
      { severity: "warning" },
    );
  }
  const sink = notifier;
  const notify = new ServiceNotify({
    send: (state) => void sink.send(state),
    now: () => performance.now(),
    monotonicUsec: () => libc().monotonicUsec(),
    watchdogMs,
  });
  return { notify, notifier: sink };
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const SIGNAL_NUMBERS: Record<(typeof SIGNALS)[number], number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGTERM: 15,
};

/**
 * Open the --log file; null with a message when it cannot be (a bad path at
 * start is a usage error). Once open, a failing write never reaches the loop:
 * `report` hears that logging stopped, and later that it resumed.
 */
function openLog(
  path: string,
  io: Output,
  report: (kind: "stopped" | "resumed", message: string) => void,
): ResilientLog | null {
  const log = new ResilientLog({
    name: path,
    target: new LogFile(path),
    now: () => performance.now(),
    retryMs: LOG_RETRY_MS,
    report,
  });
  try {
    log.open();
    return log;
  } catch (error) {
    io.err(sanitizeLine(`waspd: --log ${path}: ${errorMessage(error)}`));
    return null;
  }
}

/** Plain text of a snapshot for `--once` without --json: the TUI frame, uncoloured. */
export function onceText(snapshot: Snapshot): string {
  const rows = 24 + snapshot.processes.length + (snapshot.ptl?.rows.length ?? 0);
  const ui = absorbSnapshot(initialUiState(), snapshot, Date.parse(snapshot.time));
  const frame = renderFrame(snapshot, ui, { cols: 120, rows }, { color: false });
  // A screen pads to its height with blank rows and ends with the key line; a
  // printed report has no use for either.
  const lines = frameText(frame).map((l) => l.trimEnd()).filter((l) => l !== "");
  return lines.slice(0, -1).join("\n") + "\n";
}

export async function runDaemonCommand(
  config: Config,
  deps: DaemonDeps,
  io: Output,
): Promise<number> {
  const useTui = !config.json && !config.once && !config.headless;
  if (useTui) {
    const support = terminalSupport(
      { TERM: Deno.env.get("TERM") },
      Deno.stdin.isTerminal() && Deno.stdout.isTerminal(),
    );
    if (!support.ok) {
      io.err(`waspd: ${support.reason}\n`);
      return EXIT_USAGE;
    }
  }
  const failures: unknown[] = [];
  if (!await runSession(config, deps, io, failures)) return EXIT_USAGE;
  if (failures.length === 0) return 0;
  const error = failures[0];
  // Not an error of this waspd: another one enforces here (daemon/ownership.ts).
  if (error instanceof RecordClaimed) {
    io.err(sanitizeLine(`waspd: ${error.message}`));
    return EXIT_USAGE;
  }
  const why = errorMessage(error);
  io.err(sanitizeLine(`waspd: stopped by an unexpected error, after the undo: ${why}`));
  return 1;
}

/**
 * The daemon's run as one owned session: each thing is let go of, in the
 * reverse order it was taken, when the session ends however it ends. The
 * event log comes first, so everything after reports into it. Whatever goes
 * wrong, in the loop or in a call it started and did not await, ends the
 * same way: stop, undo, then `failures` holds it (a reader that went away,
 * OutputClosed, is no failure). False when --log cannot be opened.
 */
async function runSession(
  config: Config,
  deps: DaemonDeps,
  io: Output,
  failures: unknown[],
): Promise<boolean> {
  await using session = new AsyncDisposableStack();
  const sinks: EventSink[] = [];
  let host: Host | null = null;
  // Before the host is open its time is the real one, which a simulated clock starts from.
  const events = new EventLog(
    () => (host?.clock ?? realClock).wallNow(),
    (line, event) => sinks.forEach((sink) => sink(line, event)),
  );
  const report = (kind: "error" | "info", message: string, extra: EventExtra = {}) =>
    void events.emit(kind, message, null, extra);

  const stop = new AbortController();
  const fail = (error: unknown) => {
    const closed = error instanceof OutputClosed;
    if (!closed) failures.push(error);
    stop.abort(closed ? error.message : "unexpected error");
  };

  const log = config.logFile === null ? null : openLog(config.logFile, io, (kind, message) => {
    report(kind === "stopped" ? "error" : "info", message);
  });
  if (config.logFile !== null && log === null) return false;
  if (log !== null) {
    session.defer(() => log.close());
    sinks.push((line) => log.write(line));
  }
  // --headless: a stdout that went away stops the daemon like --json's (undo, exit 0).
  let stdoutGone = false;
  const headless = headlessOutput(config, io, {
    JOURNAL_STREAM: Deno.env.get("JOURNAL_STREAM"),
  }, (error) => {
    stdoutGone = true;
    fail(error);
  });
  if (headless !== null) sinks.push(headless);
  // --json and --headless stream for as long as the daemon runs: a reader
  // that stops reading must cost lines (counted), never ticks, scrapes or
  // signals (sys/stdio.ts). The live screen and --once write as they did.
  // Drops still under way are told at the end, while --log is open to record them.
  const streaming = !config.once && (config.json || config.headless);
  if (streaming && io.unblock) {
    session.defer(io.unblock((r) => report("info", dropMessage(r), { severity: "warning" })));
  }
  const metrics = session.use(metricsOutput(config, io, report));
  const service = serviceNotify(config, deps, report);
  if (service !== null) session.defer(() => service.notifier.close());
  const notify = service?.notify ?? null;
  const onSnapshot = (snapshot: Snapshot) => {
    metrics.onSnapshot(snapshot);
    notify?.ticked(snapshot);
  };

  // When stopping began, for whatever reason: a signal within a second of it
  // is the same request (timeout(1) signals the child and then its group),
  // a later one is a deliberate "exit now".
  let stoppingSince: number | null = null;
  const stopping = () => stoppingSince ??= performance.now();
  stop.signal.addEventListener("abort", stopping);
  // SIGHUP reloads where no terminal can hang up: a service, a pipe.
  const reloads = new Reloads({
    read: deps.reload ?? (() => Promise.resolve({ error: "not available" })),
    reopenLog: () => log?.reopen(),
    notify,
    stopping: () => stoppingSince !== null,
  });
  // Listening before the daemon starts: a signal during the start (a `-c`
  // cache top-up) stops it before its first tick, and the undo still runs.
  const onSignal = (name: (typeof SIGNALS)[number]) => () => {
    if (name === "SIGHUP" && streaming && stoppingSince === null) return reloads.request();
    const verdict = judgeSignal(stoppingSince, performance.now(), name);
    if (verdict === "duplicate") return;
    if (verdict === "force") {
      io.err(`waspd: second ${name}: exiting now, the undo is not finished\n`);
      Deno.exit(128 + SIGNAL_NUMBERS[name]);
    }
    restoreTerminal();
    stop.abort(name);
  };
  for (const name of SIGNALS) {
    const handler = onSignal(name);
    Deno.addSignalListener(name, handler);
    session.defer(() => Deno.removeSignalListener(name, handler));
  }
  const onRejection = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    fail(e.reason);
  };
  const onError = (e: ErrorEvent) => {
    e.preventDefault();
    fail(e.error ?? e.message);
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  globalThis.addEventListener("error", onError);
  session.defer(() => {
    globalThis.removeEventListener("unhandledrejection", onRejection);
    globalThis.removeEventListener("error", onError);
  });

  host = await deps.openHost(config);
  // The daemon owns the host from here (Daemon.open closes it if it cannot
  // start). The session's last word on it: STOPPING, then the undo and its lines.
  const opening = Daemon.open(host, config, { events });
  session.defer(async () => {
    notify?.stopping();
    const daemon = await opening.catch(() => null);
    const lines = daemon === null ? [] : await daemon.shutdown();
    // Headless, the undo is in the event lines already (unless stdout went away).
    if (!config.headless || stdoutGone) {
      for (const line of lines) io.err(sanitizeLine(`waspd: ${line}`));
    }
  });
  try {
    const daemon = await opening;
    daemon.stopSignal.addEventListener("abort", stopping);
    reloads.attach(daemon);
    if (config.once) {
      const snapshot = await daemon.once(stop.signal);
      io.out(config.json ? JSON.stringify(snapshot) + "\n" : onceText(snapshot));
    } else if (config.json) await runJsonLines(daemon, io, onSnapshot, stop.signal);
    // Headless, events reach stdout through the event sink; snapshots feed --metrics and systemd.
    else if (config.headless) await daemon.run(onSnapshot, stop.signal);
    else await runLiveScreen(daemon, onSnapshot, stop.signal);
  } catch (error) {
    fail(error);
  }
  return true;
}

function runJsonLines(
  daemon: Daemon,
  io: Output,
  onSnapshot: (snapshot: Snapshot) => void,
  signal: AbortSignal,
): Promise<void> {
  return daemon.run((snapshot) => {
    // A failed write ends the loop; `fail` tells a reader that went away
    // (OutputClosed: undo, exit 0) from any other write error (undo, exit 1).
    io.out(JSON.stringify(snapshot) + "\n");
    onSnapshot(snapshot);
  }, signal);
}

async function runLiveScreen(
  daemon: Daemon,
  onSnapshot: (snapshot: Snapshot) => void,
  signal: AbortSignal,
): Promise<void> {
  const terminal = denoTerminal();
  const listeners = new Set<(s: Snapshot) => void>();
  const loop = daemon.run((snapshot) => {
    onSnapshot(snapshot);
    for (const listener of listeners) listener(snapshot);
  }, signal);
  try {
    await runTui({
      control: daemon,
      subscribe: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      screen: new Screen(terminal.io),
      input: terminal.input,
      onResize: terminal.onResize,
      color: colorEnabled({ NO_COLOR: Deno.env.get("NO_COLOR") }),
      signal: daemon.stopSignal,
    });
  } finally {
    daemon.stop(daemon.stopReason ?? "quit");
    await loop;
  }
}
