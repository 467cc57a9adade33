/**
 * A waspd to be SIGKILLed (mode_kill_test.ts): an enforcing Daemon on the
 * simulated machine kept in the state directory given as its argument. It
 * ticks until it owns a replication, toggles the mode as the `m` key does,
 * prints one JSON line (what owned.json and the kernel say then) once both
 * are on record, and waits to be killed: no undo ever runs.
 */
import { defaultConfig } from "../../src/options.ts";
import { Daemon } from "../../src/daemon/daemon.ts";
import { SimHost } from "../../src/sim/host.ts";
import { OWNED_FILE_NAME } from "../../src/sys/ownership_file.ts";

/** Simulated seconds to reach both states: a hang guard, the stream is replicated within ~10. */
const LIMIT_S = 120;

const dir = Deno.args[0];
if (dir === undefined) throw new Error("usage: mode_then_kill.ts STATE_DIR");

function owned(): { mode_found?: number; entries: { pid: number; state: string }[] } | null {
  try {
    return JSON.parse(Deno.readTextFileSync(`${dir}/${OWNED_FILE_NAME}`));
  } catch {
    return null;
  }
}

const host = new SimHost({ nodes: 4, seed: 3, manualClock: true, stateDir: dir });
const daemon = await Daemon.open(host, { ...defaultConfig(), simNodes: 4, hysteresisMs: 3000 });
let toggled = false;
let ready = false;
for (let s = 0; s < LIMIT_S && !ready; s++) {
  await daemon.tick();
  await host.advance(1000);
  await daemon.settle();
  const record = owned();
  if (!toggled && record?.entries.some((e) => e.state === "on")) {
    daemon.act({ kind: "toggleMode" });
    toggled = true;
  }
  if (record?.mode_found !== undefined && host.kernel.mode !== record.mode_found) {
    console.log(JSON.stringify({ owned: record, mode: host.kernel.mode }));
    ready = true;
  }
}
if (!ready) {
  throw new Error(`no replication and changed mode on record in ${LIMIT_S} simulated seconds`);
}
// Kept alive until the SIGKILL.
setInterval(() => {}, 60_000);
