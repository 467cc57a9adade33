/**
 * The standard process_* series: parsed from /proc texts (a comm with spaces
 * and parentheses included), left out when unknown, and read for real from
 * this test's own process.
 */
import assert from "node:assert/strict";
import { renderExposition } from "../src/metrics/exposition.ts";
import {
  parseSelfStat,
  readSelfStats,
  selfFamilies,
  selfStatsOf,
} from "../src/metrics/self_metrics.ts";

// Fields 3.. after "(comm)": utime=250 (field 14), stime=50, starttime=1000 (22), rss=300 (24).
const STAT = "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 1000 " +
  "123456789 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";

Deno.test("process_* figures from /proc/self/stat and btime: CPU s, bytes, epoch seconds", () => {
  assert.deepEqual(parseSelfStat(STAT), { cpuTicks: 300, startTicks: 1000, rssPages: 300 });
  const s = selfStatsOf(STAT, "cpu 1 2 3\nbtime 1700000000\nprocesses 9\n", 7);
  assert.deepEqual(s, {
    cpuSeconds: 3,
    residentBytes: 300 * 4096,
    openFds: 7,
    startTimeSeconds: 1700000010,
  });
  const text = renderExposition(selfFamilies(s));
  assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m);
  assert.match(text, /^process_cpu_seconds_total 3$/m);
  assert.match(text, /^process_resident_memory_bytes 1228800$/m);
  assert.match(text, /^process_open_fds 7$/m);
  assert.match(text, /^process_start_time_seconds 1700000010$/m);
});

Deno.test("an unreadable or garbled /proc leaves the figures out, never 0", () => {
  assert.equal(parseSelfStat("garbage"), null);
  assert.equal(parseSelfStat("1 (x) S 1 2"), null);
  const s = selfStatsOf(null, null, null);
  assert.equal(renderExposition(selfFamilies(s)), "");
  // No btime: the start time alone is unknown.
  const t = renderExposition(selfFamilies(selfStatsOf(STAT, "cpu 1\n", null)));
  assert.match(t, /^process_cpu_seconds_total 3$/m);
  assert.doesNotMatch(t, /process_start_time_seconds \d/);
  assert.doesNotMatch(t, /process_open_fds \d/);
});

Deno.test("this process's own figures are plausible: CPU used, RSS, fds, started before now", () => {
  const file = Deno.openSync(Deno.execPath());
  try {
    const s = readSelfStats();
    assert.ok(s.cpuSeconds !== null && s.cpuSeconds > 0);
    assert.ok(s.residentBytes !== null && s.residentBytes > 10 * 1024 * 1024);
    assert.ok(s.openFds !== null && s.openFds >= 4, String(s.openFds));
    const now = Date.now() / 1000;
    assert.ok(s.startTimeSeconds !== null);
    assert.ok(s.startTimeSeconds <= now + 1 && s.startTimeSeconds > now - 3600);
    // One more open file is one more fd.
    const before = s.openFds;
    const extra = Deno.openSync(Deno.execPath());
    try {
      assert.equal(readSelfStats().openFds, before + 1);
    } finally {
      extra.close();
    }
  } finally {
    file.close();
  }
});
