/** Reading a byte stream (a pipe) line by line: the prctl helper's protocol, and tests reading waspd. */

/** A line longer than the reader's cap: the writer is not speaking its protocol. */
export class LineTooLong extends Error {
  override readonly name = "LineTooLong";
}

/**
 * The lines of a byte stream, without their newlines. A last line with no
 * newline is kept unless blank, or dropped with `unterminated: "drop"` (a
 * writer killed mid-line left it cut off). With `maxChars`, a line (or the
 * unterminated rest) longer than that throws LineTooLong instead of growing
 * the buffer without end.
 */
export async function* lines(
  stream: ReadableStream<Uint8Array>,
  unterminated: "keep" | "drop" = "keep",
  maxChars = Infinity,
): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      if (newline > maxChars) break;
      yield buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
    }
    // Leaving the loop cancels the stream.
    if (buffered.length > maxChars) {
      throw new LineTooLong(`a line longer than ${maxChars} characters`);
    }
  }
  if (unterminated === "keep" && buffered.trim() !== "") yield buffered;
}
