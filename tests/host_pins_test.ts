/**
 * Pins belong to the Host: the real host keeps them in the shared pins file
 * (what `waspd enable` and a running daemon agree on), the simulated one in
 * memory, never touching the real file.
 */
import assert from "node:assert/strict";
import { pinOf } from "../src/core/pins.ts";
import { libc } from "../src/ffi/libc.ts";
import { SimHost } from "../src/sim/host.ts";
import { LinuxHost } from "../src/sys/linux_host.ts";
import { DEFAULT_PINS_PATH, readPins } from "../src/sys/pins.ts";

// The counter source opens libc; doing it here keeps it out of the resource sanitizer.
libc();

const KEY = { pid: 10, startTime: 1 };

Deno.test("LinuxHost: pins in the shared file, /run/waspd/pins.json unless told otherwise", async () => {
  const dir = await Deno.makeTempDir({ prefix: "waspd-host-pins-" });
  const path = `${dir}/pins.json`;
  const host = await LinuxHost.open({ procRoot: "/proc", sysRoot: "/sys", stateDir: dir });
  const standard = await LinuxHost.open({ procRoot: "/proc", sysRoot: "/sys" });
  try {
    assert.equal(standard.pins.where, DEFAULT_PINS_PATH);
    assert.equal(host.pins.shared, true);
    assert.deepEqual(await host.pins.set(KEY, "on", Date.UTC(2026, 0, 1)), []);
    assert.equal(pinOf((await readPins(path)).pins, KEY), "on");
    assert.equal(pinOf((await host.pins.read()).pins, KEY), "on");
    await host.pins.set(KEY, null, 0);
    assert.equal((await readPins(path)).pins.size, 0);
  } finally {
    await host.close();
    await standard.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SimHost: pins in memory, not shared, one set per machine", async () => {
  const host = new SimHost({ nodes: 2, seed: 1, manualClock: true });
  const other = new SimHost({ nodes: 2, seed: 1, manualClock: true });
  try {
    assert.equal(host.pins.shared, false);
    await host.pins.set(KEY, "off", 0);
    assert.equal(pinOf((await host.pins.read()).pins, KEY), "off");
    assert.equal((await other.pins.read()).pins.size, 0);
  } finally {
    await host.close();
    await other.close();
  }
});
