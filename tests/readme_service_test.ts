/**
 * Every command of the README's "Run as a service" and "Monitor a fleet"
 * sections, run. Machine paths (/etc, /usr) are redirected into a scratch
 * root and systemd's tools get `--root` (this machine's systemd is not PID
 * 1, so `systemctl enable --now` can link the unit but not start it). The
 * `journalctl` step is not checkable here: with no running service the
 * journal has no waspd entries, so running it could not fail; it is named
 * and skipped, and the --headless tests check the priority-prefixed lines the
 * journal would get. The steps on a running service (status, reload, logs,
 * the watchdog's counters, stop) are run under a real systemd in the QEMU
 * systemd guest (tests/vm/systemd_guest.sh). The curl scrape goes to a live `waspd --sim`. A README
 * command this test does not know fails it, so the sections cannot drift.
 * Needs Debian's prometheus and systemd packages; skipped without them.
 */
import assert from "node:assert/strict";
import { debianTool } from "./support/debian.ts";
import { poll } from "./support/poll.ts";
import { commandsOf, readmeBlocks } from "./support/readme.ts";
import { standInBinary, systemdRoot } from "./support/systemd_root.ts";
import { scrape, spawnWaspd } from "./support/waspd.ts";

const promtool = await debianTool("promtool", "prometheus");
const analyze = await debianTool("systemd-analyze", "systemd");
const REPO = new URL("../", import.meta.url).pathname;

interface Run {
  /** The README's command, for messages. */
  readme: string;
  /** What runs here: a shell command line. */
  sh: string;
  /** Output is a failure (verify and promtool check print only problems). */
  silent: boolean;
}

/** A README command known to this test that cannot be checked on this machine, and why. */
interface NotCheckable {
  readme: string;
  notCheckable: string;
}

/** Where the steps this machine cannot run are run for real. */
const GUEST = "; the systemd guest runs it (tests/vm/systemd_checks.sh)";

/** The README command as it runs here, or null when this test does not know it. */
export function adapt(
  command: string,
  root: string,
  metricsHostPort: string,
): Run | NotCheckable | null {
  const c = command.replace(/^sudo /, "");
  const inRoot = (path: string) => (path.startsWith("/") ? `${root}${path}` : path);
  let m = /^install -m (\d+) (\S+) (\/\S+)$/.exec(c);
  if (m !== null) {
    const dest = inRoot(m[3]!);
    return { readme: command, sh: `install -D -m ${m[1]} ${m[2]} ${dest}`, silent: true };
  }
  m = /^systemd-analyze verify \/etc\/systemd\/system\/(\S+\.service)$/.exec(c);
  if (m !== null) {
    return { readme: command, sh: `systemd-analyze verify --root=${root} ${m[1]}`, silent: true };
  }
  m = /^systemctl enable --now (\S+)$/.exec(c);
  if (m !== null) {
    return { readme: command, sh: `systemctl --root=${root} enable ${m[1]}`, silent: false };
  }
  m = /^install -d (\/\S+)$/.exec(c);
  if (m !== null) return { readme: command, sh: `install -d ${inRoot(m[1]!)}`, silent: true };
  // The configuration file written, then read by waspd itself: a key or value it refuses fails here.
  m = /^printf '([^']*)' \| sudo tee (\/\S+\.toml)$/.exec(c);
  if (m !== null) {
    const file = inRoot(m[2]!);
    return {
      readme: command,
      sh: `printf '${m[1]}' > ${file} && ${Deno.execPath()} run -A main.ts --config ${file} ` +
        `--sim --once --json -u 100 > /dev/null`,
      silent: true,
    };
  }
  if (
    /^(systemctl (status|reload|stop) \S+|sudoedit \S+|journalctl -u \S+ -n \d+)$/.test(c) ||
    /^systemctl show \S+( -p \w+)+$/.test(c)
  ) {
    return {
      readme: command,
      notCheckable:
        `systemd is not PID 1 here: no service runs to show, edit live, reload or stop${GUEST}`,
    };
  }
  if (/^journalctl -u \S+ (-p \w+|-b)$/.test(c)) {
    return {
      readme: command,
      notCheckable:
        `no service ran here, so the journal is empty and any query of it passes${GUEST}`,
    };
  }
  if (c === "cat /proc/mitosis/active") {
    return { readme: command, notCheckable: `no Mitosis kernel here${GUEST}` };
  }
  m = /^curl -s http:\/\/127\.0\.0\.1:9110\/metrics \| promtool check metrics$/.exec(c);
  if (m !== null) {
    return {
      readme: command,
      sh: `curl -s http://${metricsHostPort}/metrics | promtool check metrics`,
      silent: true,
    };
  }
  if (/^promtool (check|test) rules deploy\/prometheus\/[\w.-]+\.yml$/.test(c)) {
    return { readme: command, sh: c, silent: false };
  }
  m = /^promtool check config (\/\S+)$/.exec(c);
  if (m !== null) {
    return { readme: command, sh: `promtool check config ${inRoot(m[1]!)}`, silent: false };
  }
  return null;
}

