/**
 * Tests that need a Debian tool (promtool, prometheus, systemd-analyze) call
 * `debianTool` at module load: the tool is used when present, installed
 * with apt-get when not (`apt-get update` first if the install fails), and
 * when neither works the tests that need it are registered with `ignore`,
 * so they are counted as ignored, never as passed.
 */

async function found(command: string): Promise<string | null> {
  const out = await new Deno.Command("sh", {
    args: ["-c", `command -v ${command}`],
    stdout: "piped",
    stderr: "null",
  }).output();
  const path = new TextDecoder().decode(out.stdout).trim();
  return out.success && path !== "" ? path : null;
}

async function aptGet(args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command("apt-get", {
      args,
      stdout: "null",
      stderr: "piped",
      env: { DEBIAN_FRONTEND: "noninteractive" },
    }).output();
    return out.success;
  } catch {
    return false; // no apt-get at all
  }
}

const installs = new Map<string, Promise<boolean>>();

/** Install `pkg` once per test process (several test files may ask). */
function install(pkg: string): Promise<boolean> {
  let p = installs.get(pkg);
  if (p === undefined) {
    const args = ["install", "-y", "-q", "--no-install-recommends", pkg];
    p = aptGet(args).then(async (ok) => ok || (await aptGet(["update", "-q"]) && aptGet(args)));
    installs.set(pkg, p);
  }
  return p;
}

/** The path of `command` from Debian package `pkg`, installing it if needed; null if unavailable. */
export async function debianTool(command: string, pkg: string): Promise<string | null> {
  const present = await found(command);
  if (present !== null) return present;
  if (!(await install(pkg))) {
    console.error(`(${command}: Debian package '${pkg}' could not be installed; tests skipped)`);
    return null;
  }
  return await found(command);
}
