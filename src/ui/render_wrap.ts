/** Greedy word wrap of already sanitized text, for text the screen shows whole. Pure. */
import { cutToWidth, displayWidth } from "./sanitize.ts";

/**
 * Lines of at most `width` columns, broken at spaces; a word longer than a
 * line is cut across lines rather than lost past the edge.
 */
export function wrapText(text: string, width: number): string[] {
  const w = Math.max(1, width);
  const lines: string[] = [];
  let line = "";
  for (let word of text.split(" ")) {
    while (displayWidth(word) > w) {
      if (line !== "") {
        lines.push(line);
        line = "";
      }
      const head = cutToWidth(word, w);
      if (head === "") break; // a wide character in a 1-column line: give up on it
      lines.push(head);
      word = word.slice(head.length);
    }
    const candidate = line === "" ? word : `${line} ${word}`;
    if (displayWidth(candidate) <= w) line = candidate;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}
