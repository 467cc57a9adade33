/**
 * The Mitosis mode survives a SIGKILL end to end: the real main.ts on the
 * simulated machine kept in a state directory, its live screen in tmux so
 * that `m` goes in as the operator types it. The waspd that toggled the mode
 * is SIGKILLed (no undo runs); `--once` leaves the mode and the record; the
 * next enforcing waspd restores the mode the first one found, says so, and
 * leaves no record at its exit.
 *
 * Needs tmux (Debian's package; .ci/run installs it). Without it the test is
 * reported as ignored, never as passed.
 */
import assert from "node:assert/strict";
import { poll } from "./support/poll.ts";
import { hasTmux, inSession, screenOf, tmux } from "./support/tmux.ts";
import { MAIN, runUntil, runWaspd } from "./support/waspd.ts";

/** How long each step may take: a hang guard, not a speed limit. */
const STEP_MS = 30_000;
const SIM = ["--sim", "--time-scale", "4", "-u", "250", "-i", "600000", "-y", "600000"];

interface Snapshot {
  events: { kind: string; message: string }[];
}

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(Deno.readTextFileSync(path));
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "tmux: m toggles the mode, waspd is SIGKILLed, the next enforcing waspd restores it",
  ignore: !hasTmux(),
  async fn() {
    await inSession(
      "waspd-mode",
      (dir) =>
        `echo $$ > ${dir}/pid; exec '${Deno.execPath()}' run -A '${MAIN}' ${
          SIM.join(" ")
        } --state-dir ${dir}/state`,
      async (session, dir) => {
        const state = `${dir}/state`;
        const kernel = () => readJson(`${state}/sim-kernel.json`);
        const owned = () => readJson(`${state}/owned.json`);
        await poll("the first frame", STEP_MS, async () => {
          const screen = await screenOf(session);
          return /SIMULATED/.test(screen) && /PTL latency/.test(screen) ? screen : null;
        });
        assert.equal(kernel()?.mode, -1, "the simulated kernel starts in mode -1");
        const pid = Number(Deno.readTextFileSync(`${dir}/pid`).trim());

        await tmux("send-keys", "-t", session, "m");
        await poll("the mode set to 1", STEP_MS, () => kernel()?.mode === 1 ? true : null);
        assert.equal(owned()?.mode_found, -1, "the mode found is on record");
        assert.equal(owned()?.owner_pid, pid);

        Deno.kill(pid, "SIGKILL");
        await poll("the first waspd to die", STEP_MS, () => alive(pid) ? null : true);
        assert.equal(kernel()?.mode, 1, "killed: no undo ran");
        assert.equal(owned()?.mode_found, -1, "left on record");

        const once = await runWaspd([...SIM, "--json", "--once", "--state-dir", state]);
        assert.equal(once.code, 0, once.stderr);
        assert.equal(kernel()?.mode, 1, "--once leaves the mode");
        assert.equal(owned()?.mode_found, -1, "and the record");

        const next = await runUntil<Snapshot>(
          [...SIM, "--json", "--state-dir", state],
          () => true,
          "SIGTERM",
        );
        assert.equal(next.code, 0, next.stderr);
        const said = next.snapshots.flatMap((s) => s.events)
          .filter((e) => e.message.startsWith("ownership: /proc/mitosis/mode"));
        assert.deepEqual(said, [{
          ...said[0],
          kind: "mode",
          message: "ownership: /proc/mitosis/mode restored to -1 " +
            `(changed by waspd pid ${pid}, which exited without its undo)`,
        }]);
        assert.equal(kernel()?.mode, -1, "restored");
        assert.equal(owned(), null, "a clean exit leaves no record");
      },
    );
  },
});
