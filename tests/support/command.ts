/** Running other programs from tests. */

/** Run `program ARGS` with `input` on its stdin; its exit status and output. */
export async function outputWithInput(
  program: string,
  args: string[],
  input: string,
): Promise<Deno.CommandOutput> {
  const child = new Deno.Command(program, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  return await child.output();
}

/**
 * `sleep 30` as user and group nobody (65534) with no supplementary groups:
 * another user's process, alive for the length of a test. Needs root.
 */
export function sleepAsNobody(): Deno.ChildProcess {
  return new Deno.Command("setpriv", {
    args: ["--reuid=65534", "--regid=65534", "--clear-groups", "sleep", "30"],
    stdout: "null",
    stderr: "null",
  }).spawn();
}
