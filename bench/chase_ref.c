/*
 * Reference pointer chase for bench/probe_bench.ts: the same buffer size, the
 * same visiting order (read from a file the benchmark writes with
 * probe/chase.ts), the same placement (mmap, MADV_HUGEPAGE, mbind MPOL_BIND
 * before first touch) and the same pinning as a waspd probe worker, chased
 * with native pointers. Prints one line of JSON: ns per load of each round.
 *
 * usage: chase_ref ORDER_FILE STRIDE_BYTES BUFFER_BYTES NODE CPU WARMUP LOADS ROUNDS
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define HUGE_PAGE ((size_t)2 << 20)
#define MPOL_BIND_MODE 2

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Follow the chain `loads` times; unrolled by 8 like the TypeScript chase. */
static void **chase(void **p, size_t loads) {
  while (loads >= 8) {
    p = (void **)*p; p = (void **)*p; p = (void **)*p; p = (void **)*p;
    p = (void **)*p; p = (void **)*p; p = (void **)*p; p = (void **)*p;
    loads -= 8;
  }
  while (loads-- > 0) p = (void **)*p;
  return p;
}

static void die(const char *what) {
  fprintf(stderr, "chase_ref: %s: %s\n", what, strerror(errno));
  exit(1);
}

int main(int argc, char **argv) {
  if (argc != 9) {
    fprintf(stderr, "usage: %s ORDER_FILE STRIDE BUFFER NODE CPU WARMUP LOADS ROUNDS\n", argv[0]);
    return 2;
  }
  const char *order_file = argv[1];
  size_t stride = strtoull(argv[2], 0, 10);
  size_t buffer = strtoull(argv[3], 0, 10);
  int node = atoi(argv[4]);
  int cpu = atoi(argv[5]);
  size_t warmup = strtoull(argv[6], 0, 10);
  size_t loads = strtoull(argv[7], 0, 10);
  int rounds = atoi(argv[8]);

  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) die("sched_setaffinity");
  if (sched_getcpu() != cpu) { fprintf(stderr, "chase_ref: not on cpu %d\n", cpu); return 1; }

  FILE *f = fopen(order_file, "rb");
  if (!f) die(order_file);
  size_t n = buffer / stride;
  uint32_t *order = malloc(n * sizeof *order);
  if (!order) die("malloc");
  if (fread(order, sizeof *order, n, f) != n) { fprintf(stderr, "chase_ref: short order file\n"); return 1; }
  fclose(f);

  size_t mapped = buffer + HUGE_PAGE;
  char *map = mmap(0, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) die("mmap");
  char *base = (char *)(((uintptr_t)map + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
  madvise(base, buffer, MADV_HUGEPAGE); /* best effort, as the worker */
  unsigned long mask[16] = {0};
  mask[node / 64] |= 1UL << (node % 64);
  if (syscall(SYS_mbind, base, buffer, MPOL_BIND_MODE, mask, 1025UL, 0UL) != 0) die("mbind");

  uint32_t first = order[0];
  for (size_t k = 0; k < n; k++) {
    *(void **)(base + (size_t)order[k] * stride) = base + (size_t)order[(k + 1) % n] * stride;
  }
  free(order);

  /* Start where the TypeScript chase starts: the first element of the order. */
  void **p = (void **)(base + (size_t)first * stride);

  p = chase(p, warmup);
  printf("{\"rounds_ns\":[");
  for (int r = 0; r < rounds; r++) {
    double t0 = now_ns();
    p = chase(p, loads);
    double t1 = now_ns();
    printf("%s%.3f", r ? "," : "", (t1 - t0) / (double)loads);
  }
  /* Using p keeps the chase alive through any optimisation. */
  printf("],\"end_in_buffer\":%s}\n", ((char *)p >= base && (char *)p < base + buffer) ? "true" : "false");
  munmap(map, mapped);
  return 0;
}
