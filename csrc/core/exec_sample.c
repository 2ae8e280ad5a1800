/* What a running program has, sampled from /proc/PID while it runs (its
 * numa_maps vanish when it exits): pages per node of each mapping (kept at
 * their largest), the sample that held the most, the CPUs its threads were
 * seen on, and AnonHugePages. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_internal.h"

/* Mappings kept at most (a program with more is counted in
 * mappings_dropped: its totals then miss those). */
#define MAX_MAPPINGS 65536

int lnuma__sampler_init(lnuma__sampler *s, int pid, lnuma_error *err) {
  memset(s, 0, sizeof *s);
  s->pid = pid;
  s->pages = calloc(LNUMA_MAX_NODES + 1, sizeof *s->pages);
  s->sum = calloc(LNUMA_MAX_NODES, sizeof *s->sum);
  if (s->pages == NULL || s->sum == NULL) {
    lnuma__sampler_free(s);
    return lnuma__fail_sys(err, ENOMEM, "exec: sampler");
  }
  return 0;
}

void lnuma__sampler_free(lnuma__sampler *s) {
  free(s->pages);
  free(s->sum);
  free(s->line);
  memset(s, 0, sizeof *s);
}

static void copy_text(char *dst, size_t cap, const char *src) {
  snprintf(dst, cap, "%s", src != NULL ? src : "");
}

/* The room the mapping table has for n entries: 16, 32, 64, ... */
static size_t capacity_for(size_t n) {
  size_t c = 16;
  while (c < n) c *= 2;
  return c;
}

/* The mapping that starts at start (binary search, mappings in address
 * order), inserted empty when new; NULL when the table is full. */
static lnuma_exec_mapping *mapping_at(lnuma_exec_result *r, uint64_t start) {
  size_t lo = 0, hi = r->n_mappings;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (r->mappings[mid].start < start)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < r->n_mappings && r->mappings[lo].start == start) return &r->mappings[lo];
  if (r->n_mappings >= MAX_MAPPINGS) return NULL;
  if (r->mappings == NULL || r->n_mappings == capacity_for(r->n_mappings)) {
    lnuma_exec_mapping *m = realloc(r->mappings, capacity_for(r->n_mappings + 1) * sizeof *m);
    if (m == NULL) return NULL;
    r->mappings = m;
  }
  memmove(&r->mappings[lo + 1], &r->mappings[lo], (r->n_mappings - lo) * sizeof *r->mappings);
  r->n_mappings++;
  lnuma_exec_mapping *m = &r->mappings[lo];
  memset(m, 0, sizeof *m);
  m->start = start;
  return m;
}

static const char *kind_name(int kind) {
  static const char *const names[] = {"anon", "heap", "stack", "huge", "file"};
  return kind >= 0 && kind <= LNUMA__MAP_FILE ? names[kind] : "anon";
}

/* Keeps the line's counts in its mapping when they are the largest yet. */
static void keep(lnuma_exec_result *r, const lnuma__maps_line *l, const uint64_t *pages) {
  lnuma_exec_mapping *m = mapping_at(r, l->start);
  if (m == NULL) {
    r->mappings_dropped++;
    return;
  }
  if (m->kind[0] != '\0' && l->pages < m->pages) return;
  if (l->top > m->n_nodes) {
    uint64_t *b = realloc(m->by_node, (size_t)l->top * sizeof *b);
    if (b == NULL) return;
    m->by_node = b;
    m->n_nodes = l->top;
  }
  for (int n = 0; n < m->n_nodes; n++) m->by_node[n] = n < l->top ? pages[n] : 0;
  m->pages = l->pages;
  m->page_size = l->page_size;
  copy_text(m->policy, sizeof m->policy, l->policy);
  copy_text(m->kind, sizeof m->kind, kind_name(l->kind));
  copy_text(m->path, sizeof m->path, l->file);
}

