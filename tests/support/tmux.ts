/** tmux for the live-screen tests: whether it is there, and one command's output. */

export function hasTmux(): boolean {
  try {
    return new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

export async function tmux(...args: string[]): Promise<string> {
  const out = await new Deno.Command("tmux", { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`tmux ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

/** Start a detached session `name` (120x36 unless told) whose shell runs `script`. */
export async function newSession(
  name: string,
  script: string,
  size: { cols: number; rows: number } = { cols: 120, rows: 36 },
): Promise<void> {
  await tmux(
    "new-session",
    "-d",
    "-s",
    name,
    "-x",
    String(size.cols),
    "-y",
    String(size.rows),
    script,
  );
}

/** What session `name` shows now. */
export function screenOf(name: string): Promise<string> {
  return tmux("capture-pane", "-p", "-t", name);
}

/** The trimmed text of `path` (an exit code or tty modes a session's script wrote), null until there is some. */
export async function writtenText(path: string): Promise<string | null> {
  const text = await Deno.readTextFile(path).then((t) => t.trim(), () => "");
  return text === "" ? null : text;
}

/**
 * A scratch directory and a detached session `name-PID` whose shell runs
 * `script(dir)`, for `use`; the session is killed and the directory removed
 * afterwards whatever happens.
 */
export async function inSession(
  name: string,
  script: (dir: string) => string,
  use: (session: string, dir: string) => Promise<void>,
  size?: { cols: number; rows: number },
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: `${name}-` });
  const session = `${name}-${Deno.pid}`;
  try {
    await newSession(session, script(dir), size);
    await use(session, dir);
  } finally {
    await tmux("kill-session", "-t", session).catch(() => "");
    await Deno.remove(dir, { recursive: true });
  }
}
