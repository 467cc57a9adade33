/** The probe's owners: the shared abort flag and the worker pool release what they hold. */
import assert from "node:assert/strict";
import { SharedAbortFlag } from "../probe/abort_flag.ts";
import { ProbeWorkerPool } from "../probe/worker_pool.ts";

Deno.test("SharedAbortFlag: raised by the signal while owned, deaf to it once disposed", () => {
  const controller = new AbortController();
  let view: Int32Array;
  {
    using flag = new SharedAbortFlag(controller.signal);
    view = new Int32Array(flag.buffer);
    assert.equal(flag.raised, false);
    controller.abort();
    assert.equal(flag.raised, true);
    assert.equal(Atomics.load(view, 0), 1);
  }
  const later = new AbortController();
  let disposed: SharedAbortFlag;
  {
    using flag = new SharedAbortFlag(later.signal);
    disposed = flag;
  }
  later.abort(); // the listener went with the flag
  assert.equal(disposed.raised, false);
  const already = AbortSignal.abort();
  assert.equal(new SharedAbortFlag(already).raised, true);
});

Deno.test("ProbeWorkerPool: one worker per node served, close terminates all, safe twice", async () => {
  using pool = new ProbeWorkerPool();
  pool.serve(new Set([0, 1]));
  assert.equal(pool.size, 2);
  const zero = pool.get(0)!;
  await zero.ready();
  pool.serve(new Set([0]));
  assert.equal(pool.size, 1);
  assert.equal(pool.get(0), zero, "a healthy worker of a node still served is kept");
  assert.equal(pool.get(1), undefined);
  pool.close();
  pool.close();
  assert.equal(pool.size, 0);
  assert.equal(zero.healthy, false);
  // The sanitizers fail this test if a Worker outlived it.
});
