/**
 * `waspd [options]`: run the daemon with one of its three faces (live TUI,
 * JSON lines, or one sample with --once) until q, SIGINT, SIGTERM or SIGHUP;
 * then undo what it changed and say so. A second signal during the undo
 * exits at once.
 */
import type { Config } from "../config.ts";
import { EventLog } from "../core/events.ts";
import type { Snapshot } from "../core/snapshot.ts";
import { Daemon } from "../daemon/daemon.ts";
import type { Host } from "../host.ts";
import { absorbSnapshot, initialUiState } from "../ui/state.ts";
import { frameText, renderFrame } from "../ui/render.ts";
import { denoTerminal, restore as restoreTerminal, Screen } from "../ui/screen.ts";
import { colorEnabled, runTui, terminalSupport } from "../ui/tui.ts";
import type { PinStore } from "../daemon/pin_store.ts";
import { EXIT_USAGE } from "../cli.ts";
import { type DaemonOutputs, openOutputs } from "./outputs.ts";

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export interface DaemonDeps {
  openHost(config: Config): Promise<Host>;
  pins(config: Config): PinStore;
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const SIGNAL_NUMBERS: Record<(typeof SIGNALS)[number], number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGTERM: 15,
};

/** Open the --log file for appending JSON lines; null with a message when it cannot be. */
function openLog(path: string, io: Output): { sink: (line: string) => void; close(): void } | null {
  try {
    const file = Deno.openSync(path, { append: true, create: true });
    const encoder = new TextEncoder();
    return {
      sink: (line) => void file.writeSync(encoder.encode(line + "\n")),
      close: () => file.close(),
    };
  } catch (error) {
    io.err(`waspd: --log ${path}: ${(error as Error).message}\n`);
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
  const log = config.logFile === null ? null : openLog(config.logFile, io);
  if (config.logFile !== null && log === null) return EXIT_USAGE;
  const outputs = openOutputs(config, io, log?.sink ?? null, {
    JOURNAL_STREAM: Deno.env.get("JOURNAL_STREAM"),
  });
  if (outputs === null) {
    log?.close();
    return EXIT_USAGE;
  }

  const host = await deps.openHost(config);
  const daemon = new Daemon({
    host,
    config,
    pins: deps.pins(config),
    events: new EventLog(() => host.clock.wallNow(), outputs.sink),
  });

  let undoing = false;
  const onSignal = (name: (typeof SIGNALS)[number]) => () => {
    if (undoing) {
      io.err(`waspd: second ${name} during the undo: exiting now\n`);
      Deno.exit(128 + SIGNAL_NUMBERS[name]);
    }
    restoreTerminal();
    daemon.stop(name);
  };
  const handlers = SIGNALS.map((name) => [name, onSignal(name)] as const);
  for (const [name, handler] of handlers) Deno.addSignalListener(name, handler);

  let code = 0;
  try {
    await daemon.start();
    if (config.once) code = await runOnce(daemon, config, io);
    else if (config.json) code = await runJsonLines(daemon, io, outputs);
    else if (config.headless) await runHeadless(daemon, outputs);
    else await runLiveScreen(daemon, outputs);
  } finally {
    undoing = true;
    const lines = await daemon.shutdown();
    // Headless, the undo is in the event lines already.
    if (!config.headless) { for (const line of lines) io.err(`waspd: ${line}\n`); }
    for (const [name, handler] of handlers) Deno.removeSignalListener(name, handler);
    await outputs.close();
    log?.close();
  }
  return code;
}

/**
 * Two ticks one update interval apart (rates need a window) with the first
 * PTL measurement finished in between, then one print carrying every event.
 */
async function runOnce(daemon: Daemon, config: Config, io: Output): Promise<number> {
  const first = await daemon.tick();
  await daemon.host.clock.sleep(daemon.updateIntervalMs, daemon.stopSignal);
  await daemon.ptlIdle();
  const second = await daemon.tick();
  const snapshot = { ...second, events: [...first.events, ...second.events] };
  io.out(config.json ? JSON.stringify(snapshot) + "\n" : onceText(snapshot));
  return 0;
}

/** Sleep the rest of the update interval, or until the daemon is stopped. */
function pace(daemon: Daemon, startedMs: number): Promise<void> {
  const elapsed = daemon.host.clock.now() - startedMs;
  return daemon.host.clock.sleep(Math.max(0, daemon.updateIntervalMs - elapsed), daemon.stopSignal);
}

async function runJsonLines(daemon: Daemon, io: Output, outputs: DaemonOutputs): Promise<number> {
  while (!daemon.stopSignal.aborted) {
    const started = daemon.host.clock.now();
    const snapshot = await daemon.tick();
    outputs.onSnapshot(snapshot);
    try {
      io.out(JSON.stringify(snapshot) + "\n");
    } catch (error) {
      // The reader went away (a closed pipe): stop cleanly, undo included.
      daemon.stop(`stdout closed: ${(error as Error).message}`);
      break;
    }
    await pace(daemon, started);
  }
  return 0;
}

/** The events reach stdout through the EventLog's sink; snapshots only feed the metrics. */
async function runHeadless(daemon: Daemon, outputs: DaemonOutputs): Promise<void> {
  while (!daemon.stopSignal.aborted) {
    const started = daemon.host.clock.now();
    outputs.onSnapshot(await daemon.tick());
    await pace(daemon, started);
  }
}

async function runLiveScreen(daemon: Daemon, outputs: DaemonOutputs): Promise<void> {
  const terminal = denoTerminal();
  const listeners = new Set<(s: Snapshot) => void>();
  const loop = (async () => {
    while (!daemon.stopSignal.aborted) {
      const started = daemon.host.clock.now();
      const snapshot = await daemon.tick();
      outputs.onSnapshot(snapshot);
      for (const listener of listeners) listener(snapshot);
      await pace(daemon, started);
    }
  })();
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
