import assert from "node:assert/strict";
import {
  escapeLabelValue,
  formatValue,
  renderExposition,
  renderFamily,
} from "../src/metrics/exposition.ts";
import { DaemonCounters, TICK_BUCKETS_S } from "../src/metrics/daemon_counters.ts";
import {
  IN_PLAY,
  MAX_PROCESS_SERIES,
  processesInPlay,
  snapshotExposition,
  snapshotFamilies,
  STATUS_CODE,
} from "../src/metrics/snapshot_metrics.ts";
import { EVENT_KINDS } from "../src/core/snapshot.ts";
import { sampleEvent, sampleProcess, sampleSnapshot } from "./fixtures/snapshot_sample.ts";
import { samples } from "./support/exposition.ts";

const BUILD = { version: "0.1.0", deno: "2.9.6" };

Deno.test("label values escape backslash, quote and newline; HELP escapes its own two", () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  const text = renderFamily({
    name: "x_total",
    type: "counter",
    help: "line\none \\",
    samples: [{ labels: { comm: 'q"\n' }, value: 3 }],
  });
  assert.equal(
    text,
    '# HELP x_total line\\none \\\\\n# TYPE x_total counter\nx_total{comm="q\\"\\n"} 3\n',
  );
});

Deno.test("values use Prometheus's spelling of the special floats", () => {
  assert.deepEqual([NaN, Infinity, -Infinity, 0.5, 1e-9].map(formatValue), [
    "NaN",
    "+Inf",
    "-Inf",
    "0.5",
    "1e-9",
  ]);
});

Deno.test("invalid metric and label names are refused, empty families left out", () => {
  assert.throws(() => renderFamily({ name: "1bad", type: "gauge", help: "", samples: [] }));
  assert.throws(() =>
    renderFamily({
      name: "ok",
      type: "gauge",
      help: "",
      samples: [{ labels: { "a-b": 1 }, value: 1 }],
    })
  );
  assert.equal(renderExposition([{ name: "empty", type: "gauge", help: "h", samples: [] }]), "");
});

Deno.test("a snapshot's families: mode, counts, PTL cells in seconds, steering, cache", () => {
  const s = sampleSnapshot();
  const text = snapshotExposition(s, new DaemonCounters(), BUILD);
  const m = samples(text);
  assert.equal(m.get('waspd_mode{mode="advisory"}'), 1);
  assert.equal(m.get('waspd_mode{mode="enforcing"}'), 0);
  assert.equal(m.get("waspd_processes_tracked"), s.daemon!.tracked);
  assert.equal(m.get("waspd_processes_replicated"), s.daemon!.replicated);
  assert.equal(
    m.get("waspd_processes_stuck"),
    s.processes.filter((p) => p.status === "stuck").length,
  );
  const ptl = s.ptl!;
  let cells = 0;
  ptl.rows.forEach((row, r) =>
    ptl.cols.forEach((col, c) => {
      const ns = ptl.latency_ns[r]![c]!;
      const v = m.get(`waspd_ptl_latency_seconds{cpu_node="${row}",mem_node="${col}"}`);
      if (ns === null) assert.equal(v, undefined, "a failed cell is absent, not 0");
      else {
        cells++;
        assert.ok(Math.abs(v! - ns / 1e9) < 1e-15);
      }
    })
  );
  assert.ok(cells > 0);
  assert.equal(m.get("waspd_ptl_age_seconds"), ptl.age_ms / 1000);
  assert.equal(m.get("waspd_ptl_duration_seconds"), ptl.duration_ms / 1000);
  for (const c of s.steering!.choices) {
    assert.equal(m.get(`waspd_steering_replica_node{node="${c.node}"}`), c.replica);
  }
  for (const c of s.mitosis?.cache ?? []) {
    assert.equal(m.get(`waspd_pt_cache_pages{node="${c.node}"}`), c.cached);
  }
  assert.equal(
    m.get(`waspd_build_info{version="0.1.0",deno="2.9.6",simulated="${s.simulated}"}`),
    1,
  );
});

