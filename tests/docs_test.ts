import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

async function* sourceFiles(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* sourceFiles(url);
    else if (entry.name.endsWith(".ts")) yield url;
  }
}

Deno.test("comments cite documents that are in the repository", async () => {
  const cited = new Map<string, string>();
  const files = [new URL("main.ts", ROOT)];
  for (const dir of ["src/", "probe/"]) {
    for await (const f of sourceFiles(new URL(dir, ROOT))) files.push(f);
  }
  for (const file of files) {
    const text = await Deno.readTextFile(file);
    assert.ok(!text.includes("INTERFACE.md"), `${file.pathname} cites INTERFACE.md`);
    for (const m of text.matchAll(/\bdocs\/[\w.-]+\.md\b/g)) cited.set(m[0], file.pathname);
  }
  assert.ok(cited.has("docs/kernel-interface.md"), "the kernel facts are cited");
  for (const [doc, by] of cited) {
    const stat = await Deno.stat(new URL(doc, ROOT)).catch(() => null);
    assert.ok(stat?.isFile, `${by} cites ${doc}, which does not exist`);
  }
});
