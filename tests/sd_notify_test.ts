/**
 * sd_notify without libsystemd: the socket address as the kernel reads it,
 * the watchdog period from the environment, real datagrams through our FFI
 * to a real unix socket (a path and an abstract name), and what the daemon
 * says when (READY once, STATUS every tick, WATCHDOG paced, RELOADING with
 * MONOTONIC_USEC then READY, STOPPING last and alone).
 */
import assert from "node:assert/strict";
import { notifyAddress, openNotifySocket, watchdogPingMs } from "../src/sys/sd_notify.ts";
import { ServiceNotify, statusLine } from "../src/daemon/service_notify.ts";
import type { Snapshot } from "../src/core/snapshot.ts";
import { libc } from "../src/ffi/libc.ts";
import { bindNotifySocket } from "./support/notify_socket.ts";

// Opened once for the file, not inside the first test that sends (a leak to the sanitizer).
libc();

Deno.test("notifyAddress: a path keeps its NUL, an abstract name starts with one", () => {
  const path = notifyAddress("/run/systemd/notify");
  assert.ok(path instanceof Uint8Array);
  assert.equal(path.length, 2 + "/run/systemd/notify".length + 1);
  assert.deepEqual([...path.subarray(0, 2)], [1, 0]); // AF_UNIX, little-endian
  assert.equal(new TextDecoder().decode(path.subarray(2, -1)), "/run/systemd/notify");
  assert.equal(path[path.length - 1], 0);
  const abstract = notifyAddress("@sd-notify-x");
  assert.ok(abstract instanceof Uint8Array);
  assert.equal(abstract.length, 2 + 1 + "sd-notify-x".length);
  assert.equal(abstract[2], 0);
  assert.equal(new TextDecoder().decode(abstract.subarray(3)), "sd-notify-x");
});

Deno.test("notifyAddress: what is not a usable address says why", () => {
  assert.match(String(notifyAddress("vsock:2:1")), /neither a path nor an @abstract name/);
  assert.match(String(notifyAddress("@")), /empty or longer/);
  assert.match(String(notifyAddress("/" + "x".repeat(200))), /longer than 107 bytes/);
});

Deno.test("watchdogPingMs: half of WATCHDOG_USEC, for this pid only", () => {
  assert.equal(watchdogPingMs({ WATCHDOG_USEC: "30000000" }, 42), 15_000);
  assert.equal(watchdogPingMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "42" }, 42), 15_000);
  assert.equal(watchdogPingMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "7" }, 42), null);
  assert.equal(watchdogPingMs({}, 42), null);
  assert.equal(watchdogPingMs({ WATCHDOG_USEC: "0" }, 42), null);
  assert.equal(watchdogPingMs({ WATCHDOG_USEC: "soon" }, 42), null);
});

Deno.test("openNotifySocket: nothing at all without NOTIFY_SOCKET", () => {
  const reports: string[] = [];
  assert.equal(openNotifySocket(undefined, (m) => reports.push(m)), null);
  assert.equal(openNotifySocket("", (m) => reports.push(m)), null);
  assert.deepEqual(reports, []);
});

Deno.test("openNotifySocket: a bad NOTIFY_SOCKET is reported once and sends nothing", () => {
  const reports: string[] = [];
  assert.equal(openNotifySocket("relative/path", (m) => reports.push(m)), null);
  assert.equal(reports.length, 1);
  assert.match(reports[0]!, /systemd is told nothing/);
});

