/**
 * `struct perf_event_attr` as bytes, and the bytes read(2) returns from a
 * counter. Pure: data in, data out; the layout is that of
 * include/uapi/linux/perf_event.h (little-endian x86-64).
 *
 * Layout used (offsets in bytes):
 *   0 u32 type            4 u32 size            8 u64 config
 *  16 u64 sample_period  24 u64 sample_type    32 u64 read_format
 *  40 u64 flag bits (disabled:1 inherit:1 pinned:1 exclusive:1 exclude_user:1
 *         exclude_kernel:1 exclude_hv:1 ...)
 *  48 u32 wakeup_events  52 u32 bp_type        56 u64 config1
 *  64 u64 config2        72 u64 branch_sample_type  80 u64 sample_regs_user
 *  88 u32 sample_stack_user  92 s32 clockid    96 u64 sample_regs_intr
 * 104 u32 aux_watermark 108 u16 sample_max_stack 110 u16 reserved
 * 112 u32 aux_sample_size 116 u32 reserved    120 u64 sig_data   (= VER7, 128 bytes)
 *
 * Why VER7: every field waspd sets lives in the first 48 bytes, and a kernel
 * older than the struct accepts a larger size as long as the bytes it does not
 * know are zero (perf_copy_attr), so 128 works on old and new kernels alike.
 */

/** attr.type (enum perf_type_id). */
export const PERF_TYPE_HARDWARE = 0;
export const PERF_TYPE_SOFTWARE = 1;
export const PERF_TYPE_HW_CACHE = 3;
export const PERF_TYPE_RAW = 4;

/** attr.config for PERF_TYPE_SOFTWARE (enum perf_sw_ids). */
export const PERF_COUNT_SW_TASK_CLOCK = 1;
export const PERF_COUNT_SW_PAGE_FAULTS = 2;

/** enum perf_hw_cache_id / perf_hw_cache_op_id / perf_hw_cache_op_result_id. */
export const PERF_COUNT_HW_CACHE_L1D = 0;
export const PERF_COUNT_HW_CACHE_DTLB = 3;
export const PERF_COUNT_HW_CACHE_OP_READ = 0;
export const PERF_COUNT_HW_CACHE_RESULT_ACCESS = 0;
export const PERF_COUNT_HW_CACHE_RESULT_MISS = 1;

/** attr.read_format bits (enum perf_event_read_format). */
export const PERF_FORMAT_TOTAL_TIME_ENABLED = 1 << 0;
export const PERF_FORMAT_TOTAL_TIME_RUNNING = 1 << 1;

/** perf_event_open flags argument. */
export const PERF_FLAG_FD_CLOEXEC = 1 << 3;

/** Bit positions in the u64 flag word at offset 40. */
export const ATTR_BIT = {
  disabled: 0,
  inherit: 1,
  pinned: 2,
  exclusive: 3,
  excludeUser: 4,
  excludeKernel: 5,
  excludeHv: 6,
} as const;

export const PERF_ATTR_SIZE_VER7 = 128;

/** Bytes of one read(2) with read_format = TOTAL_TIME_ENABLED | TOTAL_TIME_RUNNING. */
export const READ_BYTES = 24;

export interface CounterAttr {
  type: number;
  config: bigint;
  /**
   * Count only user space. Default true: the walks that matter are the
   * process's own, and paranoid level 2 (the common default) refuses
   * kernel counting to non-root anyway.
   */
  excludeKernel?: boolean;
  /** Default true: hypervisor time is not the process's. */
  excludeHv?: boolean;
}

/**
 * The attr for one counting (not sampling) event on one thread: enabled at
 * open, no inherit (each thread gets its own counter, opened explicitly),
 * read_format with both times so multiplexing can be scaled out.
 */
export function encodeAttr(attr: CounterAttr): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(PERF_ATTR_SIZE_VER7);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, attr.type, true);
  view.setUint32(4, PERF_ATTR_SIZE_VER7, true);
  view.setBigUint64(8, attr.config, true);
  view.setBigUint64(
    32,
    BigInt(PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING),
    true,
  );
  let flags = 0n;
  if (attr.excludeKernel ?? true) flags |= 1n << BigInt(ATTR_BIT.excludeKernel);
  if (attr.excludeHv ?? true) flags |= 1n << BigInt(ATTR_BIT.excludeHv);
  view.setBigUint64(40, flags, true);
  return bytes;
}

/** PERF_TYPE_HW_CACHE config: cache id | op << 8 | result << 16. */
export function hwCacheConfig(cache: number, op: number, result: number): bigint {
  return BigInt(cache) | (BigInt(op) << 8n) | (BigInt(result) << 16n);
}

/**
 * Intel core PMU raw config (IA32_PERFEVTSELx layout): event | umask << 8 |
 * cmask << 24, as the kernel's cpu format (event config:0-7, umask
 * config:8-15, cmask config:24-31) describes it.
 */
export function intelRawConfig(event: number, umask: number, cmask = 0): bigint {
  return BigInt(event & 0xff) | (BigInt(umask & 0xff) << 8n) | (BigInt(cmask & 0xff) << 24n);
}

/**
 * AMD core PMU raw config (PERF_CTL layout): EventSelect[7:0] | UnitMask << 8 |
 * EventSelect[11:8] << 32, as the kernel's amd "event" format
 * (config:0-7,32-35) describes it.
 */
export function amdRawConfig(event: number, umask: number): bigint {
  return BigInt(event & 0xff) | (BigInt(umask & 0xff) << 8n) |
    (BigInt((event >> 8) & 0xf) << 32n);
}

/** One read(2) of a counter: the raw count and how long it was enabled / on the PMU. */
export interface RawCount {
  value: number;
  enabledNs: number;
  runningNs: number;
}

/**
 * Parse the 24 bytes of a read(2); null when the read was short (a counter
 * in error state reads 0 bytes). u64 → number: counts stay far below 2^53
 * (2^53 ns is 104 days of one thread; loads at 10^10/s take 10 days).
 */
export function parseRead(bytes: Uint8Array, length = bytes.byteLength): RawCount | null {
  if (length < READ_BYTES || bytes.byteLength < READ_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, READ_BYTES);
  return {
    value: Number(view.getBigUint64(0, true)),
    enabledNs: Number(view.getBigUint64(8, true)),
    runningNs: Number(view.getBigUint64(16, true)),
  };
}

/**
 * The count scaled for multiplexing: value × enabled / running. Null when the
 * counter never got onto the PMU (running 0): its count is unknown, not 0.
 */
export function scaledCount(count: RawCount): number | null {
  if (count.runningNs <= 0) return count.enabledNs <= 0 ? 0 : null;
  if (count.runningNs >= count.enabledNs) return count.value;
  return count.value * (count.enabledNs / count.runningNs);
}
