/**
 * The sliver of HTTP/1.1 the /metrics server speaks: find the end of a
 * request head, read its request line, and write a whole response. Header
 * fields are never interpreted: every response closes its connection, so
 * `connection`, `keep-alive` and `upgrade` change nothing, and no body is
 * ever read. Pure.
 */

export type RequestHead =
  | { kind: "request"; method: string; path: string }
  /** HTTP/2 (the h2c preface `PRI * HTTP/2.0`) or any other version: closed without a reply. */
  | { kind: "other-version" }
  | { kind: "bad" };

const LF = 0x0a;
const CR = 0x0d;

/**
 * The length of the request head in `bytes` up to and including its blank
 * line (CRLF CRLF, or a bare LF LF as lenient servers accept), or -1 while it
 * has not ended. `from` lets a caller skip what it searched before.
 */
export function headLength(bytes: Uint8Array, from = 0): number {
  for (let i = Math.max(0, from); i < bytes.length; i++) {
    if (bytes[i] !== LF) continue;
    const next = bytes[i + 1];
    if (next === LF) return i + 2;
    if (next === CR && bytes[i + 2] === LF) return i + 3;
  }
  return -1;
}

const REQUEST_LINE = /^([A-Z]{1,16}) (\S{1,4096}) HTTP\/(\d)\.(\d)$/;
const FIELD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:/;

/** Read a complete head (as latin1 text, see `headText`). */
export function parseHead(head: string): RequestHead {
  const lines = head.split(/\r?\n/);
  const match = REQUEST_LINE.exec(lines[0] ?? "");
  if (match === null) return { kind: "bad" };
  const [, method = "", target = "", major, minor] = match as unknown as string[];
  if (major !== "1" || (minor !== "0" && minor !== "1")) return { kind: "other-version" };
  // The lines after the request line up to the blank one must be fields.
  for (const line of lines.slice(1)) {
    if (line !== "" && !FIELD.test(line)) return { kind: "bad" };
  }
  const path = targetPath(target);
  return path === null ? { kind: "bad" } : { kind: "request", method, path };
}

/** The path of an origin-form (`/metrics?x`) or absolute-form (`http://h/metrics`) target. */
function targetPath(target: string): string | null {
  try {
    if (target.startsWith("/")) return new URL(`http://host${target}`).pathname;
    const url = new URL(target);
    return url.protocol === "http:" || url.protocol === "https:" ? url.pathname : null;
  } catch {
    return null;
  }
}

/** The head's bytes as text, one character per byte (a head is ASCII; anything else fails parsing). */
export function headText(bytes: Uint8Array): string {
  return new TextDecoder("latin1").decode(bytes);
}

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  431: "Request Header Fields Too Large",
  503: "Service Unavailable",
};

export interface Reply {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: Uint8Array;
  /** HEAD: the headers describe `body`, which is not sent. */
  omitBody?: boolean;
}

const encoder = new TextEncoder();

/** The whole response, status line to body, with `content-length` and `connection: close`. */
export function replyBytes(reply: Reply): Uint8Array<ArrayBuffer> {
  const fields = {
    ...reply.headers,
    "content-length": String(reply.body.length),
    connection: "close",
  };
  const head = `HTTP/1.1 ${reply.status} ${REASONS[reply.status] ?? "Status"}\r\n` +
    Object.entries(fields).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";
  const headBytes = encoder.encode(head);
  if (reply.omitBody) return headBytes;
  const out = new Uint8Array(headBytes.length + reply.body.length);
  out.set(headBytes);
  out.set(reply.body, headBytes.length);
  return out;
}
