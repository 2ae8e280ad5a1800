/* Live system facts from /sys and the kernel: nodes, CPUs, allowed sets,
 * where the calling thread runs, and CPU binding of the calling thread. */
#include <errno.h>
#include <numaif.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define SYS_NODE "/sys/devices/system/node"
#define SYS_CPU "/sys/devices/system/cpu"

/* Reads a one-line kernel list file ("0-3,8") into out. */
static int read_list_file(const char *path, lnuma_set *out, lnuma_error *err) {
  char line[16384];
  if (lnuma__read_line(path, line, sizeof line) < 0) return lnuma__fail_sys(err, errno, path);
  return lnuma_set_parse(out, line, err);
}

int lnuma_numa_available(void) {
  int mode;
  return get_mempolicy(&mode, NULL, 0, NULL, 0) == 0 || errno != ENOSYS;
}

int lnuma_nodes_online(lnuma_set *out, lnuma_error *err) {
  if (access(SYS_NODE "/online", R_OK) != 0) {
    /* A kernel without CONFIG_NUMA: the whole machine is node 0. */
    lnuma_set_zero(out);
    lnuma_set_add(out, 0);
    return 0;
  }
  return read_list_file(SYS_NODE "/online", out, err);
}

int lnuma_cpus_online(lnuma_set *out, lnuma_error *err) {
  return read_list_file(SYS_CPU "/online", out, err);
}

int lnuma_node_cpus(int node, lnuma_set *out, lnuma_error *err) {
  lnuma_set nodes;
  if (lnuma_nodes_online(&nodes, err) != 0) return -1;
  if (!lnuma_set_has(&nodes, node)) {
    char list[256];
    lnuma_set_format(&nodes, list, sizeof list);
    return lnuma__fail(err, EINVAL, "node %d does not exist (nodes %s)", node, list);
  }
  char path[128];
  snprintf(path, sizeof path, SYS_NODE "/node%d/cpulist", node);
  if (access(path, R_OK) != 0 && node == 0) return lnuma_cpus_online(out, err);
  return read_list_file(path, out, err);
}

int lnuma_cpu_node(int cpu) {
  lnuma_set nodes, cpus;
  if (lnuma_nodes_online(&nodes, NULL) != 0) return -1;
  for (int n = lnuma_set_next(&nodes, -1); n >= 0; n = lnuma_set_next(&nodes, n))
    if (lnuma_node_cpus(n, &cpus, NULL) == 0 && lnuma_set_has(&cpus, cpu)) return n;
  return -1;
}

static void set_from_cpuset(lnuma_set *out, const cpu_set_t *cs, size_t bytes) {
  lnuma_set_zero(out);
  for (int i = 0; i < (int)(bytes * 8) && i < LNUMA_SET_BITS; i++)
    if (CPU_ISSET_S(i, bytes, cs)) lnuma_set_add(out, i);
}

int lnuma_allowed(lnuma_set *cpus, lnuma_set *nodes, lnuma_error *err) {
  if (cpus != NULL) {
    cpu_set_t *cs = CPU_ALLOC(LNUMA_SET_BITS);
    size_t bytes = CPU_ALLOC_SIZE(LNUMA_SET_BITS);
    if (cs == NULL) return lnuma__fail_sys(err, ENOMEM, "CPU_ALLOC");
    /* pid 0 is the calling thread; getpid() asks for the process's mask,
     * which is what a cpuset or taskset gave us. */
    int rc = sched_getaffinity(getpid(), bytes, cs);
    if (rc != 0) {
      int e = errno;
      CPU_FREE(cs);
      return lnuma__fail_sys(err, e, "sched_getaffinity");
    }
    set_from_cpuset(cpus, cs, bytes);
    CPU_FREE(cs);
  }
  if (nodes != NULL) {
    lnuma_set_zero(nodes);
    int mode;
    if (get_mempolicy(&mode, (unsigned long *)nodes->bits, LNUMA_SET_BITS, NULL,
                      MPOL_F_MEMS_ALLOWED) != 0) {
      /* No NUMA syscalls (kernel or seccomp): every online node is usable. */
      if (lnuma_nodes_online(nodes, err) != 0) return -1;
    }
  }
  return 0;
}

int lnuma_current(int *cpu, int *node, lnuma_error *err) {
  unsigned c = 0, n = 0;
  if (getcpu(&c, &n) != 0) return lnuma__fail_sys(err, errno, "getcpu");
  if (cpu != NULL) *cpu = (int)c;
  if (node != NULL) *node = (int)n;
  return 0;
}

/* Sets the calling thread's affinity to cpus; returns 0 or the errno. */
static int set_affinity(const lnuma_set *cpus) {
  size_t bytes = CPU_ALLOC_SIZE(LNUMA_SET_BITS);
  cpu_set_t *cs = CPU_ALLOC(LNUMA_SET_BITS);
  if (cs == NULL) return ENOMEM;
  CPU_ZERO_S(bytes, cs);
  for (int c = lnuma_set_next(cpus, -1); c >= 0; c = lnuma_set_next(cpus, c))
    CPU_SET_S(c, bytes, cs);
  int rc = sched_setaffinity(0, bytes, cs);
  int e = errno;
  CPU_FREE(cs);
  return rc == 0 ? 0 : e;
}

