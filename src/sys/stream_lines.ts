/** Reading a byte stream (a pipe) line by line: the prctl helper's protocol, and tests reading waspd. */

/**
 * The lines of a byte stream, without their newlines. A last line with no
 * newline is kept unless blank, or dropped with `unterminated: "drop"` (a
 * writer killed mid-line left it cut off).
 */
export async function* lines(
  stream: ReadableStream<Uint8Array>,
  unterminated: "keep" | "drop" = "keep",
): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
    }
  }
  if (unterminated === "keep" && buffered.trim() !== "") yield buffered;
}
