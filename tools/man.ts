/**
 * `deno task man`: write docs/waspd.8 from the program definition and the
 * key bindings (src/man_page.ts); `--check` only compares and exits 1 when
 * the committed page is out of date.
 */
import { buildProgram, type CliHandlers, VERSION } from "../src/cli.ts";
import { BINDINGS } from "../src/ui/bindings.ts";
import { manPage } from "../src/man_page.ts";

export const MAN_PATH = new URL("../docs/waspd.8", import.meta.url).pathname;

/** The CLI's program definition, with handlers that do nothing: what the page documents. */
export function documentedProgram() {
  const none = () => Promise.resolve(0);
  const handlers: CliHandlers = {
    daemon: none,
    probe: none,
    enable: none,
    disable: none,
    steer: none,
    unpin: none,
    status: none,
  };
  return buildProgram(handlers, { out: () => {}, err: () => {} }, () => {});
}

/** The page as the current sources make it. */
export function currentManPage(): string {
  return manPage({ program: documentedProgram(), bindings: BINDINGS, version: VERSION });
}

if (import.meta.main) {
  const page = currentManPage();
  if (Deno.args.includes("--check")) {
    const committed = await Deno.readTextFile(MAN_PATH).catch(() => "");
    if (committed !== page) {
      console.error(`${MAN_PATH} is out of date: run \`deno task man\``);
      Deno.exit(1);
    }
  } else {
    await Deno.writeTextFile(MAN_PATH, page);
    console.log(`wrote ${MAN_PATH}`);
  }
}
