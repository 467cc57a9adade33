/**
 * A probe worker: its own OS thread, pinned from inside to one CPU of its row
 * node (sched_setaffinity(0, ...) pins only the calling thread), measuring one
 * row of the matrix per request. It opens its own libc (a module instance per
 * Worker) and never exits by itself: the prober terminates it.
 */
/// <reference lib="deno.worker" />
import { libc } from "../src/ffi/libc.ts";
import { buildChaseOrder } from "./chase.ts";
import { measureCell } from "./cell.ts";
import {
  type CellResult,
  type ChaseParams,
  failedRow,
  type RowReply,
  type RowRequest,
  type WorkerReply,
} from "./protocol.ts";
import { errorMessage } from "../src/core/error_message.ts";

function reply(message: WorkerReply): void {
  self.postMessage(message);
}

/** Pin this thread to `cpu` and confirm with sched_getcpu; an error text on failure. */
function pinTo(cpu: number): string | null {
  const lib = libc();
  try {
    lib.setAffinity(0, [cpu]);
    const running = lib.schedGetcpu();
    if (running !== cpu) return `pinned to CPU ${cpu} but running on CPU ${running}`;
    return null;
  } catch (error) {
    return errorMessage(error);
  }
}

/**
 * The chase order of the last layout, kept: a worker the prober keeps alive
 * between measurements then skips rebuilding it (tens of ms for 128 MiB).
 */
let cachedOrder: { key: string; order: Uint32Array } | null = null;

function orderFor(params: ChaseParams): Uint32Array {
  const key = `${params.bufferBytes}/${params.groupBytes}/${params.strideBytes}/${params.seed}`;
  if (cachedOrder?.key !== key) cachedOrder = { key, order: buildChaseOrder(params, params.seed) };
  return cachedOrder.order;
}

function measureRow(request: RowRequest): RowReply {
  const flag = new Int32Array(request.abortFlag);
  const aborted = () => Atomics.load(flag, 0) !== 0;
  const pinError = pinTo(request.cpu);
  if (pinError !== null) return failedRow(request.row, request.cols, pinError, false);
  const lib = libc();
  const { params } = request;
  // One order for every column of the row: each cell chases the same pattern.
  const t0 = performance.now();
  const order = orderFor(request.params);
  const orderMs = performance.now() - t0;
  const cells: CellResult[] = [];
  for (const node of request.cols) {
    if (aborted()) return failedRow(request.row, request.cols, "aborted", true);
    cells.push(measureCell(lib, node, params, order, aborted, request.sysRoot));
  }
  if (aborted()) return failedRow(request.row, request.cols, "aborted", true);
  // Still on the CPU we pinned to? (A CPU taken offline mid-row would move us.)
  const cpu = lib.schedGetcpu();
  if (cpu !== request.cpu) {
    return failedRow(
      request.row,
      request.cols,
      `worker moved from CPU ${request.cpu} to CPU ${cpu}`,
      false,
    );
  }
  return { kind: "row", row: request.row, cpu, cells, error: null, aborted: false, orderMs };
}

self.onmessage = (event: MessageEvent<RowRequest>) => {
  const request = event.data;
  if (request?.kind !== "row") return;
  try {
    reply(measureRow(request));
  } catch (error) {
    reply(failedRow(request.row, request.cols, `probe worker: ${errorMessage(error)}`, false));
  }
};

reply({ kind: "ready" });