/* numa_maps: each line kept, and the sample's bytes per node summed. */
static void sample_maps(lnuma__sampler *s, lnuma_exec_result *r) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/numa_maps", s->pid);
  FILE *f = fopen(path, "re");
  if (f == NULL) {
    int e = errno;
    if (e == ENOENT || e == ESRCH) return; /* it has just ended */
    if (r->sample_failures++ == 0) {
      lnuma_error why;
      lnuma__fail_sys(&why, e, path);
      copy_text(r->sample_error, sizeof r->sample_error, why.msg);
    }
    return;
  }
  int top = 0, lines = 0;
  while (getline(&s->line, &s->line_cap, f) > 0) {
    lnuma__maps_line l;
    if (lnuma__numa_maps_line(s->line, &l, s->pages, LNUMA_MAX_NODES) != 0) continue;
    lines++;
    keep(r, &l, s->pages);
    for (int n = 0; n < l.top; n++) {
      s->sum[n] += s->pages[n] * l.page_size;
      s->pages[n] = 0;
    }
    if (l.top > top) top = l.top;
  }
  fclose(f);
  /* A process that has just exited reads as an empty file: not a sample. */
  if (lines == 0) return;
  r->samples++;
  uint64_t total = 0, best = 0;
  for (int n = 0; n < top; n++) total += s->sum[n];
  for (int n = 0; n < r->n_peak; n++) best += r->peak_by_node[n];
  if (total > best || r->peak_by_node == NULL) {
    uint64_t *p = top > r->n_peak ? realloc(r->peak_by_node, (size_t)top * sizeof *p)
                                  : r->peak_by_node;
    if (p != NULL) {
      if (top > r->n_peak) r->n_peak = top;
      r->peak_by_node = p;
      for (int n = 0; n < r->n_peak; n++) p[n] = n < top ? s->sum[n] : 0;
    }
  }
  memset(s->sum, 0, (size_t)top * sizeof *s->sum);
}

/* Field 39 of /proc/PID/task/TID/stat: the CPU the thread last ran on. */
static void sample_cpus(lnuma__sampler *s, lnuma_exec_result *r) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", s->pid);
  DIR *d = opendir(path);
  if (d == NULL) return;
  int threads = 0;
  const struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char stat[96], buf[1024];
    snprintf(stat, sizeof stat, "/proc/%d/task/%.20s/stat", s->pid, e->d_name);
    FILE *f = fopen(stat, "re");
    if (f == NULL) continue;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The name (field 2) may hold spaces and parentheses: count from the last ')'. */
    char *p = strrchr(buf, ')');
    if (p == NULL) continue;
    int field = 2;
    for (char *save = NULL, *tok = strtok_r(p + 1, " ", &save); tok != NULL;
         tok = strtok_r(NULL, " ", &save))
      if (++field == 39) {
        lnuma_set_add(&r->cpus_ran, atoi(tok));
        threads++;
        break;
      }
  }
  closedir(d);
  if (threads > r->threads_max) r->threads_max = threads;
}

/* AnonHugePages of smaps_rollup (Linux 4.14+): THP actually given. */
static void sample_thp(lnuma__sampler *s, lnuma_exec_result *r) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/smaps_rollup", s->pid);
  FILE *f = fopen(path, "re");
  if (f == NULL) return;
  unsigned long long kb;
  int found = 0;
  while (getline(&s->line, &s->line_cap, f) > 0)
    if (sscanf(s->line, "AnonHugePages: %llu kB", &kb) == 1) {
      found = 1;
      if ((uint64_t)kb << 10 > r->anon_huge_max) r->anon_huge_max = (uint64_t)kb << 10;
    }
  fclose(f);
  if (found) r->smaps_read = 1;
}

void lnuma__sample(lnuma__sampler *s, lnuma_exec_result *r) {
  sample_maps(s, r);
  sample_cpus(s, r);
  sample_thp(s, r);
}
