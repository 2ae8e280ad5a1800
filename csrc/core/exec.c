/* Running an external program as numactl does: fork, set its memory policy
 * and CPU set in the child, execvp (both survive exec); then watch it from
 * /proc while it runs (exec_sample.c), pass signals on, keep what it wrote
 * when asked, and reap it with wait4 for its times, faults and peak RSS. */
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec_internal.h"

extern char **environ;

#define MS 1000000ull
#define DEFAULT_SAMPLE_NS (50 * MS)
#define KILL_GRACE_NS (1000 * MS)
#define TUNABLE "glibc.malloc.hugetlb=1"

void lnuma_exec_options_init(lnuma_exec_options *o) {
  memset(o, 0, sizeof *o);
  o->out_fd = 1;
  o->err_fd = 2;
  o->sample_ns = DEFAULT_SAMPLE_NS;
}

const char *lnuma_exec_step_name(lnuma_exec_step step) {
  static const char *const names[] = {"", "setup", "output", "thp", "cpus", "policy", "exec"};
  return (int)step >= 0 && (int)step <= LNUMA_EXEC_STEP_EXEC ? names[step] : "?";
}

/* What the child writes to the report pipe when a step fails. */
typedef struct child_report {
  int step;
  int code;
} child_report;

/* The last bytes of a stream (a ring of cap bytes). */
typedef struct ring {
  char *buf;
  size_t cap;
  uint64_t total;
} ring;

/* Everything made before fork: the child only makes system calls. */
typedef struct launch {
  const lnuma_exec_options *o;
  lnuma_mempolicy policy;
  lnuma_set nodes;
  cpu_set_t *cpus;
  size_t cpus_size;
  char **envp;    /* environ, or a copy with GLIBC_TUNABLES for THP */
  char *tunables; /* that entry */
  int report[2];  /* child -> parent, close-on-exec: EOF means exec worked */
  int out[2], err[2];
  int devnull;
  ring out_ring, err_ring;
  sigset_t blocked, old_mask;
  int sfd;
  struct sigaction old_chld;
  int chld_changed;
  int received; /* a terminating signal sent to us while it ran */
} launch;

/* ---- the child ---------------------------------------------------------- */

static void child_fail(const launch *l, int step, int code) {
  child_report rep = {step, code};
  ssize_t n = write(l->report[1], &rep, sizeof rep);
  (void)n;
  _exit(step != LNUMA_EXEC_STEP_EXEC ? 125 : code == ENOENT ? 127 : 126);
}

/* Between fork and exec: async-signal-safe calls only. */
static void child(const launch *l) {
  const lnuma_exec_options *o = l->o;
  if (l->chld_changed) sigaction(SIGCHLD, &l->old_chld, NULL);
  pthread_sigmask(SIG_SETMASK, &l->old_mask, NULL);
  int out = l->out[1] >= 0 ? l->out[1] : o->out_fd == 2 ? 2 : o->out_fd < 0 ? l->devnull : 1;
  int err = l->err[1] >= 0 ? l->err[1] : o->err_fd < 0 ? l->devnull : 2;
  if ((out != 1 && dup2(out, 1) < 0) || (err != 2 && dup2(err, 2) < 0))
    child_fail(l, LNUMA_EXEC_STEP_OUTPUT, errno);
  if (o->huge != LNUMA_EXEC_HUGE_DEFAULT &&
      prctl(PR_SET_THP_DISABLE, o->huge == LNUMA_EXEC_HUGE_NONE ? 1UL : 0UL, 0UL, 0UL, 0UL) != 0)
    child_fail(l, LNUMA_EXEC_STEP_THP, errno);
  if (l->cpus != NULL && sched_setaffinity(0, l->cpus_size, l->cpus) != 0)
    child_fail(l, LNUMA_EXEC_STEP_CPUS, errno);
  if (o->has_policy && l->policy != LNUMA_MPOL_DEFAULT) {
    int e = lnuma__set_mempolicy_raw(l->policy, &l->nodes);
    if (e != 0) child_fail(l, LNUMA_EXEC_STEP_POLICY, e);
  }
  execvpe(o->argv[0], o->argv, l->envp);
  child_fail(l, LNUMA_EXEC_STEP_EXEC, errno);
}

/* ---- before fork ----------------------------------------------------------- */

