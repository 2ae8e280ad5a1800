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
  FILE *f = fopen(path, "re");
  if (f == NULL) return lnuma__fail_sys(err, errno, path);
  char line[16384];
  if (fgets(line, sizeof line, f) == NULL) line[0] = '\0';
  fclose(f);
  line[strcspn(line, "\n")] = '\0';
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

int lnuma_bind_cpus(const lnuma_set *cpus, lnuma_error *err) {
  if (lnuma_set_count(cpus) == 0)
    return lnuma__fail(err, EINVAL, "the CPU set is empty");
  lnuma_set online, allowed;
  if (lnuma_cpus_online(&online, err) != 0) return -1;
  if (lnuma_allowed(&allowed, NULL, err) != 0) return -1;
  for (int c = lnuma_set_next(cpus, -1); c >= 0; c = lnuma_set_next(cpus, c)) {
    char list[256];
    if (!lnuma_set_has(&online, c)) {
      lnuma_set_format(&online, list, sizeof list);
      return lnuma__fail(err, EINVAL, "CPU %d does not exist (online CPUs %s)", c, list);
    }
    if (!lnuma_set_has(&allowed, c)) {
      lnuma_set_format(&allowed, list, sizeof list);
      return lnuma__fail(err, EINVAL, "CPU %d is not allowed to this process (allowed %s)",
                         c, list);
    }
  }
  size_t bytes = CPU_ALLOC_SIZE(LNUMA_SET_BITS);
  cpu_set_t *cs = CPU_ALLOC(LNUMA_SET_BITS);
  if (cs == NULL) return lnuma__fail_sys(err, ENOMEM, "CPU_ALLOC");
  CPU_ZERO_S(bytes, cs);
  for (int c = lnuma_set_next(cpus, -1); c >= 0; c = lnuma_set_next(cpus, c))
    CPU_SET_S(c, bytes, cs);
  int rc = sched_setaffinity(0, bytes, cs);
  int e = errno;
  CPU_FREE(cs);
  return rc == 0 ? 0 : lnuma__fail_sys(err, e, "sched_setaffinity");
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

int lnuma_restore_cpus(const lnuma_set *cpus, lnuma_error *err) {
  if (lnuma_set_count(cpus) == 0) return lnuma__fail(err, EINVAL, "the CPU set is empty");
  size_t bytes = CPU_ALLOC_SIZE(LNUMA_SET_BITS);
  cpu_set_t *cs = CPU_ALLOC(LNUMA_SET_BITS);
  if (cs == NULL) return lnuma__fail_sys(err, ENOMEM, "CPU_ALLOC");
  CPU_ZERO_S(bytes, cs);
  for (int c = lnuma_set_next(cpus, -1); c >= 0; c = lnuma_set_next(cpus, c))
    CPU_SET_S(c, bytes, cs);
  int rc = sched_setaffinity(0, bytes, cs);
  int e = errno;
  CPU_FREE(cs);
  return rc == 0 ? 0 : lnuma__fail_sys(err, e, "sched_setaffinity");
}
