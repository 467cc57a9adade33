/**
 * A scratch root for systemd's offline tools (`systemd-analyze verify
 * --root`, `systemctl --root`): the distribution's own units, so the unit
 * under test can name targets, and an executable at ExecStart's path, which
 * verify checks exists.
 */
const SYSTEM_UNITS = ["/usr/lib/systemd/system", "/lib/systemd/system"];

export async function systemdRoot(): Promise<string> {
  const units = SYSTEM_UNITS.find((d) => {
    try {
      return Deno.statSync(d).isDirectory;
    } catch {
      return false;
    }
  });
  if (units === undefined) throw new Error("no systemd unit directory on this machine");
  const root = await Deno.makeTempDir({ prefix: "waspd-root-" });
  await Deno.mkdir(`${root}/usr/lib/systemd`, { recursive: true });
  const cp = await new Deno.Command("cp", {
    args: ["-a", units, `${root}/usr/lib/systemd/system`],
  }).output();
  if (!cp.success) throw new Error(`cp ${units}: ${new TextDecoder().decode(cp.stderr)}`);
  await Deno.mkdir(`${root}/etc/systemd/system`, { recursive: true });
  // ExecReload's kill(1): verify checks that every command's executable exists.
  await Deno.mkdir(`${root}/bin`, { recursive: true });
  await Deno.writeTextFile(`${root}/bin/kill`, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  return root;
}

/** A stand-in for dist/waspd when it has not been built (verify only needs an executable). */
export async function standInBinary(dir: string): Promise<string> {
  const path = `${dir}/waspd-stand-in`;
  await Deno.writeTextFile(path, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  return path;
}