Deno.test("the kind of signals: an info series and the HELP; per-process series carry pid and comm only", () => {
  const hardware = sampleSnapshot();
  const base = hardware.capabilities;
  const software = sampleSnapshot({
    capabilities: {
      ...base,
      perf: {
        ...base.perf,
        hardware: false,
        available: true,
        signals: "software",
        signals_note: "not memory signals: …",
      },
    },
  });
  const hw = samples(snapshotExposition(hardware, new DaemonCounters(), BUILD));
  assert.equal(hw.get('waspd_signals_info{kind="hardware"}'), 1);
  assert.equal(hw.get('waspd_signals_info{kind="software"}'), undefined);
  const text = snapshotExposition(software, new DaemonCounters(), BUILD);
  const sw = samples(text);
  assert.equal(sw.get('waspd_signals_info{kind="software"}'), 1);
  assert.equal(sw.get('waspd_signals_info{kind="hardware"}'), undefined);
  assert.equal(sw.get("waspd_counters_available"), 0, "software events are not hardware counters");
  const series = [...sw.keys()].filter((k) =>
    k.startsWith("waspd_process_memory_accesses_per_second{") ||
    k.startsWith("waspd_process_dtlb_walk_ratio{")
  );
  assert.ok(series.length > 0);
  for (const k of series) assert.match(k, /^waspd_process_\w+\{pid="\d+",comm="[^"]*"\}$/);
  assert.match(text, /# HELP waspd_signals_info .*not memory signals/);
  assert.match(text, /# HELP waspd_process_loads_total .*signals="software".*CPU ns/);
});

Deno.test("per-process series only for processes in play, capped, highest MAR first", () => {
  const many = Array.from({ length: 400 }, (_, i) => sampleProcess(i));
  const chosen = processesInPlay(many);
  assert.equal(chosen.length, MAX_PROCESS_SERIES);
  assert.ok(chosen.every((p) => IN_PLAY.has(p.status)));
  for (let i = 1; i < chosen.length; i++) {
    assert.ok((chosen[i - 1]!.mar ?? -1) >= (chosen[i]!.mar ?? -1));
  }
  const families = snapshotFamilies(
    sampleSnapshot({ processes: many }),
    new DaemonCounters().view(),
    BUILD,
  );
  const mar = families.find((f) => f.name === "waspd_process_memory_accesses_per_second")!;
  assert.ok(mar.samples.length <= MAX_PROCESS_SERIES);
  const shown = new Set(mar.samples.map((x) => x.labels?.pid));
  for (const p of many) {
    if (!IN_PLAY.has(p.status)) assert.ok(!shown.has(p.pid), `${p.status} has no series`);
  }
});

Deno.test("an untrusted comm cannot break the exposition", () => {
  const p = sampleProcess(1, { name: 'evil"}\n# TYPE x counter', status: "watch" });
  const text = snapshotExposition(sampleSnapshot({ processes: [p] }), new DaemonCounters(), BUILD);
  const lines = text.split("\n").filter((l) => l.includes("evil"));
  assert.ok(lines.length >= 1);
  for (const line of lines) {
    assert.match(
      line,
      /^waspd_process_\w+\{pid="\d+",comm="evil\\\\\\"}\\\\n# TYPE x counter"\} /,
    );
  }
});

Deno.test("actions are counted by kind and result from tagged events; every pair starts at 0", () => {
  const counters = new DaemonCounters();
  const events = [
    sampleEvent(1, { kind: "enable", action: { kind: "enable", result: "ok" } }),
    sampleEvent(2, { kind: "error", action: { kind: "enable", result: "stuck" } }),
    sampleEvent(3, { kind: "info", action: { kind: "disable", result: "skipped" } }),
    sampleEvent(4, { kind: "decision" }),
  ];
  counters.observe(sampleSnapshot({ events, tick_ms: 3 }));
  counters.observe(sampleSnapshot({ events: [events[0]!], tick_ms: 300 }));
  const v = counters.view();
  assert.equal(v.actions.get("enable/ok"), 2);
  assert.equal(v.actions.get("enable/stuck"), 1);
  assert.equal(v.actions.get("disable/skipped"), 1);
  assert.equal(v.actions.get("cache/error"), 0);
  assert.equal(v.actions.size, 24);
  assert.equal(v.events.get("decision"), 1);
  assert.equal(v.tick.count, 2);
  assert.ok(Math.abs(v.tick.sum - 0.303) < 1e-12);
  // Cumulative buckets: 3 ms falls in le=0.005 and up, 300 ms in le=0.5 and up.
  assert.equal(v.tick.buckets[TICK_BUCKETS_S.indexOf(0.0025)], 0);
  assert.equal(v.tick.buckets[TICK_BUCKETS_S.indexOf(0.005)], 1);
  assert.equal(v.tick.buckets[TICK_BUCKETS_S.indexOf(0.25)], 1);
  assert.equal(v.tick.buckets[TICK_BUCKETS_S.indexOf(0.5)], 2);
  const m = samples(renderExposition(snapshotFamilies(sampleSnapshot(), v, BUILD)));
  assert.equal(m.get('waspd_actions_total{kind="enable",result="ok"}'), 2);
  assert.equal(m.get('waspd_tick_duration_seconds_bucket{le="+Inf"}'), 2);
  assert.equal(m.get("waspd_tick_duration_seconds_count"), 2);
});

Deno.test("loads, walks and faults are counters: each tick's rate times the interval it covers", () => {
  const counters = new DaemonCounters();
  const base = sampleSnapshot();
  const gups = sampleProcess(0, {
    status: "active",
    name: "gups",
    mar: 2e8,
    dtlb_ratio: 0.05,
    minflt_per_s: 100,
    majflt_per_s: 2,
  });
  const tick = (sampleMs: number | null, p = gups) =>
    counters.observe(
      sampleSnapshot({ processes: [p], daemon: { ...base.daemon!, sample_ms: sampleMs } }),
    );
  tick(null); // the first tick: no interval, nothing counted
  tick(1000);
  tick(500);
  tick(500, { ...gups, mar: null, dtlb_ratio: null }); // unknown: no loads invented, faults known
  const m = samples(
    renderExposition(
      snapshotFamilies(sampleSnapshot({ processes: [gups] }), counters.view(), BUILD),
    ),
  );
  const id = `{pid="${gups.pid}",comm="gups"}`;
  assert.equal(m.get(`waspd_process_loads_total${id}`), 2e8 * 1.5);
  assert.ok(Math.abs(m.get(`waspd_process_page_walks_total${id}`)! - 2e8 * 0.05 * 1.5) < 1e-3);
  assert.equal(m.get(`waspd_process_minor_faults_total${id}`), 100 * 2);
  assert.equal(m.get(`waspd_process_major_faults_total${id}`), 2 * 2);
  // The gauges stay: the last tick's figures, as the policy compared them.
  assert.equal(m.get(`waspd_process_memory_accesses_per_second${id}`), 2e8);
  // A process that exited is forgotten; one that comes back under a new start time starts at 0.
  tick(1000, { ...gups, pid: 1 });
  assert.equal(counters.view().processes.size, 1);
  assert.equal(counters.view().processes.get(`${gups.pid}/${gups.start_time}`), undefined);
});

Deno.test("the status is a numeric gauge whose HELP names every value; no series per status", () => {
  const procs = (["watch", "candidate", "active", "stuck"] as const).map((status, i) =>
    sampleProcess(i, { status })
  );
  const text = snapshotExposition(
    sampleSnapshot({ processes: procs }),
    new DaemonCounters(),
    BUILD,
  );
  const m = samples(text);
  for (const p of procs) {
    assert.equal(
      m.get(`waspd_process_status{pid="${p.pid}",comm="${p.name}"}`),
      STATUS_CODE[p.status],
    );
  }
  assert.match(
    text,
    /# HELP waspd_process_status .*0 idle, 1 watch, 2 candidate, 3 active, .*7 stuck, 8 n\/a/,
  );
  assert.doesNotMatch(text, /^waspd_process_\w+\{[^}]*status=/m);
});

Deno.test("each family appears once (Prometheus refuses a second HELP for a name)", () => {
  const names = snapshotFamilies(sampleSnapshot(), new DaemonCounters().view(), BUILD).map((f) =>
    f.name
  );
  assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), []);
});

Deno.test("every event kind is exported from the start at 0", () => {
  const m = samples(
    snapshotExposition(sampleSnapshot({ events: [] }), new DaemonCounters(), BUILD),
  );
  for (const kind of EVENT_KINDS) {
    assert.equal(m.get(`waspd_events_total{kind="${kind}"}`), 0, kind);
  }
});
