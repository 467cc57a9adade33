/**
 * SIGHUP as a reload (--headless and --json): one at a time, SIGHUPs during
 * one make one more after it, and a SIGHUP before the daemon has started
 * is carried out once it has. Each reload reopens --log first (so the
 * reload's own event is in the new file), reads the configuration again and
 * hands it to the daemon, telling the service manager RELOADING then READY.
 */
import { errorMessage } from "../core/error_message.ts";
import type { Reloaded } from "../cli.ts";
import type { Daemon } from "../daemon/daemon.ts";
import type { ServiceNotify } from "../daemon/service_notify.ts";

export interface ReloadParts {
  /** The configuration read again. */
  read: () => Promise<Reloaded>;
  /** Reopen the --log file, if there is one. */
  reopenLog: () => void;
  notify: ServiceNotify | null;
  /** True once the daemon is stopping: a reload asked for meanwhile is dropped. */
  stopping: () => boolean;
}

export class Reloads {
  readonly #p: ReloadParts;
  #daemon: Daemon | null = null;
  #running = false;
  #again = false;

  constructor(parts: ReloadParts) {
    this.#p = parts;
  }

  /** The daemon to reload, once started; a reload asked for before runs now. */
  attach(daemon: Daemon): void {
    this.#daemon = daemon;
    if (this.#again) this.request();
  }

  /** A SIGHUP: reload now, or after the reload under way (or the start). */
  request(): void {
    const daemon = this.#daemon;
    if (daemon === null || this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    void (async () => {
      do {
        this.#again = false;
        await this.#once(daemon);
      } while (this.#again && !this.#p.stopping());
      this.#running = false;
    })();
  }

  async #once(daemon: Daemon): Promise<void> {
    const { notify } = this.#p;
    notify?.reloading();
    try {
      this.#p.reopenLog();
      const result = await this.#p.read();
      if ("error" in result) {
        daemon.events.emit(
          "error",
          `reload refused, the running configuration stays: ${result.error}`,
        );
      } else daemon.reconfigure(result.config, result.source);
    } catch (error) {
      daemon.events.emit(
        "error",
        `reload failed, the running configuration stays: ${errorMessage(error)}`,
      );
    }
    notify?.reloaded();
  }
}
