/*
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
 *  names a CPU that is not online or not allowed.  Affects only the calling
 *  thread. */
LNUMA_API int lnuma_bind_cpus(const lnuma_set *cpus, lnuma_error *err);

/** Puts back a CPU mask that lnuma_cpu_binding() returned earlier, without
 *  lnuma_bind_cpus()'s check against lnuma_allowed() (which reads the main
 *  thread's mask: once the main thread pinned itself, its old mask would be
 *  refused).  Affects only the calling thread. */
LNUMA_API int lnuma_restore_cpus(const lnuma_set *cpus, lnuma_error *err);

/** The calling thread's CPU affinity mask.  Any thread (for itself). */
LNUMA_API int lnuma_cpu_binding(lnuma_set *cpus, lnuma_error *err);

#ifdef __cplusplus
}
#endif

#endif
