/** Reading a rendered Prometheus exposition back, for the metrics tests. */

/** name{labels} -> value, for the samples of a rendered exposition (+Inf as Infinity). */
export function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1).replace("+Inf", "Infinity")));
  }
  return out;
}