static int check_cpus(launch *l, const lnuma_set *cpus, lnuma_error *err) {
  lnuma_set online, allowed;
  char list[256];
  if (lnuma_set_count(cpus) == 0) return lnuma__fail(err, EINVAL, "cpus: the CPU set is empty");
  if (lnuma_cpus_online(&online, err) != 0 || lnuma_allowed(&allowed, NULL, err) != 0) return -1;
  int top = 0;
  for (int c = lnuma_set_next(cpus, -1); c >= 0; c = lnuma_set_next(cpus, c)) {
    if (!lnuma_set_has(&online, c)) {
      lnuma_set_format(&online, list, sizeof list);
      return lnuma__fail(err, EINVAL, "cpus: CPU %d does not exist (online CPUs %s)", c, list);
    }
    if (!lnuma_set_has(&allowed, c)) {
      lnuma_set_format(&allowed, list, sizeof list);
      return lnuma__fail(err, EINVAL,
                         "cpus: CPU %d is not allowed to this process (cpuset/taskset: %s)", c,
                         list);
    }
    top = c + 1;
  }
  l->cpus = CPU_ALLOC(top);
  if (l->cpus == NULL) return lnuma__fail_sys(err, ENOMEM, "CPU_ALLOC");
  l->cpus_size = CPU_ALLOC_SIZE(top);
  CPU_ZERO_S(l->cpus_size, l->cpus);
  for (int c = lnuma_set_next(cpus, -1); c >= 0; c = lnuma_set_next(cpus, c))
    CPU_SET_S((size_t)c, l->cpus_size, l->cpus);
  return 0;
}

/* The environment with glibc.malloc.hugetlb=1 added to GLIBC_TUNABLES. */
static int thp_environment(launch *l, lnuma_exec_result *r, lnuma_error *err) {
  size_t n = 0;
  const char *old = NULL;
  for (char **e = environ; e != NULL && *e != NULL; e++, n++)
    if (strncmp(*e, "GLIBC_TUNABLES=", 15) == 0) old = *e + 15;
  size_t len = strlen("GLIBC_TUNABLES=") + strlen(TUNABLE) + (old ? strlen(old) + 1 : 0) + 1;
  l->envp = calloc(n + 2, sizeof *l->envp);
  l->tunables = malloc(len);
  if (l->envp == NULL || l->tunables == NULL) return lnuma__fail_sys(err, ENOMEM, "exec");
  snprintf(l->tunables, len, "GLIBC_TUNABLES=%s%s" TUNABLE, old ? old : "", old ? ":" : "");
  size_t k = 0;
  for (char **e = environ; e != NULL && *e != NULL; e++)
    if (strncmp(*e, "GLIBC_TUNABLES=", 15) != 0) l->envp[k++] = *e;
  l->envp[k] = l->tunables;
  int major = 0, minor = 0;
  if (sscanf(gnu_get_libc_version(), "%d.%d", &major, &minor) != 2) major = 0;
  int has = major > 2 || (major == 2 && minor >= 35);
  snprintf(r->huge_note, sizeof r->huge_note,
           "THP on for the program (prctl) and " TUNABLE " in GLIBC_TUNABLES (glibc %s%s: "
           "malloc madvises its heap and mmap chunks for THP)",
           gnu_get_libc_version(), has ? "" : ", which predates the tunable and ignores it");
  return 0;
}

static int open_pipe(int fds[2], int nonblock_read, lnuma_error *err) {
  if (pipe2(fds, O_CLOEXEC) != 0) return lnuma__fail_sys(err, errno, "exec: pipe");
  if (nonblock_read) fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  return 0;
}

