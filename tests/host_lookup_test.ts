/** Host.process(pid): one process without scanning all of /proc, on both hosts. */
import assert from "node:assert/strict";
import { libc } from "../src/ffi/libc.ts";
import { LinuxHost } from "../src/sys/linux_host.ts";
import { SimHost } from "../src/sim/host.ts";
import { SIM_PIDS } from "../src/sim/workloads.ts";

// The counter source opens libc; doing it here keeps it out of the resource sanitizer.
libc();

Deno.test("LinuxHost.process finds this process and nothing for a free pid", async () => {
  const host = await LinuxHost.open({ procRoot: "/proc", sysRoot: "/sys" });
  try {
    const self = await host.process(Deno.pid);
    assert.equal(self?.pid, Deno.pid);
    assert.equal((await host.confirm(self!))?.startTime, self?.startTime);
    assert.equal(await host.process(4_194_303), null);
  } finally {
    await host.close();
  }
});

Deno.test("SimHost.process finds a live workload and not an exited one", async () => {
  const host = new SimHost({ nodes: 2, seed: 1, manualClock: true });
  try {
    assert.equal((await host.process(SIM_PIDS.stream))?.name, "stream");
    assert.equal(await host.process(SIM_PIDS.burstA), null, "bursts start at 5 s");
  } finally {
    await host.close();
  }
});
