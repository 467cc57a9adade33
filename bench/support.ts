/**
 * What the benchmarks measure the same way: a process's CPU and memory from
 * /proc, and the CPU of one `ps -e` run as the yardstick every cost target
 * is set against. Benchmarks only; nothing here is shipped.
 */

/** Clock ticks per second of /proc/PID/stat's utime and stime (USER_HZ on Linux). */
export const CLK_TCK = 100;

/** utime+stime of the whole process (all threads), ms; null once it is gone. */
export function cpuMsOf(pid: number | "self"): number | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 1000 / CLK_TCK;
  } catch {
    return null;
  }
}

/** The four CPU fields of /proc/PID/stat, ms: own utime+stime, and reaped children's cutime+cstime. */
function statCpuMs(pid: number): { own: number; reaped: number } | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ms = (i: number) => Number(f[i]) * 1000 / CLK_TCK;
    return { own: ms(11) + ms(12), reaped: ms(13) + ms(14) };
  } catch {
    return null;
  }
}

/** Live descendants of `pid` (children of every thread, recursively). */
export function descendantsOf(pid: number): number[] {
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    let tasks: Deno.DirEntry[] = [];
    try {
      tasks = [...Deno.readDirSync(`/proc/${p}/task`)];
    } catch {
      continue; // gone
    }
    for (const t of tasks) {
      let text = "";
      try {
        text = Deno.readTextFileSync(`/proc/${p}/task/${t.name}/children`);
      } catch {
        continue;
      }
      for (const c of text.trim().split(/\s+/)) {
        if (c === "") continue;
        found.push(Number(c));
        queue.push(Number(c));
      }
    }
  }
  return found;
}

/**
 * CPU of `pid`'s whole tree, ms: its own, its live descendants' own, and
 * every reaped child's (cutime+cstime, which the kernel adds to the parent
 * that waited for it); null once `pid` is gone.
 */
export function treeCpuMs(pid: number): number | null {
  const root = statCpuMs(pid);
  if (root === null) return null;
  let total = root.own + root.reaped;
  for (const d of descendantsOf(pid)) {
    const s = statCpuMs(d);
    if (s !== null) total += s.own + s.reaped;
  }
  return total;
}

/** VmRSS of `pid` and its live descendants, kB; null once `pid` is gone. */
export function treeRssKb(pid: number): number | null {
  const own = statusKbOf(pid, "VmRSS");
  if (own === null) return null;
  return descendantsOf(pid).reduce((sum, d) => sum + (statusKbOf(d, "VmRSS") ?? 0), own);
}

/** A `kB` line of /proc/PID/status (VmRSS, VmHWM), in kB; null when absent or gone. */
export function statusKbOf(pid: number | "self", field: string): number | null {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/status`);
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

/** CPU ms (user+sys) of one `ps -e -o pid,stat,rss,comm`, measured by bash's `times`. */
export async function psCpuMs(): Promise<{ cpuMs: number; lines: number }> {
  const listing = await Deno.makeTempFile({ prefix: "waspd-bench-ps-" });
  try {
    const out = await new Deno.Command("bash", {
      args: ["-c", `ps -e -o pid,stat,rss,comm > '${listing}'; times`],
      stdout: "piped",
    }).output();
    // `times` prints shell then children: "0m0.002s 0m0.001s\n0m0.040s 0m0.020s".
    const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
    const [user, sys] = (lines.at(-1) ?? "").split(" ").map((t) => {
      const m = /(\d+)m([\d.]+)s/.exec(t);
      return m ? Number(m[1]) * 60_000 + Number(m[2]) * 1000 : NaN;
    });
    const psLines = (await Deno.readTextFile(listing)).split("\n").length - 1;
    return { cpuMs: (user ?? NaN) + (sys ?? NaN), lines: psLines };
  } finally {
    await Deno.remove(listing);
  }
}
