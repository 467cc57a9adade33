/**
 * `waspd [options]`: run the daemon with one of its three faces (live TUI,
 * JSON lines, or one sample with --once) until q, SIGINT, SIGTERM or SIGHUP;
 * then undo what it changed and say so. A second signal during the undo
 * exits at once.
 */
import type { Config } from "../config.ts";
import type { Snapshot } from "../core/snapshot.ts";
import { Daemon } from "../daemon/daemon.ts";
import type { Host } from "../host.ts";
import { absorbSnapshot, initialUiState } from "../ui/state.ts";
import { frameText, renderFrame } from "../ui/render.ts";
import { denoTerminal, restore as restoreTerminal, Screen } from "../ui/screen.ts";
import { colorEnabled, runTui, terminalSupport } from "../ui/tui.ts";
import { EXIT_USAGE } from "../cli.ts";
import { type DaemonOutputs, openOutputs } from "./outputs.ts";

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export interface DaemonDeps {
  openHost(config: Config): Promise<Host>;
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

  // Listening before the daemon starts: a signal during the start (a `-c`
  // cache top-up) stops it before its first tick, and the undo still runs.
  const stop = new AbortController();
  let undoing = false;
  const onSignal = (name: (typeof SIGNALS)[number]) => () => {
    if (undoing) {
      io.err(`waspd: second ${name} during the undo: exiting now\n`);
      Deno.exit(128 + SIGNAL_NUMBERS[name]);
    }
    restoreTerminal();
    stop.abort(name);
  };
  const handlers = SIGNALS.map((name) => [name, onSignal(name)] as const);
  for (const [name, handler] of handlers) Deno.addSignalListener(name, handler);

  let daemon: Daemon | null = null;
  try {
    daemon = await Daemon.open(host, config, { eventSink: outputs.sink });
    if (config.once) {
      const snapshot = await daemon.once(stop.signal);
      io.out(config.json ? JSON.stringify(snapshot) + "\n" : onceText(snapshot));
    } else if (config.json) await runJsonLines(daemon, io, outputs, stop.signal);
    // Headless, events reach stdout through the event sink; snapshots only feed --metrics.
    else if (config.headless) await daemon.run(outputs.onSnapshot, stop.signal);
    else await runLiveScreen(daemon, outputs, stop.signal);
  } finally {
    undoing = true;
    const lines = daemon === null ? [] : await daemon.shutdown();
    // Headless, the undo is in the event lines already.
    if (!config.headless) { for (const line of lines) io.err(`waspd: ${line}\n`); }
    for (const [name, handler] of handlers) Deno.removeSignalListener(name, handler);
    await outputs.close();
    log?.close();
  }
  return 0;
}

function runJsonLines(
  daemon: Daemon,
  io: Output,
  outputs: DaemonOutputs,
  signal: AbortSignal,
): Promise<void> {
  return daemon.run((snapshot) => {
    outputs.onSnapshot(snapshot);
    try {
      io.out(JSON.stringify(snapshot) + "\n");
    } catch (error) {
      // The reader went away (a closed pipe): stop cleanly, undo included.
      daemon.stop(`stdout closed: ${(error as Error).message}`);
    }
  }, signal);
}

async function runLiveScreen(
  daemon: Daemon,
  outputs: DaemonOutputs,
  signal: AbortSignal,
): Promise<void> {
  const terminal = denoTerminal();
  const listeners = new Set<(s: Snapshot) => void>();
  const loop = daemon.run((snapshot) => {
    outputs.onSnapshot(snapshot);
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
