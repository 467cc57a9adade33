import assert from "node:assert/strict";
import {
  amdRawConfig,
  encodeAttr,
  hwCacheConfig,
  intelRawConfig,
  parseRead,
  PERF_ATTR_SIZE_VER7,
  PERF_TYPE_HW_CACHE,
  PERF_TYPE_RAW,
  READ_BYTES,
  scaledCount,
} from "../src/sys/perf/attr.ts";

/** Little-endian u64 at `offset` of a fresh 128-byte expected image. */
function putU64(bytes: Uint8Array, offset: number, value: bigint) {
  for (let i = 0; i < 8; i++) bytes[offset + i] = Number((value >> BigInt(8 * i)) & 0xffn);
}

Deno.test("encodeAttr matches include/uapi/linux/perf_event.h byte for byte", () => {
  const got = encodeAttr({ type: PERF_TYPE_RAW, config: 0x1_0000_f045n });
  const want = new Uint8Array(128);
  want[0] = 4; // u32 type = PERF_TYPE_RAW at offset 0
  want[4] = 128; // u32 size = PERF_ATTR_SIZE_VER7 at offset 4
  putU64(want, 8, 0x1_0000_f045n); // u64 config at offset 8
  // sample_period (16) and sample_type (24) stay 0: counting, not sampling.
  want[32] = 0b11; // read_format = TOTAL_TIME_ENABLED | TOTAL_TIME_RUNNING at offset 32
  // Flag word at 40: disabled(bit 0)=0, inherit(bit 1)=0, exclude_kernel(bit 5)=1, exclude_hv(bit 6)=1.
  want[40] = 0x20 | 0x40;
  assert.equal(got.byteLength, PERF_ATTR_SIZE_VER7);
  assert.deepEqual([...got], [...want]);
});

Deno.test("encodeAttr can count kernel and hypervisor time when asked", () => {
  const got = encodeAttr({ type: 1, config: 2n, excludeKernel: false, excludeHv: false });
  assert.equal(got[40], 0);
  assert.equal(got[0], 1);
  assert.equal(got[8], 2);
});

Deno.test("hardware cache config is id | op << 8 | result << 16", () => {
  assert.equal(hwCacheConfig(0, 0, 0), 0n); // L1D read access
  assert.equal(hwCacheConfig(3, 0, 1), 0x10003n); // dTLB read miss
  assert.equal(PERF_TYPE_HW_CACHE, 3);
});

Deno.test("raw configs follow the Intel and AMD event-select layouts", () => {
  assert.equal(intelRawConfig(0xd0, 0x81), 0x81d0n);
  assert.equal(intelRawConfig(0x08, 0x0e), 0x0e08n);
  assert.equal(amdRawConfig(0x29, 0x01), 0x0129n);
  assert.equal(amdRawConfig(0x45, 0xf0), 0xf045n);
  // Extended event select bits 11:8 go to config bits 35:32 (amd "event" format config:0-7,32-35).
  assert.equal(amdRawConfig(0x1c0, 0x01), 0x1_0000_01c0n);
});

Deno.test("parseRead decodes value, time_enabled, time_running", () => {
  const bytes = new Uint8Array(READ_BYTES);
  putU64(bytes, 0, 123_456_789n);
  putU64(bytes, 8, 2_000_000n);
  putU64(bytes, 16, 500_000n);
  assert.deepEqual(parseRead(bytes), {
    value: 123_456_789,
    enabledNs: 2_000_000,
    runningNs: 500_000,
  });
});

Deno.test("parseRead refuses a short read instead of inventing zeros", () => {
  assert.equal(parseRead(new Uint8Array(READ_BYTES), 0), null);
  assert.equal(parseRead(new Uint8Array(16)), null);
});

Deno.test("scaledCount scales out multiplexing and keeps unknown unknown", () => {
  assert.equal(scaledCount({ value: 1000, enabledNs: 100, runningNs: 100 }), 1000);
  assert.equal(scaledCount({ value: 1000, enabledNs: 100, runningNs: 25 }), 4000);
  // Running a hair over enabled (rounding) is not scaled down.
  assert.equal(scaledCount({ value: 1000, enabledNs: 100, runningNs: 101 }), 1000);
  // Enabled but never on the PMU: the count is unknown, not 0.
  assert.equal(scaledCount({ value: 0, enabledNs: 100, runningNs: 0 }), null);
  // Never enabled yet (thread has not run): nothing happened, truly 0.
  assert.equal(scaledCount({ value: 0, enabledNs: 0, runningNs: 0 }), 0);
});
