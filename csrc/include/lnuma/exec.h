/** @file
 * lnuma/exec.h -- running an external program under a memory policy and a
 * CPU set, as numactl does, and reporting what it really got: its pages per
 * node (sampled from /proc/PID/numa_maps while it runs), the CPUs it ran
 * on, its times, page faults, peak RSS and exit status.  Included by lnuma.h.
 *
 * The policy (set_mempolicy) and CPU set (sched_setaffinity) are applied in
 * the child after fork and before exec; both survive exec.  A step the
 * kernel refuses is reported through a close-on-exec pipe and the program is
 * not run: never silently without its policy.
 */
#ifndef LNUMA_EXEC_H
#define LNUMA_EXEC_H

#include "../lnuma.h"
#include "system.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Transparent huge pages for the program. */
typedef enum lnuma_exec_huge {
  LNUMA_EXEC_HUGE_DEFAULT = 0, /**< as the system and the caller's process have it */
  LNUMA_EXEC_HUGE_THP = 1,     /**< THP on for the child (prctl) and glibc's malloc asked
                                    to madvise its memory (GLIBC_TUNABLES
                                    glibc.malloc.hugetlb=1, glibc 2.35 and later) */
  LNUMA_EXEC_HUGE_NONE = 2     /**< THP off for the child (prctl PR_SET_THP_DISABLE) */
} lnuma_exec_huge;

/** What to run and how; fill with lnuma_exec_options_init() first. */
typedef struct lnuma_exec_options {
  char *const *argv;      /**< NULL-terminated; argv[0] is searched in PATH (execvp) */
  int has_policy;         /**< 1: apply policy/nodes in the child */
  lnuma_mempolicy policy; /**< the memory policy (nodes empty: the allowed nodes) */
  lnuma_set nodes;        /**< its nodes */
  int has_cpus;           /**< 1: pin the child to cpus */
  lnuma_set cpus;         /**< the CPU set (each online and allowed to the caller) */
  lnuma_exec_huge huge;   /**< THP for the child */
  int out_fd;             /**< where the child's stdout goes: 1 (default, inherited
                               untouched), 2 (the caller's stderr), -1 (nowhere) */
  int err_fd;             /**< where its stderr goes: 2 (default) or -1 */
  size_t capture_out;     /**< > 0: stdout passes through a pipe and its last
                               capture_out bytes are kept (still sent to out_fd) */
  size_t capture_err;     /**< > 0: the same for stderr (a failing run's tail) */
  uint64_t sample_ns;     /**< longest time between two samples of /proc (default 50 ms;
                               the first come after 1, 2, 4, ... ms) */
  uint64_t timeout_ns;    /**< 0: none; else SIGTERM after it, SIGKILL 1 s later */
} lnuma_exec_options;

/** Defaults: no policy, no CPU set, stdout 1, stderr 2, nothing captured,
 *  samples every 50 ms at most, no time limit. */
LNUMA_API void lnuma_exec_options_init(lnuma_exec_options *o);

/** One mapping of the program (a line of numa_maps), at the sample where it
 *  held the most pages. */
typedef struct lnuma_exec_mapping {
  uint64_t start;     /**< its first address */
  char policy[48];    /**< the VMA's own policy as numa_maps shows it ("default", ...) */
  char kind[8];       /**< "anon", "heap", "stack", "huge" (hugetlbfs) or "file" */
  char path[104];     /**< the file of a file mapping (cut to fit), else "" */
  uint64_t page_size; /**< bytes */
  uint64_t pages;     /**< pages present in that sample */
  int n_nodes;        /**< entries of by_node */
  uint64_t *by_node;  /**< pages on node 0 .. n_nodes-1 (owned by the result) */
} lnuma_exec_mapping;

/** Which step of launching failed (lnuma_exec_result.failed_step). */
typedef enum lnuma_exec_step {
  LNUMA_EXEC_STEP_NONE = 0,   /**< launched */
  LNUMA_EXEC_STEP_SETUP = 1,  /**< in the caller, before fork (pipes, fork itself) */
  LNUMA_EXEC_STEP_OUTPUT = 2, /**< redirecting stdout/stderr in the child */
  LNUMA_EXEC_STEP_THP = 3,    /**< prctl(PR_SET_THP_DISABLE) in the child */
  LNUMA_EXEC_STEP_CPUS = 4,   /**< sched_setaffinity in the child */
  LNUMA_EXEC_STEP_POLICY = 5, /**< set_mempolicy in the child */
  LNUMA_EXEC_STEP_EXEC = 6    /**< execvp: no such program, or not executable */
} lnuma_exec_step;

