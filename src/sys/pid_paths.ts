/**
 * NUL-terminated paths `<root>/<pid><suffix>` (`/proc/1234/stat`) written
 * into one kept buffer: a scan opens thousands of them per tick, and a
 * template string plus its UTF-8 copy per open was garbage for the collector.
 */
import { cString } from "../ffi/libc.ts";

/** Room for the longest pid (2^22 today; 2^32 with room to spare) and any suffix used here. */
const PID_AND_SUFFIX_ROOM = 48;

export class PidPaths {
  readonly #buffer: Uint8Array<ArrayBuffer>;
  /** Where the pid goes: just after `<root>/`. */
  readonly #pidAt: number;

  constructor(root: string) {
    const prefix = cString(`${root}/`);
    this.#pidAt = prefix.length - 1; // without the NUL
    this.#buffer = new Uint8Array(this.#pidAt + PID_AND_SUFFIX_ROOM);
    this.#buffer.set(prefix.subarray(0, this.#pidAt));
  }

  /**
   * `<root>/<pid><suffix>` NUL-terminated, in the kept buffer (valid until the
   * next call). `suffix` is NUL-terminated too (`cString("/stat")`).
   */
  path(pid: number, suffix: Uint8Array): Uint8Array<ArrayBuffer> {
    if (!Number.isSafeInteger(pid) || pid < 0 || pid >= 2 ** 32) {
      throw new RangeError(`pid ${pid} is not a process id`);
    }
    const suffixLength = suffix.indexOf(0) + 1;
    if (suffixLength <= 0 || suffixLength > PID_AND_SUFFIX_ROOM - 10) {
      throw new RangeError("suffix must be NUL-terminated and short");
    }
    let digits = 1;
    for (let rest = pid; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    const at = this.#pidAt + digits;
    for (let rest = pid, i = at - 1; i >= this.#pidAt; i--, rest = Math.floor(rest / 10)) {
      this.#buffer[i] = 0x30 + (rest % 10);
    }
    for (let i = 0; i < suffixLength; i++) this.#buffer[at + i] = suffix[i]!;
    return this.#buffer;
  }
}