static int ring_init(ring *g, size_t cap, lnuma_error *err) {
  g->buf = malloc(cap);
  g->cap = cap;
  if (g->buf == NULL) return lnuma__fail_sys(err, ENOMEM, "exec: capture");
  return 0;
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

static void cleanup(launch *l) {
  close_fd(&l->report[0]);
  close_fd(&l->report[1]);
  for (int i = 0; i < 2; i++) {
    close_fd(&l->out[i]);
    close_fd(&l->err[i]);
  }
  close_fd(&l->devnull);
  close_fd(&l->sfd);
  if (l->cpus != NULL) CPU_FREE(l->cpus);
  l->cpus = NULL;
  if (l->envp != environ) free(l->envp);
  free(l->tunables);
  free(l->out_ring.buf);
  free(l->err_ring.buf);
  l->envp = NULL;
  l->tunables = l->out_ring.buf = l->err_ring.buf = NULL;
}

static int prepare(launch *l, lnuma_exec_result *r, lnuma_error *err) {
  const lnuma_exec_options *o = l->o;
  if (o->argv == NULL || o->argv[0] == NULL || o->argv[0][0] == '\0')
    return lnuma__fail(err, EINVAL, "exec: no program to run");
  if (o->has_policy) {
    l->policy = o->policy;
    l->nodes = o->nodes;
    if (lnuma__resolve_policy(&l->policy, &l->nodes, err) != 0) return -1;
    if (lnuma__diagnose_nodes(&l->nodes, "nodes", err) != 0) return -1;
  }
  if (o->has_cpus && check_cpus(l, &o->cpus, err) != 0) return -1;
  l->envp = environ;
  if (o->huge == LNUMA_EXEC_HUGE_THP && thp_environment(l, r, err) != 0) return -1;
  if (o->huge == LNUMA_EXEC_HUGE_NONE)
    snprintf(r->huge_note, sizeof r->huge_note,
             "THP off for the program (prctl PR_SET_THP_DISABLE)");
  if (open_pipe(l->report, 0, err) != 0) return -1;
  if (o->capture_out > 0 &&
      (open_pipe(l->out, 1, err) != 0 || ring_init(&l->out_ring, o->capture_out, err) != 0))
    return -1;
  if (o->capture_err > 0 &&
      (open_pipe(l->err, 1, err) != 0 || ring_init(&l->err_ring, o->capture_err, err) != 0))
    return -1;
  if ((o->out_fd < 0 && o->capture_out == 0) || (o->err_fd < 0 && o->capture_err == 0)) {
    l->devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (l->devnull < 0) return lnuma__fail_sys(err, errno, "/dev/null");
  }
  return 0;
}

/* Blocks the signals the run reads through a signalfd (SIGCHLD among them:
 * made deliverable when the caller ignores it, or wait4 would find no child). */
static int block_signals(launch *l, lnuma_error *err) {
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGPIPE};
  sigemptyset(&l->blocked);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&l->blocked, sigs[i]);
  if (sigaction(SIGCHLD, NULL, &l->old_chld) == 0 &&
      (l->old_chld.sa_handler == SIG_IGN || (l->old_chld.sa_flags & SA_NOCLDWAIT))) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    l->chld_changed = sigaction(SIGCHLD, &dfl, NULL) == 0;
  }
  pthread_sigmask(SIG_BLOCK, &l->blocked, &l->old_mask);
  l->sfd = signalfd(-1, &l->blocked, SFD_CLOEXEC | SFD_NONBLOCK);
  if (l->sfd < 0) return lnuma__fail_sys(err, errno, "exec: signalfd");
  return 0;
}

/* Puts the caller's signal state back; SIGPIPEs of echoing to a closed
 * stream are dropped, and a signal that ended the program after it was sent
 * to us is raised again, to be delivered as usual once unblocked. */
static void restore_signals(launch *l, const lnuma_exec_result *r) {
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  const struct timespec zero = {0, 0};
  while (sigtimedwait(&pipe_only, NULL, &zero) > 0) {
  }
  if (l->received != 0 && r->signal == l->received) pthread_kill(pthread_self(), l->received);
  if (l->chld_changed) sigaction(SIGCHLD, &l->old_chld, NULL);
  pthread_sigmask(SIG_SETMASK, &l->old_mask, NULL);
}

/* ---- while it runs ----------------------------------------------------------- */

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t k = write(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return; /* a closed or full stream: the copy is dropped */
    p += k;
    n -= (size_t)k;
  }
}

static void ring_add(ring *g, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) g->buf[(g->total + i) % g->cap] = p[i];
  g->total += n;
}

/* Reads what is there from a capture pipe; closes it at EOF. */
static void drain(int *fd, ring *g, int echo) {
  char buf[65536];
  while (*fd >= 0) {
    ssize_t n = read(*fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return; /* EAGAIN: nothing more for now */
    if (n == 0) {
      close_fd(fd);
      return;
    }
    ring_add(g, buf, (size_t)n);
    if (echo >= 0) write_all(echo, buf, (size_t)n);
  }
}

/* Signals sent to us: terminating ones are passed on, unless the kernel
 * sent them (a terminal's Ctrl-C reaches the program's process group too). */
static void read_signals(launch *l, int pid, lnuma_exec_result *r) {
  struct signalfd_siginfo si;
  while (read(l->sfd, &si, sizeof si) == (ssize_t)sizeof si) {
    int s = (int)si.ssi_signo;
    if (s == SIGCHLD || s == SIGPIPE) continue;
    if (l->received == 0) l->received = s;
    if (si.ssi_code != SI_KERNEL && kill(pid, s) == 0) r->forwarded++;
  }
}

static struct timespec span(uint64_t ns) {
  struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
  return ts;
}

static void finish(lnuma_exec_result *r, int status, const struct rusage *ru) {
  if (WIFEXITED(status)) r->exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) {
    r->signal = WTERMSIG(status);
    r->exit_code = 128 + r->signal;
    r->core_dumped = WCOREDUMP(status) ? 1 : 0;
  }
  r->user_ns = (uint64_t)ru->ru_utime.tv_sec * 1000000000u + (uint64_t)ru->ru_utime.tv_usec * 1000u;
  r->system_ns =
      (uint64_t)ru->ru_stime.tv_sec * 1000000000u + (uint64_t)ru->ru_stime.tv_usec * 1000u;
  r->minor_faults = (uint64_t)ru->ru_minflt;
  r->major_faults = (uint64_t)ru->ru_majflt;
  r->max_rss_bytes = (uint64_t)ru->ru_maxrss * 1024u;
  r->voluntary_switches = (uint64_t)ru->ru_nvcsw;
  r->involuntary_switches = (uint64_t)ru->ru_nivcsw;
}

