/**
 * Argument-list fixes made before commander parses. `--sim [nodes]` has an
 * optional value, and commander takes any next word for it: `waspd --sim
 * status` would read "status" as the node count. A node count is a number,
 * so `--sim` takes the next word only when it looks like one (`--sim 8`,
 * and `--sim 0` or `--sim 1.5` still reach the parser and its message);
 * otherwise it stands alone and means the default machine.
 */

/** Looks like an attempt at a number: leading digit or decimal point, sign allowed. */
const NUMBER_LIKE = /^[+]?(\d|\.\d)/;

/**
 * `argv` with every bare `--sim` made explicit: `--sim=N` when a number
 * follows, `--sim=<defaultNodes>` when a word (a subcommand, an operand) or
 * nothing does. Words after `--` are operands and left alone.
 */
export function attachSimCount(argv: readonly string[], defaultNodes: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === "--") {
      out.push(...argv.slice(i));
      break;
    }
    if (word !== "--sim") {
      out.push(word);
      continue;
    }
    const next = argv[i + 1];
    if (next !== undefined && NUMBER_LIKE.test(next)) {
      out.push(`--sim=${next}`);
      i++;
    } else out.push(`--sim=${defaultNodes}`);
  }
  return out;
}
