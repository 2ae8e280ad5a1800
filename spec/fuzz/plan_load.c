/* The C half of the plan fuzzer (spec/fuzz/plans.lua): lnuma_plan_load on
 * every plan file of a list, as a C host would, then every getter on what
 * loaded, and lnuma_plan_apply when the plan is small enough to place here.
 *
 *   plan_load LIST LOG
 *
 * LIST has one plan a line: PATH<TAB>TARGET<TAB>ARG<TAB>INSTRUCTIONS<TAB>MEMORY
 * where TARGET is "live", "synthetic" (ARG: the description) or "xml" (ARG:
 * the file).  Each plan is written to LOG (flushed) before it is loaded, so
 * a crash names its file.  Prints "loaded N refused N applied N". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lnuma.h"

/* Plans whose memory adds up to more than this are not applied. */
#define APPLY_LIMIT ((size_t)256 << 20)

static size_t add_sat(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }
static size_t mul_sat(size_t a, size_t b) { return b != 0 && a > SIZE_MAX / b ? SIZE_MAX : a * b; }

static size_t touch_plan(const lnuma_plan *p) {
  size_t total = 0, sum = 0;
  (void)lnuma_plan_file(p);
  for (size_t i = 0; i < lnuma_plan_thread_count(p); i++) {
    const lnuma_plan_thread *t = lnuma_plan_thread_at(p, i);
    sum += strlen(t->name) + (size_t)lnuma_set_count(&t->cpus) + (size_t)(t->node + t->hot);
    for (size_t u = 0; u < t->nuses; u++) sum += strlen(t->uses[u]);
    if (lnuma_plan_thread_named(p, t->name) == NULL) abort();
  }
  for (size_t i = 0; i < lnuma_plan_region_count(p); i++) {
    const lnuma_plan_region *r = lnuma_plan_region_at(p, i);
    sum += strlen(r->name) + strlen(r->policy) + strlen(r->huge) + (size_t)r->node;
    total = add_sat(total, r->size);
    if (lnuma_plan_region_named(p, r->name) == NULL) abort();
  }
  for (size_t i = 0; i < lnuma_plan_pool_count(p); i++) {
    const lnuma_plan_pool *q = lnuma_plan_pool_at(p, i);
    sum += strlen(q->name) + (size_t)q->node;
    total = add_sat(total, mul_sat(q->size, q->count));
    if (lnuma_plan_pool_named(p, q->name) == NULL) abort();
  }
  for (size_t i = 0; i < lnuma_plan_warning_count(p); i++) sum += strlen(lnuma_plan_warning(p, i));
  (void)lnuma_plan_thread_at(p, (size_t)-1);
  (void)lnuma_plan_region_named(p, "");
  (void)sum;
  return total;
}

static void apply(const lnuma_plan *p) {
  lnuma_error err;
  lnuma_plan_applied *a = lnuma_plan_apply(p, &err);
  if (a == NULL) return;
  for (size_t i = 0; i < lnuma_plan_applied_region_count(a); i++) {
    const lnuma_plan_placed_region *r = lnuma_plan_applied_region_at(a, i);
    if (r->size > 0) ((volatile char *)r->data)[r->size - 1] = 1;
  }
  for (size_t i = 0; i < lnuma_plan_applied_pool_count(a); i++)
    (void)lnuma_plan_applied_pool_at(a, i);
  lnuma_plan_applied_free(a);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: plan_load LIST LOG\n");
    return 2;
  }
  FILE *list = fopen(argv[1], "r");
  FILE *log = fopen(argv[2], "w");
  if (list == NULL || log == NULL) {
    perror("plan_load");
    return 2;
  }
  char line[8192];
  int loaded = 0, refused = 0, applied = 0;
  while (fgets(line, sizeof line, list) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    char *fields[5] = {0};
    char *save = NULL, *s = line;
    for (int i = 0; i < 5; i++, s = NULL) fields[i] = strtok_r(s, "\t", &save);
    if (fields[4] == NULL) continue;
    fprintf(log, "%s\n", line);
    fflush(log);
    lnuma_plan_options o;
    memset(&o, 0, sizeof o);
    if (strcmp(fields[1], "synthetic") == 0) o.topology_synthetic = fields[2];
    if (strcmp(fields[1], "xml") == 0) o.topology_xml = fields[2];
    o.max_instructions = strtoll(fields[3], NULL, 10);
    o.max_memory = (size_t)strtoull(fields[4], NULL, 10);
    lnuma_error err;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    lnuma_plan *p = lnuma_plan_load(fields[0], &o, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* The default limit is 50 million instructions, about 0.2 s: a load
     * that takes far longer ran code outside the limits. */
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (secs > 3.0)
      printf("escape: %s: lnuma_plan_load took %.1f s (past the instruction limit?)\n", fields[0], secs);
    if (p == NULL) {
      if (strstr(err.msg, "ESCAPE:") != NULL) printf("escape: %s: %s\n", fields[0], err.msg);
      if (err.msg[0] == '\0') {
        fprintf(stderr, "finding: %s: lnuma_plan_load failed without a message\n", fields[0]);
        return 1;
      }
      refused++;
      continue;
    }
    loaded++;
    size_t total = touch_plan(p);
    if (lnuma_plan_is_live(p) && total <= APPLY_LIMIT) {
      apply(p);
      applied++;
    }
    lnuma_plan_free(p);
  }
  fprintf(log, "end\n");
  fclose(log);
  fclose(list);
  printf("loaded %d refused %d applied %d\n", loaded, refused, applied);
  return 0;
}