int lnuma_bind_cpus(const lnuma_set *cpus, lnuma_error *err) {
  if (lnuma_set_count(cpus) == 0)
    return lnuma__fail(err, EINVAL, "the CPU set is empty");
  lnuma_set online, before, after;
  char list[256];
  if (lnuma_cpus_online(&online, err) != 0) return -1;
  for (int c = lnuma_set_next(cpus, -1); c >= 0; c = lnuma_set_next(cpus, c))
    if (!lnuma_set_has(&online, c)) {
      lnuma_set_format(&online, list, sizeof list);
      return lnuma__fail(err, EINVAL, "CPU %d does not exist (online CPUs %s)", c, list);
    }
  if (lnuma_cpu_binding(&before, err) != 0) return -1;
  int e = set_affinity(cpus);
  if (e == EINVAL) {
    lnuma_set_format(cpus, list, sizeof list);
    return lnuma__fail(err, EINVAL,
                       "sched_setaffinity: CPUs %s are not allowed to this process "
                       "(cpuset)", list);
  }
  if (e != 0) return lnuma__fail_sys(err, e, "sched_setaffinity");
  /* The kernel silently drops CPUs outside the cpuset: read the mask back,
   * and refuse (keeping the old binding) rather than bind to fewer CPUs. */
  if (lnuma_cpu_binding(&after, err) != 0) return -1;
  if (!lnuma_set_equal(&after, cpus)) {
    lnuma_set refused;
    lnuma_set_zero(&refused);
    for (int c = lnuma_set_next(cpus, -1); c >= 0; c = lnuma_set_next(cpus, c))
      if (!lnuma_set_has(&after, c)) lnuma_set_add(&refused, c);
    set_affinity(&before);
    lnuma_set_format(&refused, list, sizeof list);
    return lnuma__fail(err, EINVAL, "CPUs %s are not allowed to this process (cpuset)",
                       list);
  }
  return 0;
}

int lnuma_cpu_binding(lnuma_set *cpus, lnuma_error *err) {
  size_t bytes = CPU_ALLOC_SIZE(LNUMA_SET_BITS);
  cpu_set_t *cs = CPU_ALLOC(LNUMA_SET_BITS);
  if (cs == NULL) return lnuma__fail_sys(err, ENOMEM, "CPU_ALLOC");
  if (sched_getaffinity(0, bytes, cs) != 0) {
    int e = errno;
    CPU_FREE(cs);
    return lnuma__fail_sys(err, e, "sched_getaffinity");
  }
  set_from_cpuset(cpus, cs, bytes);
  CPU_FREE(cs);
  return 0;
}

int lnuma_node_meminfo(int node, uint64_t *total, uint64_t *free, lnuma_error *err) {
  char path[128];
  snprintf(path, sizeof path, SYS_NODE "/node%d/meminfo", node);
  FILE *f = fopen(path, "re");
  if (f == NULL) {
    lnuma_set nodes;
    if (errno == ENOENT && lnuma_nodes_online(&nodes, NULL) == 0 &&
        !lnuma_set_has(&nodes, node))
      return lnuma__fail(err, EINVAL, "node %d does not exist", node);
    return lnuma__fail_sys(err, errno, path);
  }
  /* Lines read "Node 0 MemTotal:       5990176 kB". */
  char line[256];
  int found = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    int n;
    char key[64];
    unsigned long long kb;
    if (sscanf(line, "Node %d %63[^:]: %llu", &n, key, &kb) != 3) continue;
    if (strcmp(key, "MemTotal") == 0) {
      if (total != NULL) *total = (uint64_t)kb * 1024;
      found |= 1;
    } else if (strcmp(key, "MemFree") == 0) {
      if (free != NULL) *free = (uint64_t)kb * 1024;
      found |= 2;
    }
  }
  fclose(f);
  if (found != 3) return lnuma__fail(err, EIO, "%s: no MemTotal/MemFree lines", path);
  return 0;
}

int lnuma_mem_binding(lnuma_mempolicy *mode, lnuma_set *nodes, lnuma_error *err) {
  int m = 0;
  lnuma_set mask;
  lnuma_set_zero(&mask);
  if (get_mempolicy(&m, (unsigned long *)mask.bits, LNUMA_SET_BITS, NULL, 0) != 0)
    return lnuma__fail_sys(err, errno, "get_mempolicy");
  /* Drop the mode flags (MPOL_F_STATIC_NODES, ..._RELATIVE_NODES, ...). */
  m &= ~((1 << 15) | (1 << 14) | (1 << 13));
  if (mode != NULL) *mode = (lnuma_mempolicy)m;
  if (nodes != NULL) {
    if (m == LNUMA_MPOL_DEFAULT || m == LNUMA_MPOL_LOCAL) {
      if (lnuma_allowed(NULL, nodes, err) != 0) return -1;
    } else {
      *nodes = mask;
    }
  }
  return 0;
}

const char *lnuma_mempolicy_name(lnuma_mempolicy mode) {
  static const char *const names[] = {"default", "preferred", "bind", "interleave",
                                      "local", "preferred_many", "weighted_interleave",
                                      "weighted"};
  if ((int)mode < 0 || (size_t)mode >= sizeof names / sizeof names[0]) return "unknown";
  return names[mode];
}
