/**
 * The `--headless` face: no screen, no snapshots, one line per event on
 * stdout. Under systemd (JOURNAL_STREAM set: stdout is connected to the
 * journal) each line starts with its sd-daemon priority prefix, so
 * `journalctl -p warning -u waspd` shows errors and warnings only; the
 * journal stamps the time itself. Elsewhere the line starts with the event's
 * time instead. Pure: event in, line out.
 */
import type { EventJson } from "../core/snapshot.ts";
import { sanitizeText } from "./sanitize.ts";

/** sd-daemon(3) priorities: LOG_ERR, LOG_WARNING, LOG_INFO. */
export const SD_ERR = 3;
export const SD_WARNING = 4;
export const SD_INFO = 6;

export type Priority = typeof SD_ERR | typeof SD_WARNING | typeof SD_INFO;

/**
 * `--headless-level`: the lowest priority written, by name. Under a busy
 * machine the info lines (each enable, disable and PTL refresh) are most of
 * what reaches the journal, and journald's rate limit drops lines of any
 * priority once they come too fast; `warning` keeps only what needs a look.
 */
export const HEADLESS_LEVELS = { error: SD_ERR, warning: SD_WARNING, info: SD_INFO } as const;

export type HeadlessLevel = keyof typeof HEADLESS_LEVELS;

/** Errors (failed or stuck calls, unreadable state) are 3, warnings 4, the rest 6. */
export function priorityOf(event: EventJson): Priority {
  if (event.kind === "error") return SD_ERR;
  if (event.severity === "warning") return SD_WARNING;
  return SD_INFO;
}

/** True when stdout goes to the journal (systemd sets JOURNAL_STREAM=DEV:INODE). */
export function journalMode(env: { JOURNAL_STREAM?: string | undefined }): boolean {
  return env.JOURNAL_STREAM !== undefined && env.JOURNAL_STREAM !== "";
}

/**
 * One event as one line (no newline inside: messages may carry a kernel's or
 * a process's text, so control characters are shown escaped).
 */
export function headlessLine(event: EventJson, journal: boolean): string {
  const pid = event.pid === null ? "" : ` pid=${event.pid}`;
  const body = `${event.kind}${pid}: ${sanitizeText(event.message)}`;
  return journal ? `<${priorityOf(event)}>${body}` : `${event.time} ${body}`;
}

/**
 * An EventLog sink that writes each event as one headless line through
 * `write`. The sink runs inside the daemon's own calls, so a stdout that
 * fails (the journal went away) must not throw into them: the first failure
 * goes to `failed` (the daemon command stops the daemon, as --json does) and
 * later lines are dropped. Events of a lower priority than `lowest` (a
 * larger number) are not written.
 */
export function headlessSink(
  write: (text: string) => void,
  journal: boolean,
  failed: (error: unknown) => void,
  lowest: Priority = SD_INFO,
): (line: string, event: EventJson) => void {
  let broken = false;
  return (_line, event) => {
    if (broken || priorityOf(event) > lowest) return;
    try {
      write(headlessLine(event, journal) + "\n");
    } catch (error) {
      broken = true;
      failed(error);
    }
  };
}
