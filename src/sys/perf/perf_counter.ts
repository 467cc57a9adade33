/**
 * One perf event counting on one thread: the fd perf_event_open returned,
 * owned. Closed once, by close() or by `using`; while open it is one of the
 * live owners its FdLedger counts, so the fd budget is the set of counters
 * that exist, not a number kept by hand next to them.
 *
 * Use: `using counter = PerfCounter.open(event, tid, ledger)` for a scoped
 * count, or keep it (LinuxCounterSource does, per thread) and close() it.
 */
import { libc } from "../../ffi/libc.ts";
import { OwnedFd } from "../../ffi/owned.ts";
import { encodeAttr, parseRead, PERF_FLAG_FD_CLOEXEC, READ_BYTES } from "./attr.ts";
import type { RawCount } from "./attr.ts";
import type { EventSpec } from "./events.ts";
import type { FdLedger } from "./fd_budget.ts";

export class PerfCounter implements Disposable {
  readonly #fd: OwnedFd;
  readonly #ledger: FdLedger | null;

  private constructor(fd: OwnedFd, ledger: FdLedger | null) {
    this.#fd = fd;
    this.#ledger = ledger;
    ledger?.hold(this);
  }

  /**
   * Open `event` on thread `tid` (0 = the calling thread), counting at once;
   * held in `ledger` (if given) until closed. Throws SyscallError on refusal.
   */
  static open(event: EventSpec, tid: number, ledger: FdLedger | null = null): PerfCounter {
    const attr = encodeAttr({ type: event.type, config: event.config });
    const fd = libc().perfEventOpen(attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
    return new PerfCounter(new OwnedFd(fd), ledger);
  }

  get closed(): boolean {
    return this.#fd.closed;
  }

  /** read(2) the count; null when the read came back short. Throws once closed. */
  read(): RawCount | null {
    const buf = new Uint8Array(READ_BYTES);
    const n = this.#fd.read(buf);
    return parseRead(buf, n);
  }

  /** Close the fd and leave the ledger, once; a failing close(2) is ignored (the fd is gone). */
  close(): void {
    if (this.#fd.closed) return;
    this.#ledger?.release(this);
    this.#fd[Symbol.dispose]();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
