/**
 * The 60 s churn soak (issue 13), run by `deno task soak` and by .ci/run.
 *
 * waspd runs on this host (--json, a tick every 200 ms) while processes and
 * threads start and die around it (churn.ts, ~50 forks/s and ~25 threads/s)
 * and its pins file is rewritten under it four times a second (atomically,
 * as waspd's own writer does, naming processes that are alive and some that
 * are gone). It must end with no error event, every tick delivered, exit 0
 * on SIGTERM, and no growth of RSS or open fds from the 10th to the 60th
 * second.
 *
 * "No growth", measured as floors: RSS and fds are sampled every 250 ms and
 * each window (8-12 s, 56-60 s) is summarised by its minimum. A leak raises
 * the floor; garbage not yet collected and a /proc file open mid-tick only
 * raise the peaks. fds: the floor at 60 s may not exceed the floor at 10 s.
 * RSS: the floor at 60 s may exceed the one at 10 s by at most 8 MiB. V8's
 * old generation settles in steps after a major GC and the malloc arenas of
 * the runtime's threads grow on first use, which shows as a few MiB between
 * runs; a leak the churn could feed (per process, per thread, per event,
 * per pins write) would grow by the number of those: 50 s of churn is
 * ~2500 processes, ~1250 threads, 250 ticks and 200 pins writes, so 8 MiB
 * still catches a leak of ~3 KiB per process.
 */
import assert from "node:assert/strict";
import { jsonLines, startWaspd } from "../support/waspd.ts";

const CHURN = new URL("./churn.ts", import.meta.url).pathname;
const SOAK_MS = Number(Deno.env.get("WASPD_SOAK_MS") ?? 60_000);
const RSS_TOLERANCE_KB = 8 * 1024;

interface Sample {
  atMs: number;
  rssKb: number;
  fds: number;
}

function sampleOf(pid: number, atMs: number): Sample | null {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const rssKb = Number(status.match(/^VmRSS:\s+(\d+) kB/m)?.[1]);
    let fds = 0;
    for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) fds++;
    return Number.isFinite(rssKb) ? { atMs, rssKb, fds } : null;
  } catch {
    return null; // gone
  }
}

/** Floors (minimum) of RSS and fds over samples in [from, to) ms. */
function floors(samples: readonly Sample[], fromMs: number, toMs: number) {
  const inWindow = samples.filter((s) => s.atMs >= fromMs && s.atMs < toMs);
  assert.ok(inWindow.length >= 4, `samples between ${fromMs} and ${toMs} ms`);
  return {
    rssKb: Math.min(...inWindow.map((s) => s.rssKb)),
    fds: Math.min(...inWindow.map((s) => s.fds)),
    peakRssKb: Math.max(...inWindow.map((s) => s.rssKb)),
    peakFds: Math.max(...inWindow.map((s) => s.fds)),
  };
}

interface ProcessRow {
  pid: number;
  start_time: number;
}

/**
 * Replace the pins file as another waspd (`waspd disable PID`) would: the
 * documented format, written to a temporary file and renamed over it. Written
 * here rather than through waspd's own module, so the soak is an outside writer.
 */
async function writePinsFile(path: string, rows: readonly ProcessRow[]): Promise<void> {
  const since = new Date().toISOString();
  const pins = rows.map((p, i) => ({
    pid: p.pid,
    start_time: p.start_time,
    state: i % 2 === 0 ? "on" : "off",
    since,
  }));
  const temp = `${path}.soak.tmp`;
  await Deno.writeTextFile(temp, JSON.stringify({ version: 1, pins }, null, 2) + "\n");
  await Deno.rename(temp, path);
}

Deno.test({
  name: `churn soak: ${SOAK_MS / 1000} s of forks, threads and pins rewrites; no error, no growth`,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const stateDir = await Deno.makeTempDir({ prefix: "waspd-soak-" });
    const pinsPath = `${stateDir}/pins.json`;
    const deadline = AbortSignal.timeout(SOAK_MS + 60_000);
    const churn = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CHURN, String(SOAK_MS + 5_000)],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
      signal: deadline,
    }).spawn();
    const daemon = startWaspd(
      ["--json", "-u", "200", "-i", "600000", "--state-dir", stateDir],
      // as `deno task run` starts it
      { denoFlags: ["--v8-flags=--max-semi-space-size=2"], signal: deadline },
    );
    const started = performance.now();
    const stderr = new Response(daemon.stderr).text();

    // Read snapshots as they come: errors, ticks, and live processes for the pins.
    const errors: string[] = [];
    let ticks = 0;
    let live: ProcessRow[] = [];
    const reading = (async () => {
      type Snapshot = { processes: ProcessRow[]; events: { kind: string; message: string }[] };
      for await (const s of jsonLines<Snapshot>(daemon.stdout)) {
        ticks++;
        live = s.processes;
        for (const e of s.events) if (e.kind === "error") errors.push(e.message);
      }
    })();

    const samples: Sample[] = [];
    let pinWrites = 0;
    let gone: ProcessRow[] = [];
    const end = started + SOAK_MS;
    let nextPins = performance.now();
    while (performance.now() < end) {
      const now = performance.now();
      const s = sampleOf(daemon.pid, now - started);
      if (s) samples.push(s);
      if (now >= nextPins) {
        nextPins = now + 250;
        // A few live processes and a few that are gone by now, pinned on or off.
        await writePinsFile(pinsPath, [...live.slice(0, 3), ...gone.slice(0, 2)]);
        gone = live.slice(3, 6);
        pinWrites++;
      }
      await new Promise((r) => setTimeout(r, 250));
    }

    daemon.kill("SIGTERM");
    const status = await daemon.status;
    await reading;
    const churnOut = await new Response(churn.stdout).text();
    await churn.status;
    await Deno.remove(stateDir, { recursive: true });

    const at10 = floors(samples, 8_000, 12_000);
    const at60 = floors(samples, SOAK_MS - 4_000, SOAK_MS);
    const report = {
      soak_s: SOAK_MS / 1000,
      ticks,
      pin_writes: pinWrites,
      churn: churnOut.trim(),
      rss_kb_10s: at10.rssKb,
      rss_kb_60s: at60.rssKb,
      rss_peak_kb_10s: at10.peakRssKb,
      rss_peak_kb_60s: at60.peakRssKb,
      fds_10s: at10.fds,
      fds_60s: at60.fds,
      fds_peak_10s: at10.peakFds,
      fds_peak_60s: at60.peakFds,
    };
    console.log(`soak: ${JSON.stringify(report)}`);

    const err = await stderr;
    assert.equal(status.code, 0, err);
    assert.deepEqual(errors, [], "no error events");
    // One tick per 200 ms, less what start-up and slow ticks take.
    assert.ok(ticks >= (SOAK_MS / 200) * 0.5, `ticks: ${ticks}`);
    assert.ok(at60.fds <= at10.fds, `open fds grew: ${at10.fds} -> ${at60.fds}`);
    assert.ok(
      at60.rssKb <= at10.rssKb + RSS_TOLERANCE_KB,
      `RSS grew: ${at10.rssKb} -> ${at60.rssKb} kB`,
    );
  },
});
