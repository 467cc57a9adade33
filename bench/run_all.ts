/**
 * `deno task bench`: every benchmark, one after another, each in its own
 * process (so one's memory and workers never colour the next one's figures).
 * Each prints ratios against a reference measured in the same run.
 */
const BENCHES = [
  ["probe_bench.ts", []],
  ["tick_bench.ts", ["--procs", "2000"]],
  ["tick_alloc_bench.ts", ["--procs", "2000"]],
  ["ptl_light_bench.ts", []],
  // Last: it starts waspd as `deno task run --json` does and measures it from outside.
  ["daemon_cost_bench.ts", ["--procs", "2000", "--seconds", "60"]],
] as const;

let failed = 0;
for (const [file, args] of BENCHES) {
  console.log(`\n== bench/${file}`);
  const status = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--max-semi-space-size=2,--max-old-space-size=1024",
      new URL(file, import.meta.url).pathname,
      ...args,
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (!status.success) failed++;
}
Deno.exit(failed === 0 ? 0 : 1);
