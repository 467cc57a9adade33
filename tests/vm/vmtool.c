/*
 * vmtool: the WASP guest's own small tools, built static on the host by
 * tests/vm/suite.sh and copied into the guest (busybox has none of these).
 * They talk to the kernel directly, never through waspd, so the suite can
 * compare what waspd reports with what the kernel says.
 *
 *   vmtool hog CPU MIB        a memory-touching process pinned to CPU: it
 *                             writes every page of MIB MiB, then drops them
 *                             (MADV_DONTNEED) so the next pass faults again;
 *                             busy 10 ms, idle 40 ms (a light load: the
 *                             guest must still start deno). SIGUSR1 makes it quiet
 *                             (idle only), SIGUSR2 busy again.
 *   vmtool steering PID       prctl(105) for PID: the 8 steering entries, or
 *                             the errno name and exit 1.
 *   vmtool perfhold           opens the software perf events waspd uses on
 *                             itself and holds them until killed: see below.
 *   vmtool pty KEYS OUT CMD.. CMD on a new pseudo-terminal (120x40): bytes
 *                             written to the FIFO KEYS are typed into it, its
 *                             screen output goes to OUT. Exit status: CMD's
 *                             (128+signal when killed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PR_GET_PGTABLE_REPL_STEERING 105
#define STEERING_SLOTS 8

static volatile sig_atomic_t quiet = 0;
static void on_usr1(int sig) { (void)sig; quiet = 1; }
static void on_usr2(int sig) { (void)sig; quiet = 0; }

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int hog(int cpu, long mib) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) perror("hog: sched_setaffinity");
  signal(SIGUSR1, on_usr1);
  signal(SIGUSR2, on_usr2);
  size_t bytes = (size_t)mib << 20;
  unsigned char *buf = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (buf == MAP_FAILED) { perror("hog: mmap"); return 1; }
  for (;;) {
    if (!quiet) {
      double until = now_ms() + 10;
      while (now_ms() < until) {
        for (size_t off = 0; off < bytes; off += 4096) buf[off]++;
        madvise(buf, bytes, MADV_DONTNEED); /* the next pass faults every page again */
      }
    }
    usleep(40000);
  }
}

static int steering(pid_t pid) {
  int slots[STEERING_SLOTS];
  for (int i = 0; i < STEERING_SLOTS; i++) slots[i] = -2;
  if (prctl(PR_GET_PGTABLE_REPL_STEERING, (unsigned long)slots, (unsigned long)pid, 0UL, 0UL) != 0) {
    printf("%s\n", strerrorname_np(errno));
    return 1;
  }
  for (int i = 0; i < STEERING_SLOTS; i++) printf(i ? " %d" : "%d", slots[i]);
  printf("\n");
  return 0;
}

/*
 * The first software perf event of a kind flips kernel static keys, which
 * rewrites hot code (the page-fault path, the scheduler) with int3 patching.
 * QEMU 7.2's multi-threaded TCG can run a stale translation of that code on
 * another vCPU, and the 6.4 guest then dies in do_user_addr_fault (seen here
 * with a hog faulting on every vCPU; QEMU 8.1 fixed its TB locking). Holding
 * one event of each kind from boot, while the guest is idle, makes every later
 * open a reference count, with no code rewritten under load.
 */
static int perfhold(void) {
  const unsigned long long kinds[] = {PERF_COUNT_SW_TASK_CLOCK, PERF_COUNT_SW_PAGE_FAULTS,
                                      PERF_COUNT_SW_CONTEXT_SWITCHES, PERF_COUNT_SW_CPU_MIGRATIONS};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    struct perf_event_attr attr = {.type = PERF_TYPE_SOFTWARE, .size = sizeof attr, .config = kinds[i]};
    if (syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0UL) < 0) perror("perfhold: perf_event_open");
  }
  printf("holding\n");
  fflush(stdout);
  for (;;) pause();
  return 0;
}

static int pty(const char *keys, const char *out, char **argv) {
  struct winsize size = {.ws_row = 40, .ws_col = 120};
  int master;
  pid_t child = forkpty(&master, NULL, NULL, &size);
  if (child < 0) { perror("pty: forkpty"); return 1; }
  if (child == 0) {
    setenv("TERM", "xterm-256color", 1);
    execvp(argv[0], argv);
    perror("pty: exec");
    _exit(127);
  }
  /* O_RDWR: the FIFO never reads as closed while no writer has it open. */
  int keyfd = open(keys, O_RDWR | O_NONBLOCK);
  int outfd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (keyfd < 0 || outfd < 0) { perror("pty: open"); kill(child, SIGKILL); return 1; }
  char buf[4096];
  for (;;) {
    struct pollfd fds[2] = {{.fd = master, .events = POLLIN}, {.fd = keyfd, .events = POLLIN}};
    poll(fds, 2, 200);
    if (fds[0].revents & POLLIN) {
      ssize_t n = read(master, buf, sizeof buf);
      if (n > 0 && write(outfd, buf, (size_t)n) < 0) perror("pty: write");
    }
    if (fds[1].revents & POLLIN) {
      ssize_t n = read(keyfd, buf, sizeof buf);
      if (n > 0 && write(master, buf, (size_t)n) < 0) perror("pty: type");
    }
    int status;
    pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return 128 + WTERMSIG(status);
    }
    if ((fds[0].revents & (POLLHUP | POLLERR)) && !(fds[0].revents & POLLIN)) usleep(50000);
  }
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "hog") == 0) return hog(atoi(argv[2]), atol(argv[3]));
  if (argc == 3 && strcmp(argv[1], "steering") == 0) return steering((pid_t)atoi(argv[2]));
  if (argc == 2 && strcmp(argv[1], "perfhold") == 0) return perfhold();
  if (argc >= 5 && strcmp(argv[1], "pty") == 0) return pty(argv[2], argv[3], argv + 4);
  fprintf(stderr, "usage: vmtool hog CPU MIB | steering PID | perfhold | pty KEYS OUT CMD...\n");
  return 2;
}
