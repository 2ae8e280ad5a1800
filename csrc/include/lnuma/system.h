/** @file
 * lnuma/system.h -- live facts about the running system and the calling
 * thread: online nodes and CPUs, the node of a CPU, what this process is
 * allowed (cpuset/taskset), where the thread runs, CPU binding.
 * Read from /sys and the kernel directly (no hwloc), so they are cheap and
 * always describe *this* machine.  Included by lnuma.h.
 */
#ifndef LNUMA_SYSTEM_H
#define LNUMA_SYSTEM_H

#include "../lnuma.h"

#ifdef __cplusplus
extern "C" {
#endif

/** 1 when the kernel has NUMA support (get_mempolicy works), 0 otherwise.
 *  Any thread. */
LNUMA_API int lnuma_numa_available(void);

/** The online NUMA nodes (/sys/devices/system/node/online; {0} on a kernel
 *  without NUMA).  Any thread. */
LNUMA_API int lnuma_nodes_online(lnuma_set *out, lnuma_error *err);

/** The online CPUs (/sys/devices/system/cpu/online).  Any thread. */
LNUMA_API int lnuma_cpus_online(lnuma_set *out, lnuma_error *err);

/** The CPUs of an online node (empty for a memory-only node); -1 with EINVAL
 *  when the node is not online.  Any thread. */
LNUMA_API int lnuma_node_cpus(int node, lnuma_set *out, lnuma_error *err);

/** The node a CPU belongs to, or -1 when the CPU is not online. Any thread. */
LNUMA_API int lnuma_cpu_node(int cpu);

/** What this process may use: the CPUs of the calling thread's affinity mask
 *  as set by cpusets/taskset (sched_getaffinity of the process) and the nodes
 *  of Mems_allowed.  Either pointer may be NULL.  Any thread. */
LNUMA_API int lnuma_allowed(lnuma_set *cpus, lnuma_set *nodes, lnuma_error *err);

/** The CPU and node the calling thread runs on now (getcpu).  Either pointer
 *  may be NULL.  Any thread. */
LNUMA_API int lnuma_current(int *cpu, int *node, lnuma_error *err);

/** Pins the calling thread to the CPUs in set (sched_setaffinity).  EINVAL
 *  names a CPU that is not online, or the CPUs the kernel refused (outside
 *  this process's cpuset), in which case the previous binding is kept.
 *  Affects only the calling thread. */
LNUMA_API int lnuma_bind_cpus(const lnuma_set *cpus, lnuma_error *err);

/** The calling thread's CPU affinity mask.  Any thread (for itself). */
LNUMA_API int lnuma_cpu_binding(lnuma_set *cpus, lnuma_error *err);

/** Total and free memory of an online node in bytes, from
 *  /sys/devices/system/node/nodeN/meminfo (MemTotal, MemFree).  Either
 *  pointer may be NULL.  -1 with EINVAL when the node is not online.
 *  Any thread. */
LNUMA_API int lnuma_node_meminfo(int node, uint64_t *total, uint64_t *free,
                                 lnuma_error *err);

/** Memory policy modes (set_mempolicy(2), numactl). */
typedef enum lnuma_mempolicy {
  LNUMA_MPOL_DEFAULT = 0,            /**< allocate on the node of the CPU that touches */
  LNUMA_MPOL_PREFERRED = 1,          /**< one preferred node, others when it is full */
  LNUMA_MPOL_BIND = 2,               /**< only the given nodes */
  LNUMA_MPOL_INTERLEAVE = 3,         /**< round-robin over the given nodes */
  LNUMA_MPOL_LOCAL = 4,              /**< the node of the CPU that allocates */
  LNUMA_MPOL_PREFERRED_MANY = 5,     /**< several preferred nodes */
  LNUMA_MPOL_WEIGHTED_INTERLEAVE = 6, /**< interleave by the system-wide weights (sysfs) */
  LNUMA_MPOL_WEIGHTED = 7 /**< lnuma's own, buffers only: the buffer's own weights
                               (lnuma_weights), chunk by chunk; not a kernel mode */
} lnuma_mempolicy;

/** The calling thread's memory policy (get_mempolicy): its mode and the
 *  nodes memory may come from (for "default" and "local", the allowed
 *  nodes; otherwise the policy's node mask).  Either pointer may be NULL.
 *  ENOSYS when the kernel has no NUMA syscalls.  Any thread (for itself). */
LNUMA_API int lnuma_mem_binding(lnuma_mempolicy *mode, lnuma_set *nodes, lnuma_error *err);

/** "default", "preferred", "bind", "interleave", "local", "preferred_many",
 *  "weighted_interleave", "weighted" (or "unknown"). */
LNUMA_API const char *lnuma_mempolicy_name(lnuma_mempolicy mode);

/** The transparent huge page settings that decide whether THP is given. */
typedef struct lnuma_thp_settings {
  int available;        /**< 1 when the kernel has THP (/sys/kernel/mm/transparent_hugepage) */
  char enabled[16];     /**< the system mode: "always", "madvise", "never" ("" without THP) */
  char pmd_enabled[16]; /**< the mode for PMD-size pages: hugepages-\<PMD\>kB/enabled where
                             the kernel has per-size modes ("inherit" resolved), else
                             enabled */
  char defrag[16];      /**< "always", "defer", "defer+madvise", "madvise", "never" */
  size_t pmd_size;      /**< bytes of a PMD-size THP (hpage_pmd_size; 2 MiB on x86-64) */
  int process_disabled; /**< 1 when THP is off for this process (prctl PR_SET_THP_DISABLE,
                             inherited from the parent: /proc/self/status THP_enabled 0) */
} lnuma_thp_settings;

/** Reads the THP settings (every field is filled, also without THP).  Any
 *  thread. */
LNUMA_API int lnuma_thp_settings_read(lnuma_thp_settings *out, lnuma_error *err);

/** Turns THP off (enabled 0) or back on (1) for this process and the
 *  children it starts (prctl PR_SET_THP_DISABLE): pages faulted in later
 *  are base pages even where MADV_HUGEPAGE asks for THP; pages already
 *  backed stay as they are.  Affects the whole process. */
LNUMA_API int lnuma_thp_set_process(int enabled, lnuma_error *err);

#ifdef __cplusplus
}
#endif

#endif