/* Samples, reads its output and signals, enforces the time limit, until
 * wait4 reaps it. */
static void watch(launch *l, int pid, uint64_t t0, lnuma__sampler *s, lnuma_exec_result *r) {
  const lnuma_exec_options *o = l->o;
  uint64_t every = o->sample_ns > 0 ? o->sample_ns : DEFAULT_SAMPLE_NS;
  uint64_t interval = MS < every ? MS : every;
  uint64_t next = lnuma__now_ns() + interval;
  uint64_t term_at = o->timeout_ns > 0 ? t0 + o->timeout_ns : 0, kill_at = 0;
  for (;;) {
    int status;
    struct rusage ru;
    pid_t w = wait4(pid, &status, WNOHANG, &ru);
    if (w == pid) {
      r->wall_ns = lnuma__now_ns() - t0;
      finish(r, status, &ru);
      return;
    }
    if (w < 0 && errno != EINTR) { /* reaped by another thread's wait (ECHILD) */
      r->wall_ns = lnuma__now_ns() - t0;
      r->exit_code = -1;
      snprintf(r->sample_error, sizeof r->sample_error,
               "exec: pid %d was reaped elsewhere: no exit status, times or faults", pid);
      return;
    }
    uint64_t now = lnuma__now_ns();
    if (now >= next) {
      lnuma__sample(s, r);
      r->sampling_ns += lnuma__now_ns() - now;
      interval = interval * 2 < every ? interval * 2 : every;
      next = lnuma__now_ns() + interval;
      continue;
    }
    if (term_at != 0 && now >= term_at) {
      r->timed_out = 1;
      kill(pid, SIGTERM);
      term_at = 0;
      kill_at = now + KILL_GRACE_NS;
    }
    if (kill_at != 0 && now >= kill_at) {
      kill(pid, SIGKILL);
      kill_at = 0;
    }
    uint64_t until = next;
    if (term_at != 0 && term_at < until) until = term_at;
    if (kill_at != 0 && kill_at < until) until = kill_at;
    struct pollfd fds[3] = {{l->sfd, POLLIN, 0}, {l->out[0], POLLIN, 0}, {l->err[0], POLLIN, 0}};
    struct timespec ts = span(until > now ? until - now : 0);
    if (ppoll(fds, 3, &ts, NULL) <= 0) continue;
    if (fds[0].revents) read_signals(l, pid, r);
    if (fds[1].revents) drain(&l->out[0], &l->out_ring, o->out_fd);
    if (fds[2].revents) drain(&l->err[0], &l->err_ring, o->err_fd);
  }
}

/* The ring's bytes in order, into a new buffer. */
static void keep_ring(const ring *g, char **out, size_t *len, int *truncated) {
  if (g->buf == NULL) return;
  size_t n = g->total < g->cap ? (size_t)g->total : g->cap;
  *out = malloc(n + 1);
  if (*out == NULL) return;
  size_t start = g->total < g->cap ? 0 : (size_t)(g->total % g->cap);
  for (size_t i = 0; i < n; i++) (*out)[i] = g->buf[(start + i) % g->cap];
  (*out)[n] = '\0';
  *len = n;
  *truncated = g->total > g->cap;
}

/* ---- launching failed ------------------------------------------------------ */

