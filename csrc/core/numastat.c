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

int lnuma__numa_maps_line(char *line, lnuma__maps_line *out, uint64_t *pages, int max_nodes) {
  memset(out, 0, sizeof *out);
  out->page_size = 4096;
  out->kind = LNUMA__MAP_ANON;
  char *save = NULL;
  int field = 0;
  for (char *tok = strtok_r(line, " \n", &save); tok != NULL;
       tok = strtok_r(NULL, " \n", &save), field++) {
    int node;
    unsigned long long n;
    if (field == 0) {
      char *end;
      out->start = (uint64_t)strtoull(tok, &end, 16);
      if (end == tok || *end != '\0') return -1;
    } else if (field == 1) {
      out->policy = tok;
    } else if (tok[0] == 'N' && sscanf(tok, "N%d=%llu", &node, &n) == 2) {
      if (node < 0 || node >= max_nodes) continue;
      pages[node] = (uint64_t)n;
      out->pages += (uint64_t)n;
      if (node + 1 > out->top) out->top = node + 1;
    } else if (strncmp(tok, "kernelpagesize_kB=", 18) == 0) {
      out->page_size = (uint64_t)strtoull(tok + 18, NULL, 10) << 10;
    } else if (strncmp(tok, "file=", 5) == 0) {
      out->file = tok + 5;
      if (out->kind == LNUMA__MAP_ANON) out->kind = LNUMA__MAP_FILE;
    } else if (strcmp(tok, "huge") == 0) {
      out->kind = LNUMA__MAP_HUGE; /* hugetlbfs, also when it has a file */
    } else if (strcmp(tok, "heap") == 0) {
      out->kind = LNUMA__MAP_HEAP;
    } else if (strncmp(tok, "stack", 5) == 0) { /* "stack:TID" on old kernels */
      out->kind = LNUMA__MAP_STACK;
    }
  }
  return field >= 2 ? 0 : -1;
}

/* One line of numa_maps summed into by_node, in numastat -p's categories. */
static void add_line(char *line, uint64_t *pages, lnuma_proc_usage *by_node, int max_nodes) {
  lnuma__maps_line m;
  if (lnuma__numa_maps_line(line, &m, pages, max_nodes) != 0) return;
  for (int node = 0; node < m.top; node++) {
    uint64_t bytes = pages[node] * m.page_size;
    pages[node] = 0;
    lnuma_proc_usage *u = &by_node[node];
    uint64_t *dst = m.kind == LNUMA__MAP_HUGE    ? &u->huge_bytes
                    : m.kind == LNUMA__MAP_HEAP  ? &u->heap_bytes
                    : m.kind == LNUMA__MAP_STACK ? &u->stack_bytes
                                                 : &u->private_bytes;
    *dst += bytes;
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
  if (max_nodes < 0) max_nodes = 0;
  memset(by_node, 0, sizeof *by_node * (size_t)max_nodes);
  uint64_t *pages = calloc((size_t)max_nodes + 1, sizeof *pages);
  if (pages == NULL) {
    fclose(f);
    return lnuma__fail_sys(err, ENOMEM, "numa_maps");
  }
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) add_line(line, pages, by_node, max_nodes);
  free(line);
  free(pages);
  fclose(f);
  return 0;
}
