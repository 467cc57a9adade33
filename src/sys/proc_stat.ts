/**
 * /proc/PID/stat parsed where its bytes lie (the scan's kept read buffer):
 * the numbers waspd uses are read digit by digit and only the comm becomes a
 * string. Cutting the fields out as strings first made about 2 MB of garbage
 * per tick with 2000 processes (V8's sampling heap profile), which is what
 * the daemon's heap grew by between collections.
 */
import { type ProcessInfo, processKeyString } from "../core/types.ts";

/** PF_KTHREAD in the stat flags (include/linux/sched.h). */
export const PF_KTHREAD = 0x00200000;
/** pid of kthreadd: every kernel thread is its child. */
const KTHREADD_PID = 2;
/** x86-64 base page: RSS in stat is counted in these (waspd is x86-64 only). */
const PAGE_KB = 4;

/** The fields of /proc/PID/stat waspd uses. */
export interface ParsedStat {
  pid: number;
  name: string;
  state: string;
  ppid: number;
  flags: number;
  minorFaults: number;
  majorFaults: number;
  threads: number;
  startTime: number;
  rssPages: number;
}

/** Fields numbered from 1 as in proc(5); the comm is field 2. */
const FIELD = {
  state: 3,
  ppid: 4,
  flags: 9,
  minflt: 10,
  majflt: 12,
  numThreads: 20,
  startTime: 22,
  rss: 24,
} as const;
/** The last field waspd reads: the fields after it are never looked at. */
const LAST_FIELD = FIELD.rss;

const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;

/** ASCII whitespace, as the kernel separates stat fields (and as /\s+/ would). */
export function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

function isLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/** The decimal integer (optionally negative) that is all of bytes[start, end); null if it is not one. */
function integerAt(bytes: Uint8Array, start: number, end: number): number | null {
  let i = start;
  const negative = bytes[i] === MINUS;
  if (negative) i++;
  if (i >= end) return null;
  let value = 0;
  for (; i < end; i++) {
    const digit = bytes[i]! - DIGIT_0;
    if (digit < 0 || digit > 9) return null;
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

const decoder = new TextDecoder();

/**
 * Parse the stat text in `bytes[0, length)`. The comm sits between the first
 * "(" and the LAST ")": a name may itself hold spaces, parentheses, newlines
 * or escape bytes, so splitting the whole line on spaces would misread every
 * later field. Returns null when the text is empty, truncated or not numeric
 * where it must be.
 */
export function parseStatBytes(bytes: Uint8Array, length = bytes.length): ParsedStat | null {
  if (length <= 0) return null;
  const open = bytes.indexOf(OPEN_PAREN);
  const close = bytes.lastIndexOf(CLOSE_PAREN, length - 1);
  if (open <= 0 || open >= length || close < open) return null;
  let pidStart = 0;
  let pidEnd = open;
  while (pidStart < pidEnd && isSpace(bytes[pidStart]!)) pidStart++;
  while (pidEnd > pidStart && isSpace(bytes[pidEnd - 1]!)) pidEnd--;
  const pid = bytes[pidStart] === MINUS ? null : integerAt(bytes, pidStart, pidEnd);
  if (pid === null) return null;

  let state: string | null = null;
  let ppid: number | null = null;
  let flags: number | null = null;
  let minorFaults: number | null = null;
  let majorFaults: number | null = null;
  let threads: number | null = null;
  let startTime: number | null = null;
  let rssPages: number | null = null;
  let i = close + 1;
  for (let field = 3; field <= LAST_FIELD; field++) {
    while (i < length && isSpace(bytes[i]!)) i++;
    if (i >= length) return null;
    const start = i;
    while (i < length && !isSpace(bytes[i]!)) i++;
    switch (field) {
      case FIELD.state:
        if (i - start !== 1 || !isLetter(bytes[start]!)) return null;
        state = String.fromCharCode(bytes[start]!);
        break;
      case FIELD.ppid:
        ppid = integerAt(bytes, start, i);
        break;
      case FIELD.flags:
        flags = integerAt(bytes, start, i);
        break;
      case FIELD.minflt:
        minorFaults = integerAt(bytes, start, i);
        break;
      case FIELD.majflt:
        majorFaults = integerAt(bytes, start, i);
        break;
      case FIELD.numThreads:
        threads = integerAt(bytes, start, i);
        break;
      case FIELD.startTime:
        startTime = integerAt(bytes, start, i);
        break;
      case FIELD.rss:
        rssPages = integerAt(bytes, start, i);
        break;
    }
  }
  if (
    state === null || ppid === null || flags === null || minorFaults === null ||
    majorFaults === null || threads === null || startTime === null || rssPages === null
  ) return null;
  return {
    pid,
    name: decoder.decode(bytes.subarray(open + 1, close)),
    state,
    ppid,
    flags,
    minorFaults,
    majorFaults,
    threads,
    startTime,
    rssPages,
  };
}

const encoder = new TextEncoder();

/** {@link parseStatBytes} of a stat text (fixtures, tests). */
export function parseStat(text: string): ParsedStat | null {
  return parseStatBytes(encoder.encode(text));
}

/** A kernel thread: PF_KTHREAD, or kthreadd itself, or one of its children. */
export function isKernelThread(stat: ParsedStat): boolean {
  return (stat.flags & PF_KTHREAD) !== 0 || stat.pid === KTHREADD_PID ||
    stat.ppid === KTHREADD_PID;
}

export function toProcessInfo(stat: ParsedStat, uid: number | null): ProcessInfo {
  return {
    pid: stat.pid,
    startTime: stat.startTime,
    id: processKeyString(stat),
    name: stat.name,
    state: stat.state,
    ppid: stat.ppid,
    uid,
    threads: stat.threads,
    rssKb: Math.max(0, stat.rssPages) * PAGE_KB,
    minorFaults: stat.minorFaults,
    majorFaults: stat.majorFaults,
    kernelThread: isKernelThread(stat),
  };
}
