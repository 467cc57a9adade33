/**
 * The key bindings: one table from which the key decoder's vocabulary, the
 * help box, the footer key line and (checked by tests/keys_test.ts) the
 * README's key list all come. Adding a key is a row here plus its case in
 * `reduceKey` (state.ts), which the compiler asks for: KeyName is derived
 * from this table and the reducer's switch must cover it.
 */

/** A footer entry: the word beside the key, long and short, and how soon it goes. */
export interface FooterWord {
  long: string;
  short: string;
  /** 0 = always shown; higher levels are dropped first on a narrow terminal. */
  level: 0 | 1 | 2 | 3;
}

export interface Binding {
  /** Key names that act, as the footer shows them. */
  readonly keys: readonly string[];
  /** Further keys for the same thing: in the help box and README, not the footer. */
  readonly aliases: readonly string[];
  /** What it does, as the help box and the README say it. */
  readonly help: string;
  readonly footer: FooterWord | null;
}

export const BINDINGS = [
  {
    keys: ["q"],
    aliases: ["ctrl-c"],
    help: "quit (the daemon undoes what it changed)",
    footer: { long: "quit", short: "quit", level: 0 },
  },
  {
    keys: ["r"],
    aliases: [],
    help: "re-measure the PTL latency matrix",
    footer: { long: "remeasure", short: "remeasure", level: 1 },
  },
  {
    keys: ["c"],
    aliases: [],
    help: "page-table cache: +100 pages per node",
    footer: { long: "cache+100", short: "cache", level: 1 },
  },
  {
    keys: ["d"],
    aliases: [],
    help: "drain the page-table cache",
    footer: { long: "drain", short: "drain", level: 1 },
  },
  {
    keys: ["m"],
    aliases: [],
    help: "toggle Mitosis mode (-1 <-> 1)",
    footer: { long: "mode", short: "mode", level: 1 },
  },
  { keys: ["up", "down"], aliases: [], help: "move the selection", footer: null },
  { keys: ["pgup", "pgdn"], aliases: [], help: "move the selection a page", footer: null },
  { keys: ["home", "end"], aliases: [], help: "select the first / last process", footer: null },
  {
    keys: ["e", "x"],
    aliases: [],
    help: "pin the selected process on / off",
    footer: { long: "pin", short: "pin", level: 1 },
  },
  {
    keys: ["u"],
    aliases: [],
    help: "unpin it (the policy decides again)",
    footer: { long: "unpin", short: "unpin", level: 3 },
  },
  {
    keys: ["s"],
    aliases: [],
    help: "sort by MAR, dTLB, RSS, PID, NAME",
    footer: { long: "sort", short: "sort", level: 1 },
  },
  {
    keys: ["+", "-"],
    aliases: [],
    help: "double / halve the update interval",
    footer: { long: "interval", short: "rate", level: 2 },
  },
  {
    keys: ["p"],
    aliases: [],
    help: "pause the display (sampling goes on)",
    footer: { long: "pause", short: "pause", level: 2 },
  },
  {
    keys: ["?"],
    aliases: ["h"],
    help: "this help; any key closes it",
    footer: { long: "help", short: "help", level: 0 },
  },
] as const satisfies readonly Binding[];

/**
 * Every key name the reducer sees: the table's, plus Escape and Enter, which
 * are decoded so they can close the help box but are bound to nothing.
 */
export type KeyName =
  | (typeof BINDINGS)[number]["keys"][number]
  | (typeof BINDINGS)[number]["aliases"][number]
  | "escape"
  | "enter";

/** How a key is written for people; printable keys are written as themselves. */
const KEY_LABELS: Readonly<Record<string, string>> = {
  "ctrl-c": "Ctrl-C",
  up: "Up",
  down: "Down",
  pgup: "PgUp",
  pgdn: "PgDn",
  home: "Home",
  end: "End",
};

export function keyLabel(key: string): string {
  return KEY_LABELS[key] ?? key;
}

/** All keys of a binding, footer keys first. */
export function bindingKeys(b: Binding): string[] {
  return [...b.keys, ...b.aliases];
}

/** Key names typed as one printable character ("q", "?", "+"): the decoder's letters. */
export function printableKeys(): KeyName[] {
  return BINDINGS.flatMap((b) => bindingKeys(b) as KeyName[]).filter((k) => k.length === 1);
}
