/**
 * The README's fenced blocks, by section: the tests run the commands of
 * "Run as a service" and "Monitor a fleet" and use its scrape config, so the
 * README cannot drift from what is tested.
 */
const README = new URL("../../README.md", import.meta.url);

/** The fenced blocks of language `lang` in the `## title` section. */
export async function readmeBlocks(title: string, lang: string): Promise<string[]> {
  const text = await Deno.readTextFile(README);
  const start = text.indexOf(`\n## ${title}\n`);
  if (start === -1) throw new Error(`README has no section '${title}'`);
  const next = text.indexOf("\n## ", start + 1);
  const section = text.slice(start, next === -1 ? undefined : next);
  const blocks: string[] = [];
  const fence = new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g");
  for (const m of section.matchAll(fence)) blocks.push(m[1] ?? "");
  return blocks;
}

/** The command lines of a shell block (comments and blank lines dropped). */
export function commandsOf(block: string): string[] {
  return block.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
}
