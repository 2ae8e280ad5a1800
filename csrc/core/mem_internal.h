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

/* Monotonic nanoseconds (CLOCK_MONOTONIC_RAW). */
uint64_t lnuma__now_ns(void);

/* The system's base page size. */
size_t lnuma__page_size(void);

/* Bytes of a PMD-size transparent huge page (2 MiB with 4 KiB pages). */
size_t lnuma__pmd_size(void);

#endif