static int launch_failed(launch *l, const child_report *rep, lnuma_exec_result *r,
                         lnuma_error *err) {
  const char *prog = l->o->argv[0];
  r->failed_step = (lnuma_exec_step)rep->step;
  char buf[128];
  const char *why = strerror_r(rep->code, buf, sizeof buf);
  lnuma_error e;
  switch (rep->step) {
  case LNUMA_EXEC_STEP_EXEC:
    if (rep->code == ENOENT && strchr(prog, '/') == NULL)
      return lnuma__fail(err, ENOENT, "exec: %s: command not found (not in PATH)", prog);
    return lnuma__fail(err, rep->code, "exec: %s: %s", prog, why);
  case LNUMA_EXEC_STEP_POLICY:
    lnuma__policy_refused(rep->code, l->policy, &l->nodes, &e);
    return lnuma__fail(err, e.code, "%s: %s was not run", e.msg, prog);
  case LNUMA_EXEC_STEP_CPUS:
    return lnuma__fail(err, rep->code, "sched_setaffinity: %s: %s was not run", why, prog);
  case LNUMA_EXEC_STEP_THP:
    return lnuma__fail(err, rep->code, "prctl(PR_SET_THP_DISABLE): %s: %s was not run", why,
                       prog);
  default:
    return lnuma__fail(err, rep->code, "exec: redirecting output: %s: %s was not run", why,
                       prog);
  }
}

/* ---- the whole run ---------------------------------------------------------------- */

int lnuma_exec(const lnuma_exec_options *o, lnuma_exec_result *r, lnuma_error *err) {
  memset(r, 0, sizeof *r);
  r->exit_code = 125;
  r->failed_step = LNUMA_EXEC_STEP_SETUP;
  launch l;
  memset(&l, 0, sizeof l);
  l.o = o;
  l.report[0] = l.report[1] = l.out[0] = l.out[1] = l.err[0] = l.err[1] = -1;
  l.devnull = l.sfd = -1;
  if (o == NULL) return lnuma__fail(err, EINVAL, "exec: no options");
  if (prepare(&l, r, err) != 0) {
    cleanup(&l);
    return -1;
  }
  if (block_signals(&l, err) != 0) {
    restore_signals(&l, r);
    cleanup(&l);
    return -1;
  }
  uint64_t t0 = lnuma__now_ns();
  pid_t pid = fork();
  if (pid == 0) child(&l);
  if (pid < 0) {
    lnuma__fail_sys(err, errno, "exec: fork");
    restore_signals(&l, r);
    cleanup(&l);
    return -1;
  }
  r->pid = (int)pid;
  close_fd(&l.report[1]);
  close_fd(&l.out[1]);
  close_fd(&l.err[1]);
  child_report rep;
  ssize_t n;
  do n = read(l.report[0], &rep, sizeof rep);
  while (n < 0 && errno == EINTR);
  int rc = 0;
  if (n == (ssize_t)sizeof rep) {
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
    }
    r->wall_ns = lnuma__now_ns() - t0;
    finish(r, status, &ru);
    rc = launch_failed(&l, &rep, r, err);
  } else {
    r->failed_step = LNUMA_EXEC_STEP_NONE;
    r->exit_code = 0;
    lnuma_set_zero(&r->cpus_allowed);
    cpu_set_t *cs = CPU_ALLOC(LNUMA_SET_BITS);
    size_t bytes = CPU_ALLOC_SIZE(LNUMA_SET_BITS);
    if (cs != NULL && sched_getaffinity(pid, bytes, cs) == 0)
      for (int c = 0; c < LNUMA_SET_BITS; c++)
        if (CPU_ISSET_S((size_t)c, bytes, cs)) lnuma_set_add(&r->cpus_allowed, c);
    if (cs != NULL) CPU_FREE(cs);
    lnuma__sampler s;
    int sampling = lnuma__sampler_init(&s, (int)pid, NULL) == 0;
    if (sampling) {
      watch(&l, (int)pid, t0, &s, r);
      lnuma__sampler_free(&s);
    } else {
      int status;
      struct rusage ru;
      while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
      }
      r->wall_ns = lnuma__now_ns() - t0;
      finish(r, status, &ru);
      snprintf(r->sample_error, sizeof r->sample_error, "exec: no memory to sample");
    }
    drain(&l.out[0], &l.out_ring, o->out_fd);
    drain(&l.err[0], &l.err_ring, o->err_fd);
    keep_ring(&l.out_ring, &r->out, &r->out_len, &r->out_truncated);
    keep_ring(&l.err_ring, &r->err, &r->err_len, &r->err_truncated);
  }
  restore_signals(&l, r);
  cleanup(&l);
  return rc;
}

void lnuma_exec_result_free(lnuma_exec_result *r) {
  if (r == NULL) return;
  for (size_t i = 0; i < r->n_mappings; i++) free(r->mappings[i].by_node);
  free(r->mappings);
  free(r->peak_by_node);
  free(r->out);
  free(r->err);
  r->mappings = NULL;
  r->peak_by_node = NULL;
  r->out = r->err = NULL;
  r->n_mappings = 0;
  r->n_peak = 0;
  r->out_len = r->err_len = 0;
}
