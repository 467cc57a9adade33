/**
 * The TUI controller: snapshots in, frames out, keys to the daemon
 * as Commands. The logic lives in pure modules (render.ts, state.ts, keys.ts);
 * this file only wires them to a Screen, an input stream and the daemon.
 */
import { errorMessage } from "../core/error_message.ts";
import type { DaemonControl, SnapshotListener } from "../daemon/control.ts";
import type { Snapshot } from "../core/snapshot.ts";
import { decodeInput } from "./keys.ts";
import { ProcessHistory } from "./history.ts";
import { displayedProcesses, layoutFor, renderFrame } from "./render.ts";
import { type Frame, rowOf, type Size, span } from "./render_frame.ts";
import { installRestoreGuards, pumpInput, type Screen } from "./screen.ts";
import { absorbSnapshot, initialUiState, reducePress, type UiState } from "./state.ts";

export type TerminalSupport = { ok: true } | { ok: false; reason: string };

/**
 * Whether the live screen may be used. Escape codes only ever go to a
 * terminal that understands them; otherwise the caller prints the reason
 * (which points at --json) and exits 2.
 */
export function terminalSupport(
  env: { TERM?: string | undefined },
  isTty: boolean,
): TerminalSupport {
  if (!isTty) {
    return {
      ok: false,
      reason: "not a terminal (stdin/stdout redirected): use --json for JSON lines",
    };
  }
  const term = env.TERM ?? "";
  if (term === "" || term === "dumb") {
    return {
      ok: false,
      reason: `TERM=${
        term === "" ? "(unset)" : term
      } cannot show the live screen: use --json for JSON lines`,
    };
  }
  return { ok: true };
}

/** NO_COLOR (https://no-color.org): set and not empty means no colour. */
export function colorEnabled(env: { NO_COLOR?: string | undefined }): boolean {
  return (env.NO_COLOR ?? "") === "";
}

/** Before the first snapshot: one centred line (q still quits). */
function waitingFrame(size: Size): Frame {
  const text = "waspd: waiting for the first snapshot... (q quits)";
  const mid = Math.floor(size.rows / 2);
  const pad = " ".repeat(Math.max(0, Math.floor((size.cols - text.length) / 2)));
  return {
    cols: size.cols,
    rows: Array.from(
      { length: size.rows },
      (_, r) => rowOf(r === mid ? [span(pad + text)] : [], size.cols),
    ),
  };
}

export interface TuiOptions {
  control: DaemonControl;
  /** Register for snapshots; returns the unsubscribe. */
  subscribe(listener: SnapshotListener): () => void;
  screen: Screen;
  input: ReadableStream<Uint8Array>;
  /** Resize notifications (SIGWINCH); omitted in tests. */
  onResize?: (listener: () => void) => () => void;
  color: boolean;
  /** Milliseconds on a monotonic clock (notices age by it). */
  nowMs?: () => number;
  /** Ends the screen from outside (the daemon stopping on a signal). */
  signal?: AbortSignal;
}

/**
 * Run the live screen until the user quits (q, Ctrl-C) or input ends.
 * Resolves with why it ended; the terminal is restored by then. Quitting
 * sends the daemon `stop`: its undo runs after the screen is gone,
 * so its messages land on the user's own terminal.
 */
export async function runTui(opts: TuiOptions): Promise<string> {
  const now = opts.nowMs ?? (() => performance.now());
  const { screen, control } = opts;
  let ui: UiState = initialUiState();
  const history = new ProcessHistory();
  let latest: Snapshot | null = null;
  let shown: Snapshot | null = null;
  const stopped = new AbortController();
  let why = "input closed";

  const redraw = () => {
    if (stopped.signal.aborted) return;
    const size = screen.size();
    screen.draw(
      shown
        ? renderFrame(shown, ui, size, { color: opts.color, history: (p) => history.of(p) })
        : waitingFrame(size),
    );
  };

  const onSnapshot = (s: Snapshot) => {
    latest = s;
    // Kept while paused too: the detail view's minute is the daemon's, not the display's.
    history.record(s);
    ui = absorbSnapshot(ui, s, now());
    if (!ui.paused) shown = s;
    redraw();
  };

  const onBytes = (bytes: Uint8Array) => {
    for (const press of decodeInput(bytes)) {
      const base = shown ?? latest;
      const processes = base ? displayedProcesses(base, ui) : [];
      const pageRows = base ? layoutFor(base, screen.size()).tableRows : 0;
      const wasPaused = ui.paused;
      const result = reducePress(ui, press, {
        processes,
        pageRows,
        updateMs: latest?.daemon?.update_ms ?? null,
        nowMs: now(),
      });
      ui = result.ui;
      if (wasPaused && !ui.paused) shown = latest;
      if (result.command) {
        try {
          control.act(result.command);
        } catch (e) {
          ui = { ...ui, notice: { text: `failed: ${errorMessage(e)}`, atMs: now() } };
        }
        if (result.command.kind === "stop") {
          why = result.command.reason;
          stopped.abort();
          return;
        }
      }
    }
    redraw();
  };

  const onOutsideStop = () => {
    why = "stopped by the daemon";
    stopped.abort();
  };
  if (opts.signal?.aborted) return "stopped by the daemon";
  opts.signal?.addEventListener("abort", onOutsideStop, { once: true });
  screen.enter();
  const removeGuards = installRestoreGuards(screen);
  const unsubscribe = opts.subscribe(onSnapshot);
  const stopResize = opts.onResize?.(() => {
    screen.invalidate();
    redraw();
  });
  try {
    redraw();
    await pumpInput(opts.input, onBytes, stopped.signal);
  } finally {
    unsubscribe();
    stopResize?.();
    opts.signal?.removeEventListener("abort", onOutsideStop);
    screen.restore();
    removeGuards();
  }
  return why;
}
