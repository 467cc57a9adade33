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
import { poll } from "./support/poll.ts";
import { hasTmux, inSession, screenOf, tmux, writtenText } from "./support/tmux.ts";
import { MAIN } from "./support/waspd.ts";

/** How long each step of the screen may take: a hang guard, not a speed limit. */
const STEP_MS = 20_000;

Deno.test({
  name: "tmux: the live screen draws, takes keys, and q restores the terminal with nothing left on",
  ignore: !hasTmux(),
  async fn() {
    await inSession(
      "waspd-e2e",
      (dir) =>
        [
          `stty -g > ${dir}/before`,
          `'${Deno.execPath()}' run -A '${MAIN}' --sim 4 --time-scale 4 -u 250 -y 4000 -i 8000`,
          `echo $? > ${dir}/exit`,
          `stty -g > ${dir}/after`,
          "sleep 60",
        ].join("; "),
      async (session, dir) => {
        const pane = () => screenOf(session);
        const screenHas = (text: string | RegExp) => async () => {
          const screen = await pane();
          return (typeof text === "string" ? screen.includes(text) : text.test(screen))
            ? screen
            : null;
        };
        const first = await poll("the first frame", STEP_MS, screenHas(/PTL latency/));
        assert.match(first, /SIMULATED/);
        assert.match(first, /stream/);
        assert.equal((await tmux("display", "-p", "-t", session, "#{alternate_on}")).trim(), "1");

        await tmux("send-keys", "-t", session, "c");
        await poll("the cache acknowledgement", STEP_MS, screenHas(/cache raised to \d+ pages/));
        await tmux("send-keys", "-t", session, "?");
        await poll("the help", STEP_MS, screenHas(/pin the selected process/i));
        await tmux("send-keys", "-t", session, "?");
        await poll("the column help", STEP_MS, screenHas(/FLIP +time left before/));
        await tmux("send-keys", "-t", session, "Escape");
        await poll(
          "the help closed",
          STEP_MS,
          async () => /FLIP +time left/.test(await pane()) ? null : true,
        );
        await poll("replication", STEP_MS, screenHas(/ACTIVE/));

        await tmux("send-keys", "-t", session, "q");
        const exit = await poll("waspd to exit", STEP_MS, () => writtenText(`${dir}/exit`));
        await poll("the tty modes to be saved", STEP_MS, () => writtenText(`${dir}/after`));
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
      },
    );
  },
});

