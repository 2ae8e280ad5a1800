/* lnuma/plan.h: applying a checked plan with the core's buffers and pools,
 * and pinning the host's threads. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct lnuma_plan_applied {
  size_t nregions, npools;
  lnuma_plan_placed_region *regions;
  lnuma_plan_placed_pool *pools;
};

void lnuma_plan_applied_free(lnuma_plan_applied *a) {
  if (a == NULL) return;
  for (size_t i = 0; i < a->nregions; i++) {
    lnuma_buffer_free(a->regions[i].buffer);
    free((char *)a->regions[i].name);
  }
  for (size_t i = 0; i < a->npools; i++) {
    lnuma_pool_destroy(a->pools[i].pool);
    free((char *)a->pools[i].name);
  }
  free(a->regions);
  free(a->pools);
  free(a);
}

/* The lnuma_huge a checked plan names (plan_check.lua wrote the name). */
static lnuma_huge huge_of(const char *name) {
  lnuma_huge h = LNUMA_HUGE_DEFAULT;
  lnuma_error err;
  return lnuma_huge_parse(name, &h, &err) == 0 ? h : LNUMA_HUGE_DEFAULT;
}

/* Where the pages of buf are, whether they are all on nodes (any node when
 * nodes is empty, as for policy "local"), and the page sizes that back them
 * (left zeroed, method AUTO, where they cannot be read). */
static int verify(const lnuma_buffer *buf, const lnuma_set *nodes, lnuma_placement *out,
                  lnuma_pagesizes *sizes, int *ok, lnuma_error *err) {
  const lnuma_buffer_info *info = lnuma_buffer_info_of(buf);
  if (lnuma_placement_of(lnuma_buffer_data(buf), lnuma_buffer_size(buf), info->page_size, out,
                         NULL, 0, err) != 0)
    return -1;
  if (lnuma_pagesizes_of(lnuma_buffer_data(buf), lnuma_buffer_size(buf), sizes, NULL) != 0)
    memset(sizes, 0, sizeof *sizes);
  uint64_t on_target = 0;
  for (int n = 0; n < LNUMA_MAX_NODES; n++)
    if (lnuma_set_count(nodes) == 0 || lnuma_set_has(nodes, n)) on_target += out->by_node[n];
  *ok = out->absent == 0 && on_target == out->pages;
  return 0;
}

static char *copy_name(const char *name) {
  size_t n = strlen(name) + 1;
  char *c = malloc(n);
  if (c != NULL) memcpy(c, name, n);
  return c;
}

lnuma_plan_applied *lnuma_plan_apply(const lnuma_plan *plan, lnuma_error *err) {
  if (!lnuma_plan_is_live(plan)) {
    lnuma__fail(err, EINVAL, "%s: the plan was checked against another machine's topology; "
                             "load it without one to apply it here", lnuma_plan_file(plan));
    return NULL;
  }
  size_t nr = lnuma_plan_region_count(plan), np = lnuma_plan_pool_count(plan);
  lnuma_plan_applied *a = calloc(1, sizeof *a);
  if (a != NULL) {
    a->regions = calloc(nr ? nr : 1, sizeof *a->regions);
    a->pools = calloc(np ? np : 1, sizeof *a->pools);
  }
  if (a == NULL || a->regions == NULL || a->pools == NULL) {
    lnuma_plan_applied_free(a);
    lnuma__fail(err, ENOMEM, "lnuma_plan_apply: out of memory");
    return NULL;
  }
  lnuma_error why;
  for (size_t i = 0; i < nr; i++) {
    const lnuma_plan_region *r = lnuma_plan_region_at(plan, i);
    lnuma_plan_placed_region *out = &a->regions[a->nregions++];
    lnuma_alloc_opts o;
    lnuma_alloc_opts_init(&o);
    if (r->weights.n > 0)
      o.weights = r->weights; /* the weights name the nodes */
    else
      o.nodes = r->nodes;
    o.huge = huge_of(r->huge);
    out->name = copy_name(r->name);
    if (out->name == NULL) {
      lnuma__fail(&why, ENOMEM, "out of memory");
    } else if (lnuma_mempolicy_parse(r->policy, &o.policy, &why) == 0 &&
               (out->buffer = lnuma_buffer_alloc(r->size, &o, &why)) != NULL &&
               verify(out->buffer, &r->nodes, &out->placement, &out->pagesizes, &out->ok,
                      &why) == 0) {
      out->data = lnuma_buffer_data(out->buffer);
      out->size = r->size;
      continue;
    }
    lnuma__fail(err, why.code, "%s: memory[%zu] (%s): %s", lnuma_plan_file(plan), i + 1,
                r->name, why.msg);
    lnuma_plan_applied_free(a);
    return NULL;
  }
  for (size_t i = 0; i < np; i++) {
    const lnuma_plan_pool *p = lnuma_plan_pool_at(plan, i);
    lnuma_plan_placed_pool *out = &a->pools[a->npools++];
    lnuma_alloc_opts o;
    lnuma_alloc_opts_init(&o);
    o.policy = LNUMA_MPOL_BIND;
    lnuma_set_add(&o.nodes, p->node);
    out->name = copy_name(p->name);
    if (out->name == NULL) {
      lnuma__fail(&why, ENOMEM, "out of memory");
    } else if ((out->pool = lnuma_pool_create(p->size, p->count, 0, &o, &why)) != NULL &&
               verify(lnuma_pool_buffer(out->pool), &o.nodes, &out->placement,
                      &out->pagesizes, &out->ok, &why) == 0) {
      continue;
    }
    lnuma__fail(err, why.code, "%s: pools[%zu] (%s): %s", lnuma_plan_file(plan), i + 1,
                p->name, why.msg);
    lnuma_plan_applied_free(a);
    return NULL;
  }
  lnuma__clear(err);
  return a;
}

