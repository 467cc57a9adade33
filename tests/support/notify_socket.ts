/**
 * The systemd end of sd_notify for tests: a real AF_UNIX datagram socket
 * bound at a path or an abstract name, read without blocking. Its own
 * dlopen (socket, bind, recv): Deno's unix datagram API is unstable, and a
 * test must not lean on the code under test to receive what it sent.
 */
const lib = Deno.dlopen("libc.so.6", {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
});

const MSG_DONTWAIT = 0x40;

export interface NotifySocket {
  /** What to put in NOTIFY_SOCKET. */
  readonly address: string;
  /** Every datagram received so far, in order (reads what is waiting first). */
  messages(): string[];
  close(): void;
}

/** Bind a datagram socket at `path`, or at an abstract name when it starts with "@". */
export function bindNotifySocket(address: string): NotifySocket {
  const fd = lib.symbols.socket(1, 2 | 0o2000000, 0);
  if (fd < 0) throw new Error("socket() failed");
  const name = new TextEncoder().encode(address.startsWith("@") ? address.slice(1) : address);
  const addr = new Uint8Array(2 + 1 + name.length);
  addr[0] = 1; // AF_UNIX, little-endian u16
  addr.set(name, address.startsWith("@") ? 3 : 2);
  if (lib.symbols.bind(fd, addr, addr.length) !== 0) {
    lib.symbols.close(fd);
    throw new Error(`bind(${address}) failed`);
  }
  const received: string[] = [];
  const buf = new Uint8Array(4096);
  const decoder = new TextDecoder();
  return {
    address,
    messages() {
      for (;;) {
        const n = Number(lib.symbols.recv(fd, buf, BigInt(buf.length), MSG_DONTWAIT));
        if (n < 0) break;
        received.push(decoder.decode(buf.subarray(0, n)));
      }
      return received;
    },
    close() {
      lib.symbols.close(fd);
    },
  };
}
