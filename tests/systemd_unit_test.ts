/**
 * deploy/systemd/waspd.service checked by systemd itself: `systemd-analyze
 * verify` in a scratch root holding the unit, the distribution's own units
 * and an executable at ExecStart's path (verify checks that it exists), then
 * `systemctl --root enable`, as the README's install steps do. Needs
 * Debian's `systemd` package (systemd-analyze); skipped without it.
 */
import assert from "node:assert/strict";
import { debianTool } from "./support/debian.ts";
import { standInBinary, systemdRoot } from "./support/systemd_root.ts";

const analyze = await debianTool("systemd-analyze", "systemd");
const systemctl = analyze === null ? null : await debianTool("systemctl", "systemd");
const UNIT = new URL("../deploy/systemd/waspd.service", import.meta.url).pathname;

async function run(cmd: string, args: string[]): Promise<{ ok: boolean; text: string }> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const d = new TextDecoder();
  return { ok: out.success, text: (d.decode(out.stdout) + d.decode(out.stderr)).trim() };
}

/**
 * Runs `use` on a scratch root holding the unit under test and a stand-in at
 * ExecStart's path, and removes the root afterwards whatever happens.
 */
async function withScratchRoot<T>(unitText: string, use: (root: string) => Promise<T>): Promise<T> {
  const root = await systemdRoot();
  try {
    await Deno.mkdir(`${root}/usr/local/sbin`, { recursive: true });
    await Deno.copyFile(await standInBinary(root), `${root}/usr/local/sbin/waspd`);
    await Deno.writeTextFile(`${root}/etc/systemd/system/waspd.service`, unitText);
    return await use(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

function verify(unitText: string): Promise<{ ok: boolean; text: string }> {
  return withScratchRoot(
    unitText,
    (root) => run(analyze!, ["verify", `--root=${root}`, "waspd.service"]),
  );
}

Deno.test({
  name: "systemd-analyze verify: the unit is valid, with no warning at all",
  ignore: analyze === null,
  fn: async () => {
    const r = await verify(await Deno.readTextFile(UNIT));
    assert.ok(r.ok, r.text);
    assert.equal(r.text, "", "verify printed warnings");
  },
});

Deno.test({
  name: "systemd-analyze verify reports a misspelt key (the check has teeth)",
  ignore: analyze === null,
  fn: async () => {
    const text = (await Deno.readTextFile(UNIT)).replace("ProtectSystem=", "ProtectSystm=");
    const r = await verify(text);
    assert.match(r.text, /Unknown key 'ProtectSystm'/);
  },
});

Deno.test({
  name: "the unit runs headless with metrics, restarts on failure, and is hardened",
  fn: async () => {
    const text = await Deno.readTextFile(UNIT);
    const value = (key: string) => text.match(new RegExp(`^${key}=(.*)$`, "m"))?.[1];
    assert.match(value("ExecStart") ?? "", /--headless --metrics \S+ \$WASPD_ARGS$/);
    assert.equal(value("Restart"), "on-failure");
    assert.equal(value("EnvironmentFile"), "-/etc/default/waspd");
    assert.equal(value("NoNewPrivileges"), "yes");
    assert.equal(value("ProtectSystem"), "strict");
    assert.equal(value("ReadWritePaths"), "/run/waspd");
    assert.equal(value("ProtectHome"), "yes");
    assert.equal(value("PrivateTmp"), "yes");
    assert.equal(value("CapabilityBoundingSet"), "CAP_PERFMON");
    // The undo makes one bounded prctl per process: the stop timeout must exceed it.
    const stop = Number(value("TimeoutStopSec")?.replace(/s$/, ""));
    assert.ok(stop >= 30, `TimeoutStopSec ${stop}`);
  },
});

Deno.test("the unit is a notify service systemd watches, reloads, and does not restart on a usage error", async () => {
  const text = await Deno.readTextFile(UNIT);
  const value = (key: string) => text.match(new RegExp(`^${key}=(.*)$`, "m"))?.[1];
  assert.equal(value("Type"), "notify");
  assert.equal(value("NotifyAccess"), "main");
  const watchdog = Number(value("WatchdogSec")?.replace(/s$/, ""));
  assert.ok(watchdog >= 10, `WatchdogSec ${watchdog}`);
  assert.equal(value("ExecReload"), "/bin/kill -HUP $MAINPID");
  assert.equal(value("RestartPreventExitStatus"), "2");
  // The notify socket is a unix socket: the address families must keep AF_UNIX.
  assert.match(value("RestrictAddressFamilies") ?? "", /\bAF_UNIX\b/);
});

Deno.test({
  name: "systemd-analyze security: the unit's exposure is no worse than 3.6",
  ignore: analyze === null,
  fn: async () => {
    const r = await withScratchRoot(
      await Deno.readTextFile(UNIT),
      (root) => run(analyze!, ["security", "--offline=yes", `--root=${root}`, "waspd.service"]),
    );
    const score = Number(
      /Overall exposure level for waspd\.service: (\d+\.\d+)/.exec(r.text)?.[1],
    );
    assert.ok(Number.isFinite(score), r.text.slice(-400));
    assert.ok(score <= 3.6, `exposure ${score}`);
  },
});

Deno.test({
  name: "systemctl --root enable links the unit into multi-user.target",
  ignore: systemctl === null,
  fn: async () => {
    await withScratchRoot(await Deno.readTextFile(UNIT), async (root) => {
      const r = await run(systemctl!, [`--root=${root}`, "enable", "waspd.service"]);
      assert.ok(r.ok, r.text);
      const link = await Deno.readLink(
        `${root}/etc/systemd/system/multi-user.target.wants/waspd.service`,
      );
      assert.equal(link, "/etc/systemd/system/waspd.service");
    });
  },
});
