/**
 * The capability set of deploy/systemd/waspd.service, checked on this
 * kernel: as uid 0 with a bounding set of CAP_PERFMON only (what the unit
 * grants), perf_event_open on another user's thread works; with no
 * capability at all it is refused (EACCES), so the capability is needed and
 * enough. Needs root and setpriv (util-linux); ignored otherwise.
 */
import assert from "node:assert/strict";
import { sleepAsNobody } from "./support/command.ts";

const HELPER = new URL("./support/perf_open.ts", import.meta.url).pathname;

function canRun(): boolean {
  if (Deno.uid() !== 0) return false;
  try {
    return new Deno.Command("setpriv", { args: ["--help"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

async function openAs(bounding: string, pid: number): Promise<string> {
  const out = await new Deno.Command("setpriv", {
    args: [
      `--bounding-set=${bounding}`,
      "--inh-caps=-all",
      Deno.execPath(),
      "run",
      "-A",
      HELPER,
      String(pid),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test({
  name:
    "perf_event_open on another user's process: refused without capabilities, allowed with CAP_PERFMON alone",
  ignore: !canRun(),
  fn: async () => {
    // A process of another user (nobody), alive for the length of the test.
    const target = sleepAsNobody();
    try {
      assert.match(await openAs("-all", target.pid), /^FAIL .*EACCES/);
      assert.equal(await openAs("-all,+perfmon", target.pid), "OK");
    } finally {
      target.kill("SIGKILL");
      await target.status;
    }
  },
});
