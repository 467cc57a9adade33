/**
 * The prctl helper client against a fake helper (in-process, real timers):
 * the deadline times the kernel call, not the helper's start-up; start-up has
 * its own timeout and is never "stuck"; a stuck helper is abandoned, a fresh
 * one takes the next call, and the late answer still arrives.
 */
import assert from "node:assert/strict";
import type { ActionResult } from "../src/core/types.ts";
import { LinuxMitosis } from "../src/sys/mitosis/linux.ts";
import type { HelperLauncher, HelperLink } from "../src/sys/mitosis/prctl_spawn.ts";
import {
  MAX_OVERDUE_CALLS,
  MAX_RETIRED_HELPERS,
  PrctlClient,
} from "../src/sys/mitosis/prctl_client.ts";
import { encodeMessage, parseRequest } from "../src/sys/mitosis/prctl_protocol.ts";
import { LineTooLong } from "../src/sys/stream_lines.ts";

interface FakeOptions {
  /** Until "ready". */
  startMs: number;
  /** From "begin" to "done". */
  answerMs: number;
  /** Calls on these pids begin and never return until `release(pid)`. */
  stuckPids?: number[];
  /** What every call returns. */
  rc?: number;
}

/** A fake helper process: speaks the protocol, answers from timers. */
function fakeHelpers(options: FakeOptions) {
  const helpers: {
    release(pid: number): void;
    killed: boolean;
    /** Its input was closed (retired, or at exit). */
    inputEnded: boolean;
  }[] = [];
  const launch: HelperLauncher = () => {
    const queue: string[] = [];
    let wake: (() => void) | null = null;
    let ended = false;
    let inputEnded = false;
    let exit!: () => void;
    const exited = new Promise<void>((resolve) => exit = resolve);
    const timers = new Set<ReturnType<typeof setTimeout>>();
    const held = new Map<number, number>(); // pid -> request id
    const later = (ms: number, fn: () => void) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        fn();
      }, ms);
      timers.add(timer);
    };
    const push = (line: string) => {
      if (ended) return;
      queue.push(line);
      wake?.();
    };
    const end = () => {
      if (ended) return;
      ended = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      wake?.();
      exit();
    };
    const done = (id: number, rc: number) => {
      push(
        encodeMessage({
          type: "done",
          id,
          rc,
          errno: rc < 0 ? 22 : 0,
        }).trim(),
      );
      if (inputEnded && held.size === 0 && timers.size === 0) end();
    };
    const state = {
      killed: false,
      inputEnded: false,
      release(pid: number) {
        const id = held.get(pid);
        if (id === undefined) return;
        held.delete(pid);
        done(id, 0);
      },
    };
    helpers.push(state);
    later(
      options.startMs,
      () => push(encodeMessage({ type: "ready", pid: 1000 + helpers.length }).trim()),
    );
    async function* lines(): AsyncGenerator<string> {
      while (true) {
        const line = queue.shift();
        if (line !== undefined) {
          yield line;
          continue;
        }
        if (ended) return;
        await new Promise<void>((resolve) => wake = resolve);
        wake = null;
      }
    }
    const link: HelperLink = {
      lines: lines(),
      send(line) {
        const request = parseRequest(line.trim());
        if (typeof request === "string") throw new Error(request);
        later(0, () => {
          push(encodeMessage({ type: "begin", id: request.id }).trim());
          if (options.stuckPids?.includes(request.pid)) held.set(request.pid, request.id);
          else later(options.answerMs, () => done(request.id, options.rc ?? 0));
        });
        return Promise.resolve();
      },
      endInput() {
        inputEnded = true;
        state.inputEnded = true;
        if (held.size === 0 && timers.size === 0) end();
      },
      kill() {
        state.killed = true;
        end();
      },
      exited,
      stderrTail: () => "",
    };
    return link;
  };
  return { launch, helpers };
}

const key = (pid: number) => ({ pid, startTime: 1 });

/** A client whose call on `pid` overran `deadlineMs` (the fake never answers it). */
async function stuckCall(pid: number, deadlineMs: number) {
  const fake = fakeHelpers({ startMs: 20, answerMs: 10, stuckPids: [pid] });
  const client = new PrctlClient({ launch: fake.launch });
  const stuck = await client.setReplication(`enable ${pid}`, 1, pid, deadlineMs);
  assert.equal(!stuck.ok && stuck.stuck, true);
  return { fake, client, stuck };
}