Deno.test({
  name: "tmux 80x24: REASON shows, / filters as typed, Enter opens the detail view, Esc returns",
  ignore: !hasTmux(),
  async fn() {
    await inSession(
      "waspd-e2e-80",
      (dir) =>
        [
          `'${Deno.execPath()}' run -A '${MAIN}' --sim 4 --time-scale 4 -u 250 -y 4000 -i 8000`,
          `echo $? > ${dir}/exit`,
          "sleep 60",
        ].join("; "),
      async (session, dir) => {
        const screenHas = (text: string | RegExp) => async () => {
          const screen = await screenOf(session);
          return (typeof text === "string" ? screen.includes(text) : text.test(screen))
            ? screen
            : null;
        };
        const keys = (...k: string[]) => tmux("send-keys", "-t", session, ...k);
        // At 80 columns the REASON column stays, with a reason in the selected row.
        const first = await poll("the first frame", STEP_MS, screenHas(/ACTIVE/));
        const lines = first.split("\n");
        assert.ok(lines.every((l) => l.length <= 80));
        assert.ok(lines.some((l) => /^ +PID NAME .* STATUS +FLIP REASON *$/.test(l)), first);
        assert.ok(lines.some((l) => /^> +\d+ \S+ .* (MAR|dTLB) /.test(l)), first);

        // "/" then typing filters as it goes; the footer shows the filter.
        await keys("/");
        await tmux("send-keys", "-t", session, "-l", "stre");
        const filtered = await poll("the filter", STEP_MS, screenHas("filter: stre_"));
        const rows = filtered.split("\n").filter((l) => /^[> ] +\d+ \S/.test(l));
        assert.ok(rows.length >= 1 && rows.every((l) => / stream /.test(l)), filtered);
        await keys("Enter");
        await poll("the filter kept", STEP_MS, screenHas('filter "stre" (/ edit, Esc clear)'));

        // Enter opens the detail view of the selected process; samples build up.
        await keys("Enter");
        const detail = await poll(
          "the detail view with history",
          STEP_MS,
          screenHas(/last 60 s, ([4-9]|\d\d+) samples/),
        );
        assert.match(detail, /Process 2001 stream/);
        assert.match(detail, /MAR\/s +\S+ +[_.,:\-=+*#?]+ +min /);
        assert.match(detail, /replication +on, nodes 0,1,2,3/);
        assert.match(detail, /memory +RSS [\d.]+ GiB +threads 8 +page tables [\d.]+ MiB/);
        // Esc returns to the table, a second Esc clears the filter.
        await keys("Escape");
        await poll("back to the table", STEP_MS, screenHas(/Processes: .* of 1\b/));
        await keys("Escape");
        await poll("the filter cleared", STEP_MS, screenHas(/Processes: .*1-\d+ of ([2-9]|\d\d)/));

        await keys("q");
        assert.equal(await poll("waspd to exit", STEP_MS, () => writtenText(`${dir}/exit`)), "0");
      },
      { cols: 80, rows: 24 },
    );
  },
});

Deno.test({
  name: "tmux: closing the terminal (a dropped ssh session) undoes everything, slow calls included",
  ignore: !hasTmux(),
  async fn() {
    const log = await Deno.makeTempFile({ prefix: "waspd-hangup-", suffix: ".jsonl" });
    const stateDir = await Deno.makeTempDir({ prefix: "waspd-hangup-state-" });
    try {
      await inSession(
        "waspd-hangup",
        () =>
          // waspd is the pane's own process: killing the session closes the
          // pty's master, and the kernel hangs up waspd's terminal.
          `exec '${Deno.execPath()}' run -A '${MAIN}' --sim 4 --time-scale 4 -u 250 -y 2000 ` +
          `-i 8000 --sim-prctl-ms 400 --log '${log}' --state-dir '${stateDir}'`,
        async (session) => {
          await poll(
            "replication",
            STEP_MS,
            async () => (/ACTIVE/.test(await screenOf(session)) ? true : null),
          );
          await tmux("kill-session", "-t", session);
        },
      );
      // The undo ends with inherit put back; then the state lock is let go.
      const lines = await poll("the undo in --log", STEP_MS * 3, async () => {
        const text = await Deno.readTextFile(log);
        return /inherit restored/.test(text) ? text : null;
      });
      const events = lines.trim().split("\n").map((line) => JSON.parse(line));
      const enabled = new Set(events.filter((e) => e.kind === "enable").map((e) => e.pid));
      const undone = events.filter((e) =>
        e.kind === "undo" && /replication turned off/.test(e.message)
      );
      assert.ok(enabled.size > 0, "something was replicated before the hangup");
      assert.ok(undone.length > 0, "the undo turned replication off");
      assert.ok(!events.some((e) => e.kind === "error" && /could not/.test(e.message)), lines);
      // The simulated kernel, as this waspd left it: nothing replicated, inherit as found.
      const sim = JSON.parse(await Deno.readTextFile(`${stateDir}/sim-kernel.json`));
      assert.deepEqual(sim.processes, []);
      assert.equal(sim.inherit, 1, "inherit as found");
      assert.equal(sim.mode, -1, "mode as found");
    } finally {
      await Deno.remove(log).catch(() => {});
      await Deno.remove(stateDir, { recursive: true }).catch(() => {});
    }
  },
});
