/**
 * waspd(8): the committed docs/waspd.8 is what the generator makes from the
 * program definition and the key bindings (so it cannot drift from --help
 * and the README), and man-db renders it cleanly. Needs Debian's man-db and
 * groff-base (installed when missing); without them the rendering test is
 * ignored, never passed.
 */
import assert from "node:assert/strict";
import { Option } from "commander";
import { debianTool } from "./support/debian.ts";
import { currentManPage, documentedProgram, MAN_PATH } from "../tools/man.ts";
import { manPage, roffText } from "../src/man_page.ts";
import { VERSION } from "../src/cli.ts";
import { BINDINGS } from "../src/ui/bindings.ts";

const man = await debianTool("man", "man-db");
const groff = man === null ? null : await debianTool("groff", "groff-base");

const program = documentedProgram;

Deno.test("docs/waspd.8 is what `deno task man` generates from the option and key tables", async () => {
  assert.equal(await Deno.readTextFile(MAN_PATH), currentManPage(), "run `deno task man`");
});

Deno.test("the page lists every visible option and command, with defaults, and every key", () => {
  const p = program();
  const page = manPage({ program: p, bindings: BINDINGS, version: VERSION });
  for (const o of p.options.filter((o) => !o.hidden)) {
    assert.ok(page.includes(roffText(o.long ?? o.short!)), o.flags);
  }
  for (const o of p.options.filter((o) => o.hidden)) {
    assert.ok(!page.includes(roffText(o.long!)), `hidden ${o.flags}`);
  }
  for (const c of p.commands) assert.ok(page.includes(`\\fB${c.name()}`), c.name());
  for (const b of BINDINGS) assert.ok(page.includes(roffText(b.help)), b.help);
  assert.match(
    page,
    /\\fB\\-i\\fR, \\fB\\-\\-ptl\\-interval\\fR \\fI<ms>\\fR\n.*\(default: 1000\)/,
  );
  // A new option in the program is a new item on the page: the page follows the table.
  p.addOption(new Option("--frobnicate <n>", "a test-only option"));
  assert.match(manPage({ program: p, bindings: BINDINGS, version: VERSION }), /frobnicate/);
});

Deno.test("roff text: backslashes, hyphens and a leading dot cannot act as requests", () => {
  assert.equal(roffText(".SH x"), "\\&.SH x");
  assert.equal(roffText("a\\b-c"), "a\\eb\\-c");
  assert.equal(roffText("'quoted"), "\\&'quoted");
});

Deno.test({
  name: "man -l renders waspd(8) at 80 columns, and groff finds nothing to warn about",
  ignore: man === null || groff === null,
  fn: async () => {
    const out = await new Deno.Command(man!, {
      args: ["-l", MAN_PATH],
      env: { MANWIDTH: "80", MANPAGER: "cat", PAGER: "cat", LANG: "C.UTF-8" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    assert.match(text, /^WASPD\(8\) +System Administration +WASPD\(8\)$/m);
    for (const heading of ["NAME", "SYNOPSIS", "COMMANDS", "OPTIONS", "KEYS", "EXIT STATUS"]) {
      assert.match(text, new RegExp(`^${heading}$`, "m"), heading);
    }
    assert.match(text, /-i, --ptl-interval <ms>/);
    assert.match(text, /waspd unpin <pid>/);
    assert.ok(text.split("\n").every((l) => l.length <= 80), "fits 80 columns");
    const check = await new Deno.Command(groff!, {
      args: ["-man", "-Tutf8", "-ww", "-z", MAN_PATH],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(check.success);
    assert.equal(new TextDecoder().decode(check.stderr), "", "groff warnings");
  },
});
