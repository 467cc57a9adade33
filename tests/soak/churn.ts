/**
 * Churn for the soak: processes and threads starting and dying, steadily,
 * for `ms` milliseconds (first argument). Processes are `sleep` children,
 * each alive 50-250 ms, one started every 10 ms (about 100 forks/s, ~15
 * alive); threads are Workers, each alive ~100 ms, one every 20 ms (~50
 * threads/s). Prints "processes N threads M" when done.
 */
const ms = Number(Deno.args[0] ?? 60_000);
const stopAt = performance.now() + ms;
const delay = (t: number) => new Promise((r) => setTimeout(r, t));

let processes = 0;
let threads = 0;

async function forkLoop(): Promise<void> {
  const alive = new Set<Promise<unknown>>();
  while (performance.now() < stopAt) {
    const life = (0.05 + Math.random() * 0.2).toFixed(3);
    const child = new Deno.Command("sleep", { args: [life], stdin: "null", stdout: "null" })
      .spawn();
    const done = child.status.finally(() => alive.delete(done));
    alive.add(done);
    processes++;
    await delay(10);
  }
  await Promise.all(alive);
}

const WORKER = URL.createObjectURL(
  new Blob(["setTimeout(() => self.close(), 100);"], { type: "text/javascript" }),
);

async function threadLoop(): Promise<void> {
  while (performance.now() < stopAt) {
    const worker = new Worker(WORKER, { type: "module" });
    setTimeout(() => worker.terminate(), 300);
    threads++;
    await delay(20);
  }
  await delay(400);
}

await Promise.all([forkLoop(), threadLoop()]);
console.log(`processes ${processes} threads ${threads}`);
