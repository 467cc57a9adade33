/**
 * The key bindings: one table from which the key decoder's vocabulary, the
 * help box, the footer key line, the commands keys send to the daemon and
 * (checked by tests/keys_test.ts) the README's key list all come. A key that
 * acts on the daemon is a row here naming its command plus, for a new
 * command, its case in the action table of daemon/operator.ts, which carries
 * it out (OperatorCommand is derived from that table, so a row cannot name a
 * command that has no case). A key that needs the screen (the selection, the
 * interval shown) has its case in `reduceKey` (state.ts) instead, which the
 * compiler asks for: the reducer's switch must cover every key without a
 * command.
 */
import type { OperatorCommand } from "../daemon/control.ts";

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
  /** What the daemon is asked to do, and the notice that says so; null for other keys. */
  readonly act: KeyAction | null;
}

export interface KeyAction {
  readonly command: OperatorCommand;
  /** Shown as "requested: <notice>" until the daemon's event acknowledges it. */
  readonly notice: string;
}

type Row = readonly [
  keys: readonly string[],
  aliases: readonly string[],
  help: string,
  footer: readonly [level: FooterWord["level"], long: string, short: string] | null,
  act?: readonly [command: OperatorCommand, notice: string],
];

/**
 * The table, one binding a line: keys, aliases, help text, footer [level,
 * long, short], and for a key that acts on the daemon its [command, notice].
 */
const TABLE = [
  [["q"], ["ctrl-c"], "quit (the daemon undoes what it changed)", [0, "quit", "quit"]],
  [["r"], [], "re-measure the PTL latency matrix", [1, "remeasure", "remeasure"], [
    { kind: "remeasure" },
    "PTL re-measure",
  ]],
  [["c"], [], "page-table cache: +100 pages per node", [1, "cache+100", "cache"], [
    { kind: "cacheAdd", pages: 100 },
    "page-table cache +100 pages/node",
  ]],
  [["d"], [], "drain the page-table cache", [1, "drain", "drain"], [
    { kind: "cacheDrain" },
    "page-table cache drain",
  ]],
  [["m"], [], "toggle Mitosis mode: per-process (-1) <-> auto (1)", [1, "mode", "mode"], [
    { kind: "toggleMode" },
    "toggle Mitosis mode",
  ]],
  [["a"], [], "hold / resume the policy's own decisions (pins still act)", [2, "auto", "auto"], [
    { kind: "toggleAuto" },
    "hold / resume automatic decisions",
  ]],
  [["o"], [], "turn off all replication waspd turned on, and hold the policy (a resumes)", [
    3,
    "all off",
    "off",
  ], [{ kind: "allOff" }, "all replication off, policy held"]],
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

export const BINDINGS: readonly Binding[] = TABLE.map((row: Row) => {
  const [keys, aliases, help, footer, act] = row;
  return {
    keys,
    aliases,
    help,
    footer: footer === null ? null : { level: footer[0], long: footer[1], short: footer[2] },
    act: act === undefined ? null : { command: act[0], notice: act[1] },
  };
});

/**
 * Every key name the reducer sees: the table's, plus Backspace, which edits
 * the filter and is bound to nothing else.
 */
export type KeyName =
  | (typeof TABLE)[number][0][number]
  | (typeof TABLE)[number][1][number]
  | "backspace";

/** The keys whose row names a daemon command: reduceKey sends it without a case of its own. */
export type ActionKey = Extract<(typeof TABLE)[number], { length: 5 }>[0][number];

const ACTIONS: ReadonlyMap<string, KeyAction> = new Map(
  BINDINGS.flatMap((b) => b.act === null ? [] : bindingKeys(b).map((k) => [k, b.act!] as const)),
);

/** The daemon command a key sends, by its row. */
export function keyAction(key: ActionKey): KeyAction {
  return ACTIONS.get(key)!;
}

export function isActionKey(key: KeyName): key is ActionKey {
  return ACTIONS.has(key);
}

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
