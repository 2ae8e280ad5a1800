/* Private helpers shared by the memory files of csrc/core (policy.c,
 * buffer.c, arena.c, pool.c, numastat.c); never installed. */
#ifndef LNUMA_MEM_INTERNAL_H
#define LNUMA_MEM_INTERNAL_H

#include "internal.h"
#include "lnuma/memory.h"

/* Kernel modes some headers lack. */
#ifndef MPOL_LOCAL
#define MPOL_LOCAL 4
#endif
#ifndef MPOL_PREFERRED_MANY
#define MPOL_PREFERRED_MANY 5
#endif
#ifndef MPOL_WEIGHTED_INTERLEAVE
#define MPOL_WEIGHTED_INTERLEAVE 6
#endif

/* Rejects policies that can never work with these nodes (EINVAL), without
 * asking the system anything. */
int lnuma__check_policy(lnuma_mempolicy policy, const lnuma_set *nodes, lnuma_error *err);

/* Applies the defaults of a policy to its node set (DEFAULT with nodes ->
 * BIND, empty set -> allowed nodes, PREFERRED -> the current node) and
 * rejects impossible combinations (EINVAL). */
int lnuma__resolve_policy(lnuma_mempolicy *policy, lnuma_set *nodes, lnuma_error *err);

/* Explains why the kernel refused nodes: ENODEV for a node that does not
 * exist, EINVAL for one without memory or outside Mems_allowed.  Returns -1
 * with err filled, or 0 when it finds nothing wrong.  what prefixes it. */
int lnuma__diagnose_nodes(const lnuma_set *nodes, const char *what, lnuma_error *err);

/* mbind() of a resolved policy over [addr, addr+len).  Returns 0 and sets
 * *applied (1) or, where the kernel refuses policies (EPERM, ENOSYS), 0 with
 * *applied = 0 and the reason in note; -1 with err for real failures. */
int lnuma__apply_policy(void *addr, size_t len, lnuma_mempolicy policy, const lnuma_set *nodes,
                        int *applied, char *note, size_t note_cap, lnuma_error *err);

/* One line of /proc/PID/numa_maps, as lnuma__numa_maps_line reads it. */
enum { LNUMA__MAP_ANON, LNUMA__MAP_HEAP, LNUMA__MAP_STACK, LNUMA__MAP_HUGE, LNUMA__MAP_FILE };
typedef struct lnuma__maps_line {
  uint64_t start;     /* the VMA's first address */
  const char *policy; /* into the line: "default", "bind:0", "interleave:0-1", ... */
  const char *file;   /* into the line: the path after "file=", or NULL */
  int kind;           /* LNUMA__MAP_*: hugetlbfs first, then heap, stack, file, anon */
  uint64_t page_size; /* kernelpagesize_kB in bytes */
  uint64_t pages;     /* the sum of its N<node>= counts */
  int top;            /* 1 + the highest node with an N<node>= count (0: none) */
} lnuma__maps_line;

/* Parses line in place (it is cut into tokens): pages[node] is set for
 * every "N<node>=<pages>" with node < max_nodes (the caller zeroes
 * pages[0..top) after use).  0, or -1 for a line that is not one. */
int lnuma__numa_maps_line(char *line, lnuma__maps_line *out, uint64_t *pages, int max_nodes);

/* set_mempolicy(policy, nodes) of a resolved policy, for a child between
 * fork and exec: system calls only.  0, or the errno of the refusal. */
int lnuma__set_mempolicy_raw(lnuma_mempolicy policy, const lnuma_set *nodes);

/* The error of a refused set_mempolicy (errno e), explained as
 * lnuma_set_thread_policy explains it.  Returns -1. */
int lnuma__policy_refused(int e, lnuma_mempolicy policy, const lnuma_set *nodes,
                          lnuma_error *err);

/* Faults [p, p+len) in without risking SIGBUS (MADV_POPULATE_WRITE, or a
 * touch per page on kernels before 5.14 for base pages).  Returns 0, -1 with
 * err filled, or a positive errno of MADV_POPULATE_WRITE for the caller to
 * explain. */
int lnuma__populate_range(char *p, size_t len, int hugetlb, lnuma_populate *how,
                          lnuma_error *err);

/* Populates [p, p+len) chunk by chunk (chunk bytes each) on the nodes of the
 * weights, from a thread pinned to cpu (-1: anywhere), then binds the range
 * to the nodes of positive weight.  Fills in's populated, populate_ns,
 * policy_applied and policy_note.  Returns 0, -1 with err (ENODEV/EINVAL
 * naming a node of the weights that cannot be used), or a positive errno of
 * populating for the caller to explain. */
int lnuma__weighted_populate(char *p, size_t len, size_t chunk, const lnuma_weights *w, int cpu,
                             int hugetlb, lnuma_buffer_info *in, lnuma_error *err);

/* Monotonic nanoseconds (CLOCK_MONOTONIC_RAW). */
uint64_t lnuma__now_ns(void);

/* The system's base page size. */
size_t lnuma__page_size(void);

/* Bytes of a PMD-size transparent huge page (2 MiB with 4 KiB pages). */
size_t lnuma__pmd_size(void);

#endif
