/**
 * sd_notify(3) without libsystemd: one datagram per message to the unix
 * socket systemd names in `$NOTIFY_SOCKET` ("/run/systemd/notify", or
 * "@name" for an abstract one), sent through our own libc FFI. Without the
 * variable nothing is opened and nothing is sent (`openNotifySocket` returns
 * null). A send never waits: the unix datagram queue holds a few messages
 * only (net.unix.max_dgram_qlen), and a manager that does not read them must
 * cost a STATUS= line, not the daemon's loop. The watchdog period comes from `$WATCHDOG_USEC` (and
 * `$WATCHDOG_PID`, when systemd says whom it means).
 */
import { errorMessage } from "../core/error_message.ts";
import {
  AF_UNIX,
  libc,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
} from "../ffi/libc.ts";

/** sizeof(struct sockaddr_un): a u16 family, then 108 bytes of sun_path. */
const SUN_PATH_BYTES = 108;

const encoder = new TextEncoder();

/**
 * The `struct sockaddr_un` for `$NOTIFY_SOCKET`, cut to the address length
 * the kernel is to read: a path with its NUL, an abstract name ("@" becomes
 * the leading NUL) without one. A string saying why when it cannot be used.
 */
export function notifyAddress(value: string): Uint8Array<ArrayBuffer> | string {
  const abstract = value.startsWith("@");
  if (!abstract && !value.startsWith("/")) {
    return `NOTIFY_SOCKET=${value}: neither a path nor an @abstract name`;
  }
  const name = encoder.encode(abstract ? value.slice(1) : value);
  // A path needs room for its NUL, an abstract name for the NUL before it.
  const room = SUN_PATH_BYTES - 1;
  if (name.length === 0 || name.length > room) {
    return `NOTIFY_SOCKET=${value}: the address is empty or longer than ${room} bytes`;
  }
  if (!abstract && name.includes(0)) return `NOTIFY_SOCKET: the path holds a NUL byte`;
  const length = 2 + 1 + name.length; // family, then NUL+name (abstract) or name+NUL (path)
  const addr = new Uint8Array(length);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(name, abstract ? 3 : 2);
  return addr;
}

/**
 * How often to tell the watchdog we live, ms: half of `$WATCHDOG_USEC` (as
 * sd_watchdog_enabled(3) advises), or null when no watchdog is asked of this
 * process (unset, not a positive number, or `$WATCHDOG_PID` names another).
 */
export function watchdogPingMs(
  env: { WATCHDOG_USEC?: string | undefined; WATCHDOG_PID?: string | undefined },
  pid: number,
): number | null {
  const usec = env.WATCHDOG_USEC;
  if (usec === undefined || !/^[1-9]\d*$/.test(usec)) return null;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== String(pid)) return null;
  return Number(usec) / 1000 / 2;
}

/** What sends one notification (the socket, or a fake in tests). */
export interface Notifier {
  /** Send `state` ("READY=1\nSTATUS=..."); false when it could not be sent. */
  send(state: string): boolean;
  close(): void;
}

/**
 * A datagram socket to `$NOTIFY_SOCKET`, or null when the variable is unset
 * or empty. A value that cannot be used is reported once and sends nothing;
 * so is the first failed send of a run of failures (systemd restarting, say).
 */
export function openNotifySocket(
  value: string | undefined,
  report: (message: string) => void,
): Notifier | null {
  if (value === undefined || value === "") return null;
  const addr = notifyAddress(value);
  if (typeof addr === "string") {
    report(`sd_notify: ${addr}; systemd is told nothing`);
    return null;
  }
  let fd: number;
  try {
    fd = libc().socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC);
  } catch (error) {
    report(`sd_notify: ${errorMessage(error)}; systemd is told nothing`);
    return null;
  }
  let failing = false;
  return {
    send(state: string): boolean {
      if (fd < 0) return false;
      try {
        libc().sendto(fd, encoder.encode(state), MSG_DONTWAIT | MSG_NOSIGNAL, addr);
        failing = false;
        return true;
      } catch (error) {
        if (!failing) report(`sd_notify to ${value}: ${errorMessage(error)}`);
        failing = true;
        return false;
      }
    },
    close(): void {
      if (fd < 0) return;
      try {
        libc().close(fd);
      } catch {
        // Nothing to do about a failed close of a datagram socket.
      }
      fd = -1;
    },
  };
}