for (const kind of ["path", "abstract"] as const) {
  Deno.test(`openNotifySocket: datagrams reach a real unix socket at a ${kind} address`, async () => {
    const dir = await Deno.makeTempDir();
    const address = kind === "path" ? `${dir}/notify` : `@waspd-test-${Deno.pid}-${kind}`;
    const server = bindNotifySocket(address);
    const reports: string[] = [];
    const notifier = openNotifySocket(address, (m) => reports.push(m));
    try {
      assert.ok(notifier !== null);
      assert.equal(notifier.send("READY=1\nSTATUS=up"), true);
      assert.equal(notifier.send("WATCHDOG=1"), true);
      assert.deepEqual(server.messages(), ["READY=1\nSTATUS=up", "WATCHDOG=1"]);
      assert.deepEqual(reports, []);
    } finally {
      notifier?.close();
      server.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("openNotifySocket: a manager that is gone costs a report, once, never a throw", async () => {
  const dir = await Deno.makeTempDir();
  const reports: string[] = [];
  const notifier = openNotifySocket(`${dir}/nobody`, (m) => reports.push(m));
  try {
    assert.ok(notifier !== null);
    assert.equal(notifier.send("STATUS=a"), false);
    assert.equal(notifier.send("STATUS=b"), false);
    assert.equal(reports.length, 1, reports.join("\n"));
    assert.match(reports[0]!, /ENOENT|No such file/);
  } finally {
    notifier?.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openNotifySocket: a manager that does not read never blocks the sender", () => {
  const address = `@waspd-test-${Deno.pid}-full`;
  const server = bindNotifySocket(address);
  const reports: string[] = [];
  const notifier = openNotifySocket(address, (m) => reports.push(m));
  try {
    // The queue holds a few datagrams; the rest fail at once (EAGAIN), not wait.
    const sent = Array.from({ length: 2000 }, (_, i) => notifier!.send(`STATUS=${i}`));
    assert.ok(sent.includes(false), "the queue filled");
    assert.equal(reports.length, 1);
    assert.match(reports[0]!, /EAGAIN|temporarily unavailable/i);
  } finally {
    notifier?.close();
    server.close();
  }
});

Deno.test("libc monotonicUsec is CLOCK_MONOTONIC in µs (rises, microsecond scale)", async () => {
  const a = libc().monotonicUsec();
  await new Promise((r) => setTimeout(r, 20));
  const b = libc().monotonicUsec();
  assert.ok(b - a >= 15_000n && b - a < 5_000_000n, `${b - a}`);
});

function snapshot(replicated: number, ptlAgeMs: number | null): Snapshot {
  return {
    daemon: { mode: "enforcing", replicated, tracked: 9, ptl_error: null },
    ptl: ptlAgeMs === null ? null : { age_ms: ptlAgeMs },
  } as unknown as Snapshot;
}

Deno.test("statusLine: mode, processes replicated, last PTL refresh", () => {
  assert.equal(
    statusLine(snapshot(2, 4200)),
    "enforcing: 2 of 9 processes replicated; PTL refreshed 4 s ago",
  );
  assert.equal(
    statusLine(snapshot(0, null)),
    "enforcing: 0 of 9 processes replicated; PTL not measured yet",
  );
});

function notifyFixture(watchdogMs: number | null) {
  const sent: string[] = [];
  let now = 0;
  const notify = new ServiceNotify({
    send: (s) => void sent.push(s),
    now: () => now,
    monotonicUsec: () => 123_456_789n,
    watchdogMs,
  });
  return { sent, notify, at: (ms: number) => void (now = ms) };
}

Deno.test("ServiceNotify: READY=1 with the first tick only, STATUS= every tick", () => {
  const { sent, notify, at } = notifyFixture(null);
  notify.ticked(snapshot(0, null));
  at(1000);
  notify.ticked(snapshot(1, 500));
  assert.deepEqual(sent, [
    "READY=1\nSTATUS=enforcing: 0 of 9 processes replicated; PTL not measured yet",
    "STATUS=enforcing: 1 of 9 processes replicated; PTL refreshed 1 s ago",
  ]);
  assert.ok(sent.every((s) => !s.includes("WATCHDOG")), "no watchdog asked, none sent");
});

Deno.test("ServiceNotify: WATCHDOG=1 from ticks only, at most once per half period", () => {
  const { sent, notify, at } = notifyFixture(15_000);
  const pings = () => sent.filter((s) => s.includes("WATCHDOG=1")).length;
  for (let t = 0; t <= 40_000; t += 1000) {
    at(t);
    notify.ticked(snapshot(1, 0));
  }
  // t = 0, 15 s, 30 s.
  assert.equal(pings(), 3);
  // No tick, no ping: the time passing alone sends nothing.
  at(100_000);
  assert.equal(pings(), 3);
});

Deno.test("ServiceNotify: RELOADING=1 with MONOTONIC_USEC, then READY=1 with the last status", () => {
  const { sent, notify } = notifyFixture(null);
  notify.ticked(snapshot(2, 0));
  notify.reloading();
  notify.reloaded();
  assert.deepEqual(sent.slice(1), [
    "RELOADING=1\nMONOTONIC_USEC=123456789",
    "READY=1\nSTATUS=enforcing: 2 of 9 processes replicated; PTL refreshed 0 s ago",
  ]);
});

Deno.test("ServiceNotify: STOPPING=1 once, and nothing after it", () => {
  const { sent, notify } = notifyFixture(1000);
  notify.ticked(snapshot(2, 0));
  notify.stopping();
  notify.stopping();
  notify.ticked(snapshot(2, 0));
  notify.reloading();
  notify.reloaded();
  assert.deepEqual(sent.slice(1), ["STOPPING=1"]);
});
