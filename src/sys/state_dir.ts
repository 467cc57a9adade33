/**
 * Whether waspd may believe what its state directory holds. owned.json tells
 * a root daemon which processes to adopt and what to write to
 * /proc/mitosis/inherit; pins.json which processes to leave alone. Anyone
 * who can write the directory can write those files (or swap them), so the
 * directory must be owned by root or by the user running waspd, and be
 * writable by nobody else. Otherwise the files in it are not read: waspd
 * warns, adopts nothing and honours no pin from there, and still runs.
 */

/** What `judgeStateDir` looks at: lstat's owner and mode of the directory. */
export interface DirFacts {
  uid: number | null;
  /** st_mode's permission bits (and file type bits, ignored). */
  mode: number | null;
  isDirectory: boolean;
}

/** Why `dir` is not to be trusted by a process of effective uid `euid`, or null. Pure. */
export function judgeStateDir(dir: string, facts: DirFacts, euid: number | null): string | null {
  const lead = `state directory ${dir}`;
  if (!facts.isDirectory) return `${lead} is not a directory`;
  const owners = euid === null || euid === 0 ? [0] : [0, euid];
  if (facts.uid === null || !owners.includes(facts.uid)) {
    const who = euid === null || euid === 0 ? "root" : `root or uid ${euid}`;
    return `${lead} is owned by uid ${facts.uid ?? "unknown"}, not ${who}`;
  }
  if (facts.mode === null) return `${lead}: its permissions are unknown`;
  if ((facts.mode & 0o022) !== 0) {
    const octal = (facts.mode & 0o7777).toString(8).padStart(4, "0");
    return `${lead} is writable by ${facts.mode & 0o020 ? "its group" : "others"} (mode ${octal})`;
  }
  return null;
}

/**
 * `judgeStateDir` on the directory as it is now (stat follows a link to it:
 * the directory the files are opened in is what counts). A directory that
 * does not exist yet is fine: waspd creates it, 0755, as its own.
 */
export function stateDirDistrust(dir: string, euid: number | null = Deno.uid()): string | null {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(dir);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    return `state directory ${dir} cannot be checked (${(error as Error).name})`;
  }
  return judgeStateDir(
    dir,
    { uid: info.uid, mode: info.mode, isDirectory: info.isDirectory },
    euid,
  );
}

/** The directory a state file is in. */
export function dirOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash > 0 ? path.slice(0, slash) : slash === 0 ? "/" : ".";
}