/** What the program got.  Free with lnuma_exec_result_free(). */
typedef struct lnuma_exec_result {
  int pid;               /**< the child's pid (0 when none was started) */
  lnuma_exec_step failed_step; /**< where launching failed (NONE when it ran) */
  int exit_code;         /**< its exit status (128 + the signal when one ended it);
                              when launching failed, 127 (no such
                              program), 126 (not executable) or 125 (refused setup),
                              as env(1) and shells say; -1 when another wait of
                              the caller reaped it first */
  int signal;            /**< the signal that ended it, else 0 */
  int core_dumped;       /**< 1 when it dumped core */
  int timed_out;         /**< 1 when timeout_ns ended it */
  int forwarded;         /**< SIGINT/SIGTERM/SIGHUP/SIGQUIT passed on to it */
  uint64_t wall_ns;      /**< fork to reaping, CLOCK_MONOTONIC */
  uint64_t user_ns;      /**< user CPU time (wait4 rusage, microsecond steps) */
  uint64_t system_ns;    /**< system CPU time (wait4 rusage) */
  uint64_t minor_faults; /**< ru_minflt */
  uint64_t major_faults; /**< ru_majflt */
  uint64_t max_rss_bytes; /**< ru_maxrss (of the largest process it ran) */
  uint64_t voluntary_switches;   /**< ru_nvcsw */
  uint64_t involuntary_switches; /**< ru_nivcsw */
  int samples;           /**< samples of /proc taken while it ran */
  int sample_failures;   /**< samples whose numa_maps could not be read */
  uint64_t sampling_ns;  /**< time spent reading /proc for the samples (they take the
                              program's mmap lock for reading while they walk it) */
  char sample_error[LNUMA_ERRMSG_MAX]; /**< the first such failure, else "" */
  lnuma_set cpus_allowed; /**< its CPU affinity right after exec (sched_getaffinity) */
  lnuma_set cpus_ran;    /**< CPUs its threads were seen on (/proc/PID/task/STAR/stat) */
  int threads_max;       /**< the most threads seen in one sample */
  uint64_t anon_huge_max; /**< the largest AnonHugePages seen (smaps_rollup), bytes */
  int smaps_read;        /**< 1 when smaps_rollup could be read at least once */
  int n_peak;            /**< entries of peak_by_node */
  uint64_t *peak_by_node; /**< bytes per node of the sample that held the most */
  size_t n_mappings;     /**< entries of mappings, in address order */
  lnuma_exec_mapping *mappings; /**< every mapping seen, each at its largest */
  size_t mappings_dropped; /**< mappings past the table's limit (not kept) */
  char *out;             /**< the last bytes of stdout (capture_out), else NULL */
  size_t out_len;        /**< bytes in out */
  int out_truncated;     /**< 1 when more was written than kept */
  char *err;             /**< the last bytes of stderr (capture_err), else NULL */
  size_t err_len;        /**< bytes in err */
  int err_truncated;     /**< 1 when more was written than kept */
  char huge_note[LNUMA_ERRMSG_MAX]; /**< what was done for huge (or "") */
} lnuma_exec_result;

/**
 * Runs opts->argv to its end and fills out (zeroed first).  The caller's
 * SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD and SIGPIPE are blocked in the
 * calling thread while it runs (read through a signalfd): one sent to this
 * process by kill() is passed on to the program (a terminal's Ctrl-C already
 * reaches it), and any still pending at the end is delivered as usual
 * afterwards.  The child is always reaped.  In a process with other threads,
 * block those signals in them too, or they may take them.
 *
 * Returns 0 when the program ran (whatever its exit status); -1 when it
 * could not be launched: err says why ("exec: nosuch: No such file or
 * directory", a refused policy explained as lnuma_set_thread_policy does)
 * and out->failed_step and out->exit_code say where.  Refusals are never
 * silent: the program does not run without what was asked.  EINVAL for bad
 * options (empty argv, CPUs not online or outside this process's cpuset).
 * Free out with lnuma_exec_result_free() in every case.  Any thread.
 */
LNUMA_API int lnuma_exec(const lnuma_exec_options *opts, lnuma_exec_result *out,
                         lnuma_error *err);

/** Frees what a result owns (mappings, captured output); harmless twice. */
LNUMA_API void lnuma_exec_result_free(lnuma_exec_result *r);

/** "setup", "output", "thp", "cpus", "policy", "exec" (or "" for NONE). */
LNUMA_API const char *lnuma_exec_step_name(lnuma_exec_step step);

#ifdef __cplusplus
}
#endif

#endif
