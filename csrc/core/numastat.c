/* The kernel's per-node counters and memory: /sys/devices/system/node and
 * /proc/PID/numa_maps, read the way numastat reads them. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mem_internal.h"

#define SYS_NODE "/sys/devices/system/node"

/* Opens a file of a node, ENODEV when the node does not exist. */
static FILE *open_node_file(int node, const char *file, lnuma_error *err) {
  lnuma_set online;
  if (lnuma_nodes_online(&online, err) != 0) return NULL;
  if (node < 0 || !lnuma_set_has(&online, node)) {
    char list[256];
    lnuma_set_format(&online, list, sizeof list);
    lnuma__fail(err, ENODEV, "node %d does not exist (nodes %s)", node, list);
    return NULL;
  }
  char path[128];
  snprintf(path, sizeof path, SYS_NODE "/node%d/%s", node, file);
  FILE *f = fopen(path, "re");
  if (f == NULL) lnuma__fail_sys(err, errno, path);
  return f;
}

int lnuma_numastat_node(int node, lnuma_numastat *out, lnuma_error *err) {
  FILE *f = open_node_file(node, "numastat", err);
  if (f == NULL) return -1;
  memset(out, 0, sizeof *out);
  static const struct {
    const char *name;
    size_t offset;
  } fields[] = {
      {"numa_hit", offsetof(lnuma_numastat, numa_hit)},
      {"numa_miss", offsetof(lnuma_numastat, numa_miss)},
      {"numa_foreign", offsetof(lnuma_numastat, numa_foreign)},
      {"interleave_hit", offsetof(lnuma_numastat, interleave_hit)},
      {"local_node", offsetof(lnuma_numastat, local_node)},
      {"other_node", offsetof(lnuma_numastat, other_node)},
  };
  char key[64];
  unsigned long long v;
  while (fscanf(f, "%63s %llu", key, &v) == 2)
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
      if (strcmp(key, fields[i].name) == 0)
        *(uint64_t *)((char *)out + fields[i].offset) = (uint64_t)v;
  fclose(f);
  return 0;
}

int lnuma_meminfo_node(int node, lnuma_meminfo *out, lnuma_error *err) {
  lnuma_set online;
  if (lnuma_nodes_online(&online, err) != 0) return -1;
  if (node < 0 || !lnuma_set_has(&online, node)) {
    char list[256];
    lnuma_set_format(&online, list, sizeof list);
    return lnuma__fail(err, ENODEV, "node %d does not exist (nodes %s)", node, list);
  }
  memset(out, 0, sizeof *out);
  if (lnuma_node_meminfo(node, &out->total, &out->free, err) != 0) return -1;
  out->used = out->total >= out->free ? out->total - out->free : 0;
  /* Huge pages: one directory per size, smallest first. */
  static const size_t kbs[] = {2048, 1048576};
  for (size_t i = 0; i < sizeof kbs / sizeof kbs[0] && out->n_huge < 4; i++) {
    char dir[160], path[200];
    snprintf(dir, sizeof dir, SYS_NODE "/node%d/hugepages/hugepages-%zukB", node, kbs[i]);
    if (access(dir, F_OK) != 0) continue;
    lnuma_hugepages *h = &out->huge[out->n_huge++];
    h->page_size = kbs[i] << 10;
    static const char *const files[] = {"nr_hugepages", "free_hugepages", "surplus_hugepages"};
    uint64_t *dst[] = {&h->total, &h->free, &h->surplus};
    for (int k = 0; k < 3; k++) {
      snprintf(path, sizeof path, "%s/%s", dir, files[k]);
      FILE *g = fopen(path, "re");
      unsigned long long v = 0;
      if (g != NULL) {
        if (fscanf(g, "%llu", &v) != 1) v = 0;
        fclose(g);
      }
      *dst[k] = (uint64_t)v;
    }
  }
  return 0;
}

/* One line of numa_maps: "7f.. bind:0 anon=3 dirty=3 N0=3 kernelpagesize_kB=4". */
static void add_line(char *line, lnuma_proc_usage *by_node, int max_nodes) {
  uint64_t page = 4096;
  char *kp = strstr(line, "kernelpagesize_kB=");
  if (kp != NULL) page = strtoull(kp + strlen("kernelpagesize_kB="), NULL, 10) << 10;
  /* The categories of numastat -p, tested in its order. */
  int kind = strstr(line, "huge") != NULL    ? 0
             : strstr(line, "heap") != NULL  ? 1
             : strstr(line, "stack") != NULL ? 2
                                             : 3;
  char *save = NULL;
  for (char *tok = strtok_r(line, " \n", &save); tok != NULL; tok = strtok_r(NULL, " \n", &save)) {
    int node;
    unsigned long long pages;
    if (tok[0] != 'N' || sscanf(tok, "N%d=%llu", &node, &pages) != 2) continue;
    if (node < 0 || node >= max_nodes) continue;
    uint64_t bytes = (uint64_t)pages * page;
    lnuma_proc_usage *u = &by_node[node];
    uint64_t *dst[] = {&u->huge_bytes, &u->heap_bytes, &u->stack_bytes, &u->private_bytes};
    *dst[kind] += bytes;
  }
}

int lnuma_numastat_process(int pid, lnuma_proc_usage *by_node, int max_nodes,
                           lnuma_error *err) {
  if (pid < 0) return lnuma__fail(err, EINVAL, "pid %d is not a process id", pid);
  char path[64];
  if (pid == 0)
    snprintf(path, sizeof path, "/proc/self/numa_maps");
  else
    snprintf(path, sizeof path, "/proc/%d/numa_maps", pid);
  FILE *f = fopen(path, "re");
  if (f == NULL) {
    int e = errno;
    return lnuma__fail_sys(err, e == ENOENT ? ESRCH : e, path);
  }
  memset(by_node, 0, sizeof *by_node * (size_t)(max_nodes > 0 ? max_nodes : 0));
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) add_line(line, by_node, max_nodes);
  free(line);
  fclose(f);
  return 0;
}
