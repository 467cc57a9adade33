/**
 * The shape of the code: no import cycles among the shipped modules, and the
 * probe depends only on the pure core, the FFI layer and the Host seam, never
 * on src/sys (which runs the probe) or the daemon.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), ".."));
const RELATIVE_IMPORT = /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.{1,2}\/[^"]+)"/g;

function shippedModules(dir: string): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync(join(ROOT, dir))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) found.push(...shippedModules(path));
    else if (entry.name.endsWith(".ts")) found.push(path);
  }
  return found;
}

/** Module (relative to the root) -> the modules it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const module of ["main.ts", ...shippedModules("src"), ...shippedModules("probe")]) {
    const text = Deno.readTextFileSync(join(ROOT, module));
    const targets = [...text.matchAll(RELATIVE_IMPORT)].map((m) =>
      relative(ROOT, normalize(join(ROOT, dirname(module), m[1]!)))
    );
    graph.set(module, targets);
  }
  return graph;
}

function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    state.set(node, "open");
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") return [...path.slice(path.indexOf(next)), next];
      if (!state.has(next)) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    path.pop();
    state.set(node, "done");
    return null;
  };
  for (const node of graph.keys()) {
    if (state.has(node)) continue;
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

Deno.test("no import cycle among main.ts, src/ and probe/", () => {
  const graph = importGraph();
  assert.ok(graph.size > 100, `read ${graph.size} modules`);
  assert.equal(findCycle(graph)?.join(" -> ") ?? null, null);
});

Deno.test("probe/ imports only probe/, src/core, src/ffi and the Host seam", () => {
  const allowed = /^(probe\/|src\/core\/|src\/ffi\/|src\/host\.ts$)/;
  const upward = [...importGraph()]
    .filter(([module]) => module.startsWith("probe/"))
    .flatMap(([module, targets]) =>
      targets.filter((t) => !allowed.test(t)).map((t) => `${module} -> ${t}`)
    );
  assert.deepEqual(upward, []);
});

Deno.test("the cycle finder finds a cycle", () => {
  const graph = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", []]]);
  assert.deepEqual(findCycle(graph), ["a", "b", "c", "a"]);
  assert.equal(findCycle(new Map([["a", ["b"]], ["b", []]])), null);
});