size_t lnuma_plan_applied_region_count(const lnuma_plan_applied *a) { return a->nregions; }
size_t lnuma_plan_applied_pool_count(const lnuma_plan_applied *a) { return a->npools; }

const lnuma_plan_placed_region *lnuma_plan_applied_region_at(const lnuma_plan_applied *a,
                                                             size_t i) {
  return i < a->nregions ? &a->regions[i] : NULL;
}
const lnuma_plan_placed_pool *lnuma_plan_applied_pool_at(const lnuma_plan_applied *a,
                                                         size_t i) {
  return i < a->npools ? &a->pools[i] : NULL;
}
const lnuma_plan_placed_region *lnuma_plan_applied_region_named(const lnuma_plan_applied *a,
                                                                const char *name) {
  for (size_t i = 0; name != NULL && i < a->nregions; i++)
    if (strcmp(a->regions[i].name, name) == 0) return &a->regions[i];
  return NULL;
}
const lnuma_plan_placed_pool *lnuma_plan_applied_pool_named(const lnuma_plan_applied *a,
                                                            const char *name) {
  for (size_t i = 0; name != NULL && i < a->npools; i++)
    if (strcmp(a->pools[i].name, name) == 0) return &a->pools[i];
  return NULL;
}

int lnuma_plan_apply_thread(const lnuma_plan *plan, const char *name,
                            lnuma_plan_thread_report *out, lnuma_error *err) {
  const lnuma_plan_thread *t = lnuma_plan_thread_named(plan, name);
  if (t == NULL)
    return lnuma__fail(err, EINVAL, "%s: no thread named '%s'", lnuma_plan_file(plan),
                       name != NULL ? name : "(null)");
  if (!lnuma_plan_is_live(plan))
    return lnuma__fail(err, EINVAL, "%s: the plan was checked against another machine's "
                                    "topology; load it without one to apply it here",
                       lnuma_plan_file(plan));
  lnuma_error why;
  if (lnuma_bind_cpus(&t->cpus, &why) != 0)
    return lnuma__fail(err, why.code, "thread %s: %s", t->name, why.msg);
  int cpu = -1, node = -1;
  if (lnuma_current(&cpu, &node, &why) != 0)
    return lnuma__fail(err, why.code, "thread %s: %s", t->name, why.msg);
  if (out != NULL) {
    out->name = t->name;
    out->cpu_seen = cpu;
    out->node_seen = node;
    out->ok = lnuma_set_has(&t->cpus, cpu);
  }
  lnuma__clear(err);
  return 0;
}