async function sh(line: string): Promise<{ ok: boolean; text: string }> {
  const out = await new Deno.Command("sh", {
    args: ["-c", line],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { ok: out.success, text: (d.decode(out.stdout) + d.decode(out.stderr)).trim() };
}

Deno.test({
  name:
    "README: every command of 'Run as a service' and 'Monitor a fleet' is known; each checkable one runs",
  ignore: promtool === null || analyze === null,
  fn: async () => {
    const service = (await readmeBlocks("Run as a service", "sh")).flatMap(commandsOf);
    const fleet = (await readmeBlocks("Monitor a fleet", "sh")).flatMap(commandsOf);
    const [scrapeConfig] = await readmeBlocks("Monitor a fleet", "yaml");
    assert.ok(service.length >= 4 && fleet.length >= 4 && scrapeConfig !== undefined);

    const root = await systemdRoot();
    const waspd = spawnWaspd(["--sim", "-u", "200", "--headless", "--metrics", "127.0.0.1:0"]);
    try {
      // What the README's steps start from: a built binary and Debian's prometheus.yml.
      const dist = `${REPO}dist/waspd`;
      const built = await Deno.stat(dist).then(() => true, () => false);
      const binary = built ? dist : await standInBinary(root);
      await Deno.mkdir(`${root}/etc/prometheus`, { recursive: true });
      await Deno.writeTextFile(`${root}/etc/prometheus/prometheus.yml`, scrapeConfig);
      const url = await waspd.metricsUrl();
      await poll("a full scrape", 30_000, async () => {
        const r = await scrape(url);
        return r?.status === 200 && r.body.includes("waspd_ptl_latency_seconds{") ? r : null;
      });
      const hostPort = new URL(url).host;

      for (const command of [...service, ...fleet]) {
        const run = adapt(command, root, hostPort);
        assert.ok(run !== null, `README command not covered by this test: ${command}`);
        if ("notCheckable" in run) {
          console.log(`not checkable here: ${command} (${run.notCheckable})`);
          continue;
        }
        const line = run.sh.replace(" dist/waspd ", ` ${binary} `);
        const r = await sh(line);
        assert.ok(r.ok, `${command}\n  ran as: ${line}\n${r.text}`);
        if (run.silent) assert.equal(r.text, "", `${command} printed: ${r.text}`);
      }
      // What the steps left behind in the root.
      // The link is absolute inside the root, as systemctl --root makes it.
      const link = `${root}/etc/systemd/system/multi-user.target.wants/waspd.service`;
      assert.equal(await Deno.readLink(link), "/etc/systemd/system/waspd.service");
      await Deno.stat(`${root}/etc/prometheus/waspd-rules.yml`);
    } finally {
      assert.equal(await waspd.stop(), 0);
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("README: an unknown command in the sections would not pass unnoticed", () => {
  assert.equal(adapt("rm -rf /etc/waspd", "/tmp/r", "127.0.0.1:1"), null);
  assert.equal(adapt("systemctl start waspd", "/tmp/r", "127.0.0.1:1"), null);
  assert.deepEqual(
    adapt("sudo install -m 0644 a.service /etc/systemd/system/a.service", "/r", "h:1"),
    {
      readme: "sudo install -m 0644 a.service /etc/systemd/system/a.service",
      sh: "install -D -m 0644 a.service /r/etc/systemd/system/a.service",
      silent: true,
    },
  );
});