Deno.test("a helper that takes 3 s to start and 10 ms to answer: calls succeed under a 2 s deadline", async () => {
  const fake = fakeHelpers({ startMs: 3000, answerMs: 10 });
  const mitosis = new LinuxMitosis("/proc", { helper: { launch: fake.launch } });
  const first = await mitosis.setReplication(key(4242), 1, 2000);
  assert.deepEqual(first, { ok: true, value: 0 });
  const second = await mitosis.setReplication(key(4243), 0, 2000);
  assert.deepEqual(second, { ok: true, value: 0 });
  assert.equal(fake.helpers.length, 1, "one helper, started once, serves every call");
  assert.equal(await mitosis.drain(1000), 0);
});

Deno.test("warmUp starts the helper before the first call; concurrent calls share it", async () => {
  const fake = fakeHelpers({ startMs: 50, answerMs: 10 });
  const client = new PrctlClient({ launch: fake.launch });
  client.warmUp();
  assert.equal(fake.helpers.length, 1);
  const results = await Promise.all(
    [11, 12, 13].map((pid) => client.setReplication(`call ${pid}`, 1, pid, 2000)),
  );
  assert.deepEqual(results, [0, 0, 0].map((value) => ({ ok: true, value })));
  assert.equal(fake.helpers.length, 1);
  assert.equal(await client.close(1000), 0);
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("an idle helper is retired after the quiet time; the next call starts a fresh one", async () => {
  const fake = fakeHelpers({ startMs: 10, answerMs: 5 });
  const client = new PrctlClient({ launch: fake.launch, idleMs: 150 });
  assert.equal(fake.helpers.length, 0, "no call, no helper");
  assert.deepEqual(await client.setReplication("e 21", 1, 21, 2000), { ok: true, value: 0 });
  await pause(60);
  // A call inside the quiet time keeps the helper and starts the quiet time again.
  assert.deepEqual(await client.setReplication("e 22", 1, 22, 2000), { ok: true, value: 0 });
  await pause(100);
  assert.equal(
    fake.helpers[0]?.inputEnded,
    false,
    "160 ms after the first call, 100 after the last",
  );
  await pause(150);
  assert.equal(fake.helpers[0]?.inputEnded, true, "retired once quiet for 150 ms");
  assert.equal(fake.helpers[0]?.killed, false, "retired by closing its input, not killed");
  assert.deepEqual(await client.setReplication("e 23", 1, 23, 2000), { ok: true, value: 0 });
  assert.equal(fake.helpers.length, 2);
  assert.equal(await client.close(500), 0);
});

Deno.test("a helper holding a stuck call is not retired; its quiet time starts when the call returns", async () => {
  const fake = fakeHelpers({ startMs: 10, answerMs: 5, stuckPids: [31] });
  const client = new PrctlClient({ launch: fake.launch, idleMs: 80 });
  const stuck = await client.setReplication("e 31", 1, 31, 30);
  assert.equal(!stuck.ok && stuck.stuck, true);
  await pause(200);
  assert.equal(fake.helpers[0]?.inputEnded, false);
  assert.equal(client.abandoned, 0, "an idle helper is never counted as blocked");
  fake.helpers[0]?.release(31);
  assert.deepEqual(!stuck.ok && stuck.late ? await stuck.late : null, { ok: true, value: 0 });
  await pause(200);
  assert.equal(fake.helpers[0]?.inputEnded, true);
  assert.equal(await client.close(500), 0);
});

Deno.test("a helper that does not start in time: its own message, never stuck, nothing called", async () => {
  const fake = fakeHelpers({ startMs: 400, answerMs: 10 });
  const client = new PrctlClient({ launch: fake.launch, startupTimeoutMs: 100 });
  const result = await client.setReplication("prctl(100, 0x1, pid 42)", 1, 42, 2000);
  assert.equal(result.ok, false);
  assert.equal(!result.ok && result.stuck, false);
  assert.equal(!result.ok && !result.stuck && result.errno, "ETIMEDOUT");
  assert.match(
    !result.ok ? result.message : "",
    /helper did not start within 0.1 s.*nothing was called/,
  );
  assert.doesNotMatch(!result.ok ? result.message : "", /stuck|did not return/);
  // The same helper, once ready, serves the next call.
  await new Promise((resolve) => setTimeout(resolve, 400));
  assert.deepEqual(await client.setReplication("again", 1, 42, 2000), { ok: true, value: 0 });
  assert.equal(fake.helpers.length, 1);
  assert.equal(await client.close(1000), 0);
});

Deno.test("a stuck call: only the call is abandoned, the same helper takes the next call, the late answer arrives", async () => {
  const { fake, client, stuck } = await stuckCall(77, 100);
  assert.match(!stuck.ok ? stuck.message : "", /enable 77 did not return within 100 ms/);
  assert.equal(client.abandoned, 0, "the helper is kept: the blocked call has its own Worker");
  const next = await client.setReplication("enable 78", 1, 78, 2000);
  assert.deepEqual(next, { ok: true, value: 0 });
  assert.equal(fake.helpers.length, 1, "the next call went to the same helper");
  assert.equal(fake.helpers[0]?.killed, false, "the blocked call is left to finish");
  fake.helpers[0]?.release(77);
  const late: ActionResult | null = !stuck.ok && stuck.late ? await stuck.late : null;
  assert.deepEqual(late, { ok: true, value: 0 });
  assert.equal(await client.close(1000), 0);
});

Deno.test("blocked calls are bounded: a full helper is retired, and past the cap calls are refused", async () => {
  const perHelper = MAX_OVERDUE_CALLS;
  const stuckPids = Array.from(
    { length: perHelper * (MAX_RETIRED_HELPERS + 1) },
    (_, i) => 100 + i,
  );
  const fake = fakeHelpers({ startMs: 10, answerMs: 10, stuckPids });
  const client = new PrctlClient({ launch: fake.launch });
  const all = [];
  for (let h = 0; h < MAX_RETIRED_HELPERS; h++) {
    const batch = stuckPids.slice(h * perHelper, (h + 1) * perHelper);
    all.push(
      ...await Promise.all(batch.map((pid) => client.setReplication(`e ${pid}`, 1, pid, 30))),
    );
  }
  assert.ok(all.every((r) => !r.ok && r.stuck), "each overran");
  assert.equal(fake.helpers.length, MAX_RETIRED_HELPERS, "one helper per full batch");
  assert.equal(client.abandoned, MAX_RETIRED_HELPERS, "full helpers are retired");
  const refused = await client.setReplication("e 999", 1, 999, 30);
  assert.equal(!refused.ok && !refused.stuck && refused.errno, "EAGAIN");
  assert.match(
    !refused.ok ? refused.message : "",
    /still blocked in the kernel; nothing was called/,
  );
  assert.equal(fake.helpers.length, MAX_RETIRED_HELPERS, "no helper started past the cap");
  // Once a retired helper's calls return, it exits and a fresh one may start.
  for (const pid of stuckPids.slice(0, perHelper)) fake.helpers[0]?.release(pid);
  await Promise.all(all.slice(0, perHelper).map((r) => (!r.ok && r.late) ? r.late : null));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(client.abandoned, MAX_RETIRED_HELPERS - 1);
  assert.deepEqual(await client.setReplication("e 1000", 1, 1000, 2000), { ok: true, value: 0 });
  assert.equal(await client.close(500), 0);
});

Deno.test("at exit every helper is killed and none is waited for past the grace", async () => {
  const { fake, client, stuck } = await stuckCall(90, 50);
  assert.equal(await client.close(500), 0);
  assert.equal(fake.helpers[0]?.killed, true);
  // Killed before it answered: the late answer is known to be lost.
  assert.equal(!stuck.ok && stuck.late ? await stuck.late : "none", null);
  const after = await client.setReplication("after close", 1, 91, 50);
  assert.equal(!after.ok && !after.stuck && after.errno, "EIO");
});

Deno.test("a helper writing a line past the cap is killed, even between calls; the next call gets a fresh one", async () => {
  const fake = fakeHelpers({ startMs: 0, answerMs: 10 });
  let killed = false;
  let exit!: () => void;
  const exited = new Promise<void>((resolve) => exit = resolve);
  const endless: HelperLink = {
    lines: (async function* () {
      yield encodeMessage({ type: "ready", pid: 999 }).trim();
      // What `lines` throws on an unterminated line past MAX_HELPER_LINE.
      throw new LineTooLong("a line longer than 65536 characters");
    })(),
    send: () => Promise.resolve(),
    endInput() {},
    kill() {
      killed = true;
      exit();
    },
    exited,
    stderrTail: () => "",
  };
  let launched = 0;
  const client = new PrctlClient({ launch: () => launched++ === 0 ? endless : fake.launch() });
  client.warmUp();
  // No call is under way: only the client's reading can end it.
  const timer = setTimeout(exit, 2000);
  await exited;
  clearTimeout(timer);
  assert.ok(killed, "the helper off its protocol is killed");
  const call = await client.setReplication("enable 7", 1, 7, 2000);
  assert.equal(call.ok, true, JSON.stringify(call));
  assert.equal(launched, 2, "a fresh helper took the call");
  assert.equal(await client.close(100), 0);
});
