/**
 * `deno task compile`: build the single binary dist/waspd with `deno compile`.
 *
 * `deno compile` glues the program onto `denort`, a slim runtime it downloads
 * from dl.deno.land on first use. Machines without that network get a long
 * Rust backtrace; this tool says in ONE line what is missing and how to provide
 * it instead. denort is found, in deno's own order, through:
 *   1. DENORT_BIN=/path/to/denort (used as is; the full `deno` binary is NOT a
 *      substitute: a binary built on it ignores the embedded program), or
 *   2. a pre-seeded $DENO_DIR/dl/release/v<version>/denort-<target>.zip, or
 *   3. the download (tried with a time limit when neither of the above exists).
 *
 * The probe's Worker (probe/worker.ts) and the prctl helper's call thread
 * (src/sys/mitosis/prctl_thread.ts, a Worker) are loaded by URL at run time,
 * not imported, so they must be embedded with --include. (The helper itself
 * is the binary run with a hidden flag: main.ts imports it.)
 */

import denoJson from "../deno.json" with { type: "json" };

const OUTPUT = "dist/waspd";
const ENTRY = "main.ts";
const INCLUDES = ["probe/worker.ts", "src/sys/mitosis/prctl_thread.ts"];
/** Without a local denort the compile needs the network; do not hang on a black hole. */
const DOWNLOAD_TIMEOUT_MS = 120_000;

export type DenortSource =
  | { kind: "env"; path: string }
  | { kind: "seeded"; path: string }
  | { kind: "download"; url: string; seededPath: string };

/** Where deno keeps (or would keep) the runtime zip for this version and target. */
export function seededZipPath(denoDir: string, version: string, target: string): string {
  return `${denoDir}/dl/release/v${version}/denort-${target}.zip`;
}

export function denortUrl(version: string, target: string): string {
  return `https://dl.deno.land/release/v${version}/denort-${target}.zip`;
}

/** Pure: which denort `deno compile` will use, given what exists. */
export function chooseDenort(
  denortBin: string | undefined,
  denoDir: string,
  version: string,
  target: string,
  exists: (path: string) => boolean,
): DenortSource | { kind: "error"; message: string } {
  if (denortBin !== undefined && denortBin !== "") {
    if (!exists(denortBin)) {
      return { kind: "error", message: `DENORT_BIN=${denortBin} does not exist` };
    }
    return { kind: "env", path: denortBin };
  }
  const seeded = seededZipPath(denoDir, version, target);
  if (exists(seeded)) return { kind: "seeded", path: seeded };
  return { kind: "download", url: denortUrl(version, target), seededPath: seeded };
}

/**
 * Pure: the one line to print when a compile that had to download denort
 * failed on the download, or null when the failure was something else (a type
 * error, a missing include), which deno's own message explains better.
 */
export function missingDenortLine(
  stderr: string,
  source: Extract<DenortSource, { kind: "download" }>,
  version: string,
): string | null {
  const onDownload = stderr.includes("denort") || stderr.includes("Setting up base binary") ||
    stderr.includes("dl.deno.land");
  if (!onDownload) return null;
  return `compile: deno ${version} could not download its runtime ${source.url} (no network?) ` +
    `and none is present: set DENORT_BIN=/path/to/denort, or copy that zip (fetched on a ` +
    `connected machine) to ${source.seededPath}`;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

async function denoDir(deno: string): Promise<string> {
  const out = await new Deno.Command(deno, { args: ["info", "--json"], stderr: "inherit" })
    .output();
  if (!out.success) throw new Error("`deno info --json` failed");
  const info: unknown = JSON.parse(new TextDecoder().decode(out.stdout));
  if (typeof info === "object" && info !== null && "denoDir" in info) {
    const dir = (info as { denoDir: unknown }).denoDir;
    if (typeof dir === "string") return dir;
  }
  throw new Error("`deno info --json` gave no denoDir");
}

async function main(): Promise<number> {
  const deno = Deno.execPath();
  const version = Deno.version.deno;
  const target = Deno.build.target;
  const missing = INCLUDES.filter((f) => !exists(f));
  if (!exists(ENTRY) || missing.length > 0) {
    console.error(`compile: run from the project root (missing ${[ENTRY, ...missing].join(", ")})`);
    return 1;
  }
  const source = chooseDenort(
    Deno.env.get("DENORT_BIN"),
    await denoDir(deno),
    version,
    target,
    exists,
  );
  if (source.kind === "error") {
    console.error(`compile: ${source.message}`);
    return 1;
  }
  const from = source.kind === "download" ? `downloading ${source.url}` : source.path;
  console.error(`compile: denort ${version} ${target} from ${from}`);

  const args = [
    "compile",
    "-A",
    ...runTaskV8Flags(),
    ...INCLUDES.flatMap((f) => ["--include", f]),
    "-o",
    OUTPUT,
    ENTRY,
  ];
  const child = new Deno.Command(deno, {
    args,
    stdout: "inherit",
    stderr: "piped",
    ...(source.kind === "download" ? { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) } : {}),
  }).spawn();
  const result = await child.output();
  const stderr = new TextDecoder().decode(result.stderr);
  if (!result.success) {
    const line = source.kind === "download" ? missingDenortLine(stderr, source, version) : null;
    if (line !== null) console.error(line);
    else console.error(stderr.trimEnd() || `compile: deno compile was stopped (${result.signal})`);
    return 1;
  }
  // Prove the binary runs the embedded program, not just that a file appeared
  // (a binary glued onto a full `deno` instead of denort would answer as deno).
  const smoke = await new Deno.Command(OUTPUT, { args: ["--help"] }).output();
  const said = new TextDecoder().decode(smoke.stdout);
  if (!smoke.success || !said.includes("waspd")) {
    Deno.removeSync(OUTPUT);
    console.error(`compile: ${OUTPUT} was written but does not run waspd (\`${OUTPUT} --help\`)`);
    return 1;
  }
  const mb = (Deno.statSync(OUTPUT).size / 2 ** 20).toFixed(1);
  console.error(`compile: ${OUTPUT} (${mb} MiB) built and runs`);
  return 0;
}

/**
 * The V8 flags of deno.json's `run` task: the binary users copy to hosts
 * must run with the heap settings the daemon's cost was measured with.
 */
export function runTaskV8Flags(): string[] {
  return denoJson.tasks.run.split(/\s+/).filter((w) => w.startsWith("--v8-flags="));
}

if (import.meta.main) Deno.exit(await main());
