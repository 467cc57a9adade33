/**
 * The live screen end to end in a real terminal (tmux), against the simulated
 * machine: keys go in with send-keys, the screen comes back with
 * capture-pane. After `q` the shell's screen and tty modes are back and the
 * undo turned off every replication waspd had turned on.
 *
 * Needs tmux (Debian's package; .ci/run installs it). Without it the test is
 * reported as ignored, never as passed.
 */
import assert from "node:assert/strict";
import { hasTmux, tmux } from "./support/tmux.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Poll `probe` every 100 ms until it returns a value or 20 s pass. */
async function waitFor<T>(what: string, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== null) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test({
  name: "tmux: the live screen draws, takes keys, and q restores the terminal with nothing left on",
  ignore: !hasTmux(),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "waspd-tmux-" });
    const session = `waspd-e2e-${Deno.pid}`;
    const script = [
      `stty -g > ${dir}/before`,
      `'${Deno.execPath()}' run -A '${MAIN}' --sim 4 --time-scale 4 -u 250 -y 4000 -i 8000`,
      `echo $? > ${dir}/exit`,
      `stty -g > ${dir}/after`,
      "sleep 60",
    ].join("; ");
    await tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "36", script);
    const pane = () => tmux("capture-pane", "-p", "-t", session);
    const screenHas = (text: string | RegExp) => async () => {
      const screen = await pane();
      return (typeof text === "string" ? screen.includes(text) : text.test(screen)) ? screen : null;
    };
    try {
      const first = await waitFor("the first frame", screenHas(/PTL latency/));
      assert.match(first, /SIMULATED/);
      assert.match(first, /stream/);
      assert.equal((await tmux("display", "-p", "-t", session, "#{alternate_on}")).trim(), "1");

      await tmux("send-keys", "-t", session, "c");
      await waitFor("the cache acknowledgement", screenHas(/cache raised to \d+ pages/));
      await tmux("send-keys", "-t", session, "?");
      await waitFor("the help", screenHas(/pin the selected process/i));
      await tmux("send-keys", "-t", session, "?");
      await waitFor("replication", screenHas(/ACTIVE/));

      await tmux("send-keys", "-t", session, "q");
      const exit = await waitFor("waspd to exit", async () => {
        try {
          return (await Deno.readTextFile(`${dir}/exit`)).trim();
        } catch {
          return null;
        }
      });
      await waitFor("the tty modes to be saved", async () => {
        try {
          return (await Deno.readTextFile(`${dir}/after`)).trim() || null;
        } catch {
          return null;
        }
      });
      assert.equal(exit, "0");
      const shell = await pane();
      assert.match(shell, /replication turned off for pid \d+/);
      assert.doesNotMatch(shell, /could not turn replication off/);
      assert.equal(
        await Deno.readTextFile(`${dir}/after`),
        await Deno.readTextFile(`${dir}/before`),
        "tty modes restored",
      );
      const flags = (await tmux("display", "-p", "-t", session, "#{alternate_on} #{cursor_flag}"))
        .trim();
      assert.equal(flags, "0 1", "main screen, visible cursor");
    } finally {
      await tmux("kill-session", "-t", session).catch(() => "");
      await Deno.remove(dir, { recursive: true });
    }
  },
});
