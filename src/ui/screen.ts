/**
 * The terminal side of the TUI: take over the screen (alternate screen,
 * hidden cursor, no autowrap, raw input), draw frames by writing only what
 * changed, and give the terminal back on every way out.
 *
 * Everything goes through a `TerminalIo` (a write function, a size and a
 * raw-mode switch), so tests drive a Screen with a string buffer; only
 * `denoTerminal()` touches Deno.stdin/stdout and SIGWINCH.
 */
import {
  ALT_SCREEN_ENTER,
  ALT_SCREEN_LEAVE,
  AUTOWRAP_OFF,
  AUTOWRAP_ON,
  CLEAR_SCREEN,
  CURSOR_HIDE,
  CURSOR_SHOW,
  cursorTo,
  SGR_RESET,
  SYNC_BEGIN,
  SYNC_END,
} from "./ansi.ts";
import { type Cell, type Frame, rowAnsi, type Size, WIDE_TAIL } from "./render_frame.ts";

export interface TerminalIo {
  /** Write all of `text` (synchronously: a restore must be out before exit). */
  write(text: string): void;
  size(): Size;
  setRaw(on: boolean): void;
}

function sameCell(a: Cell | undefined, b: Cell | undefined): boolean {
  return a !== undefined && b !== undefined && a.ch === b.ch && a.style === b.style;
}

/**
 * The bytes that turn the screen showing `prev` into `next`. Per row, one
 * cursor move to the first changed cell and the cells up to the last
 * changed one (cells, not raw strings: no escape is ever cut in half).
 * Each segment starts from and returns to the default style, and at the
 * first column of a wide character, never its second. A different
 * size (or no previous frame) repaints everything. "" when nothing changed.
 */
export function diffFrames(prev: Frame | null, next: Frame): string {
  const full = prev === null || prev.cols !== next.cols || prev.rows.length !== next.rows.length;
  let body = full ? SGR_RESET + CLEAR_SCREEN : "";
  next.rows.forEach((row, r) => {
    if (full) {
      body += cursorTo(r, 0) + rowAnsi(row);
      return;
    }
    const old = prev.rows[r] ?? [];
    let first = -1;
    let last = -1;
    for (let c = 0; c < row.length; c++) {
      if (!sameCell(old[c], row[c])) {
        if (first < 0) first = c;
        last = c;
      }
    }
    if (first < 0) return;
    // The second column of a wide character cannot be written alone: start at its first.
    while (first > 0 && row[first]?.ch === WIDE_TAIL) first--;
    body += cursorTo(r, first) + rowAnsi(row.slice(first, last + 1));
  });
  return body === "" ? "" : SYNC_BEGIN + body + SYNC_END;
}

/** The Screen that restore() gives back; one at a time. */
let activeScreen: Screen | null = null;

export class Screen {
  readonly #io: TerminalIo;
  #shown: Frame | null = null;
  #entered = false;

  constructor(io: TerminalIo) {
    this.#io = io;
  }

  size(): Size {
    return this.#io.size();
  }

  /** Take over the terminal. Raw mode: keys arrive one by one, Ctrl-C as a byte. */
  enter(): void {
    if (this.#entered) return;
    this.#entered = true;
    activeScreen = this;
    this.#io.setRaw(true);
    this.#io.write(ALT_SCREEN_ENTER + CURSOR_HIDE + AUTOWRAP_OFF + CLEAR_SCREEN);
  }

  /** Show `frame`, writing only what differs from the frame on screen. */
  draw(frame: Frame): void {
    if (!this.#entered) return;
    const bytes = diffFrames(this.#shown, frame);
    if (bytes !== "") this.#io.write(bytes);
    this.#shown = frame;
  }

  /** The screen content is unknown (resized, or written by someone else): repaint next time. */
  invalidate(): void {
    this.#shown = null;
  }

  /**
   * Give the terminal back: style reset, autowrap and cursor on, main
   * screen, cooked input. Idempotent, and never throws: it runs on crash
   * paths where a second error would hide the first.
   */
  restore(): void {
    if (!this.#entered) return;
    this.#entered = false;
    this.#shown = null;
    if (activeScreen === this) activeScreen = null;
    try {
      this.#io.write(SYNC_END + SGR_RESET + AUTOWRAP_ON + CURSOR_SHOW + ALT_SCREEN_LEAVE);
    } catch { /* the terminal is gone: nothing left to restore */ }
    try {
      this.#io.setRaw(false);
    } catch { /* stdin closed */ }
  }
}

/**
 * Restore whichever Screen holds the terminal (none: no-op). The daemon
 * calls it from its SIGINT/SIGTERM/SIGHUP handler before undoing its
 * changes, so the user reads the undo messages on their own screen.
 */
export function restore(): void {
  activeScreen?.restore();
}

/**
 * Restore the terminal on an uncaught error, an unhandled rejection and at
 * unload. Listeners do not call preventDefault: Deno still prints the error
 * (now on the main screen, readable) and exits non-zero. Returns the undo.
 */
export function installRestoreGuards(screen: Screen): () => void {
  const onFailure = () => screen.restore();
  const events = ["error", "unhandledrejection", "unload"] as const;
  for (const e of events) globalThis.addEventListener(e, onFailure);
  return () => {
    for (const e of events) globalThis.removeEventListener(e, onFailure);
  };
}

/** Deliver each chunk of `source` until it ends or `signal` aborts. */
export async function pumpInput(
  source: ReadableStream<Uint8Array>,
  onChunk: (bytes: Uint8Array) => void,
  signal: AbortSignal,
): Promise<void> {
  const reader = source.getReader();
  const cancel = () => reader.cancel().catch(() => {});
  signal.addEventListener("abort", cancel, { once: true });
  try {
    while (!signal.aborted) {
      const { value, done } = await reader.read();
      if (done) return;
      if (value) onChunk(value);
    }
  } finally {
    signal.removeEventListener("abort", cancel);
    reader.releaseLock();
  }
}

/** The real terminal: stdout, stdin in raw mode, SIGWINCH. */
export interface DenoTerminal {
  io: TerminalIo;
  input: ReadableStream<Uint8Array>;
  /** Call `listener` on every resize; returns the unsubscribe. */
  onResize(listener: () => void): () => void;
}

const FALLBACK_SIZE: Size = { cols: 80, rows: 24 };

export function denoTerminal(): DenoTerminal {
  const encoder = new TextEncoder();
  return {
    io: {
      write(text) {
        const bytes = encoder.encode(text);
        // writeSync may write less than asked (a full pty buffer): loop.
        for (let off = 0; off < bytes.length;) off += Deno.stdout.writeSync(bytes.subarray(off));
      },
      size() {
        try {
          const { columns, rows } = Deno.consoleSize();
          return { cols: columns, rows };
        } catch {
          return FALLBACK_SIZE;
        }
      },
      setRaw(on) {
        Deno.stdin.setRaw(on);
      },
    },
    input: Deno.stdin.readable,
    onResize(listener) {
      Deno.addSignalListener("SIGWINCH", listener);
      return () => Deno.removeSignalListener("SIGWINCH", listener);
    },
  };
}
