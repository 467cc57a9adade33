/** Scratch places for tests, removed afterwards, and probes for what this machine allows. */

/** A fresh directory for `use`, removed afterwards whatever happens. */
export async function inTempDir(
  prefix: string,
  use: (dir: string) => Promise<void> | void,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await use(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * mknod needs CAP_MKNOD: probe once (making /dev/null's numbers in a scratch
 * directory), so a device-node case is skipped, never passed, without it.
 */
export function canMknod(): boolean {
  const dir = Deno.makeTempDirSync({ prefix: "waspd-mknod-" });
  try {
    return new Deno.Command("mknod", { args: [`${dir}/null`, "c", "1", "3"], stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}
