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

type Row = readonly [
  keys: readonly string[],
  aliases: readonly string[],
  help: string,
  footer: readonly [level: FooterWord["level"], long: string, short: string] | null,
];

/** The table, one binding a line: keys, aliases, help text, footer [level, long, short]. */
const TABLE = [
  [["q"], ["ctrl-c"], "quit (the daemon undoes what it changed)", [0, "quit", "quit"]],
  [["r"], [], "re-measure the PTL latency matrix", [1, "remeasure", "remeasure"]],
  [["c"], [], "page-table cache: +100 pages per node", [1, "cache+100", "cache"]],
  [["d"], [], "drain the page-table cache", [1, "drain", "drain"]],
  [["m"], [], "toggle Mitosis mode: per-process (-1) <-> auto (1)", [1, "mode", "mode"]],
  [["up", "down"], [], "move the selection", null],
  [["pgup", "pgdn"], [], "move the selection a page", null],
  [["home", "end"], [], "select the first / last process", null],
  [
    ["/"],
    [],
    "filter rows by name, pid or status (Enter keeps, Esc clears)",
    [0, "filter", "filter"],
  ],
  [["enter"], [], "details of the selected process (history, events, replicas)", [
    2,
    "details",
    "info",
  ]],
  [["n"], [], "node view: memory, CPUs, distances, latencies", [2, "nodes", "nodes"]],
  [["escape"], [], "back to the table; there, clear the filter", null],
  [["e", "x"], [], "pin the selected process on / off", [1, "pin", "pin"]],
  [["u"], [], "unpin it (the policy decides again)", [3, "unpin", "unpin"]],
  [["s"], [], "sort by MAR, dTLB, RSS, THR, PTE, PID, NAME", [1, "sort", "sort"]],
  [["i"], [], "reverse the sort", [3, "reverse", "rev"]],
  [["+", "-"], [], "double / halve the update interval", [2, "interval", "rate"]],
  [["p"], [], "pause the display (sampling goes on)", [2, "pause", "pause"]],
  [["?"], ["h"], "help: keys, then (? again) columns; other keys close it", [0, "help", "help"]],
] as const satisfies readonly Row[];

export const BINDINGS: readonly Binding[] = TABLE.map(([keys, aliases, help, footer]) => ({
  keys,
  aliases,
  help,
  footer: footer === null ? null : { level: footer[0], long: footer[1], short: footer[2] },
}));

/**
 * Every key name the reducer sees: the table's, plus Backspace, which edits
 * the filter and is bound to nothing else.
 */
export type KeyName =
  | (typeof TABLE)[number][0][number]
  | (typeof TABLE)[number][1][number]
  | "backspace";

/** How a key is written for people; printable keys are written as themselves. */
const KEY_LABELS: Readonly<Record<string, string>> = {
  "ctrl-c": "Ctrl-C",
  up: "Up",
  down: "Down",
  pgup: "PgUp",
  pgdn: "PgDn",
  home: "Home",
  end: "End",
  enter: "Enter",
  escape: "Esc",
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
