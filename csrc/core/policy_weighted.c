/* Per-buffer weights (LNUMA_MPOL_WEIGHTED): the weight table, the chunk
 * pattern (a pure function), and populating a range chunk by chunk from a
 * thread bound to each chunk's node.  Why a bound thread and not one mbind
 * per chunk: lnuma/memory.h. */
#include <errno.h>
#include <numaif.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem_internal.h"

void lnuma_weights_init(lnuma_weights *w) { memset(w, 0, sizeof *w); }

int lnuma_weights_add(lnuma_weights *w, int node, int weight, lnuma_error *err) {
  if (node < 0 || node >= LNUMA_MAX_NODES)
    return lnuma__fail(err, EINVAL, "weights: node %d does not exist (nodes are 0..%d)", node,
                       LNUMA_MAX_NODES - 1);
  if (weight < 0 || weight > LNUMA_WEIGHT_MAX)
    return lnuma__fail(err, EINVAL, "weights: node %d: weight %d is not in 0..%d", node, weight,
                       LNUMA_WEIGHT_MAX);
  int at = 0;
  while (at < w->n && w->node[at] < node) at++;
  if (at < w->n && w->node[at] == node)
    return lnuma__fail(err, EINVAL, "weights: node %d is named twice", node);
  if (w->n >= LNUMA_WEIGHTS_MAX)
    return lnuma__fail(err, EINVAL, "weights: more than %d nodes", LNUMA_WEIGHTS_MAX);
  memmove(&w->node[at + 1], &w->node[at], (size_t)(w->n - at) * sizeof w->node[0]);
  memmove(&w->weight[at + 1], &w->weight[at], (size_t)(w->n - at) * sizeof w->weight[0]);
  w->node[at] = node;
  w->weight[at] = weight;
  w->n++;
  return 0;
}

int lnuma_weights_total(const lnuma_weights *w) {
  int total = 0;
  for (int i = 0; i < w->n && i < LNUMA_WEIGHTS_MAX; i++)
    if (w->weight[i] > 0 && w->weight[i] <= LNUMA_WEIGHT_MAX) total += w->weight[i];
  return total;
}

int lnuma_weights_check(const lnuma_weights *w, lnuma_error *err) {
  if (w->n < 0 || w->n > LNUMA_WEIGHTS_MAX)
    return lnuma__fail(err, EINVAL, "weights: %d nodes (1..%d allowed)", w->n,
                       LNUMA_WEIGHTS_MAX);
  if (w->n == 0) return lnuma__fail(err, EINVAL, "weights: no node named");
  for (int i = 0; i < w->n; i++) {
    if (w->node[i] < 0 || w->node[i] >= LNUMA_MAX_NODES)
      return lnuma__fail(err, EINVAL, "weights: node %d does not exist (nodes are 0..%d)",
                         w->node[i], LNUMA_MAX_NODES - 1);
    if (i > 0 && w->node[i] <= w->node[i - 1])
      return lnuma__fail(err, EINVAL, "weights: nodes must be distinct and ascending");
    if (w->weight[i] < 0 || w->weight[i] > LNUMA_WEIGHT_MAX)
      return lnuma__fail(err, EINVAL, "weights: node %d: weight %d is not in 0..%d",
                         w->node[i], w->weight[i], LNUMA_WEIGHT_MAX);
  }
  if (lnuma_weights_total(w) == 0)
    return lnuma__fail(err, EINVAL,
                       "weights: the weights sum to 0 (give at least one node a positive "
                       "weight)");
  return 0;
}

/* One period of the pattern (total entries, malloc'd): smooth weighted
 * round-robin.  Each step every node earns its weight, the richest (the
 * lower node on a tie) takes the chunk and pays the total; after total
 * steps every balance is back at 0 and node i has taken weight[i] chunks. */
static int *period_of(const lnuma_weights *w, int total) {
  int *period = malloc((size_t)total * sizeof *period);
  if (period == NULL) return NULL;
  long balance[LNUMA_WEIGHTS_MAX] = {0};
  for (int k = 0; k < total; k++) {
    int best = -1;
    for (int i = 0; i < w->n; i++) {
      balance[i] += w->weight[i];
      if (w->weight[i] > 0 && (best < 0 || balance[i] > balance[best])) best = i;
    }
    if (best < 0) best = 0; /* not reached: lnuma_weights_check saw a weight > 0 */
    balance[best] -= total;
    period[k] = w->node[best];
  }
  return period;
}

int lnuma_weights_pattern(const lnuma_weights *w, uint64_t first, size_t count, int *nodes,
                          lnuma_error *err) {
  if (lnuma_weights_check(w, err) != 0) return -1;
  if (count > 0 && nodes == NULL) return lnuma__fail(err, EINVAL, "weights: no output array");
  int total = lnuma_weights_total(w);
  int *period = period_of(w, total);
  if (period == NULL) return lnuma__fail_sys(err, ENOMEM, "weights pattern");
  for (size_t i = 0; i < count; i++) nodes[i] = period[(first + i) % (uint64_t)total];
  free(period);
  return 0;
}

/* ---- populating a range chunk by chunk ----------------------------------- */

typedef struct weighted_job {
  char *p;
  size_t len, chunk;
  const int *period;
  int total, cpu, hugetlb, rc, bound;
  lnuma_populate how;
  uint64_t ns;
  char note[LNUMA_ERRMSG_MAX];
  lnuma_error err;
} weighted_job;

/* Binds the calling thread to one node; errno on failure. */
static int bind_thread(int node) {
  unsigned long mask[LNUMA_MAX_NODES / (8 * sizeof(unsigned long))] = {0};
  size_t bits = 8 * sizeof(unsigned long);
  mask[(size_t)node / bits] |= 1UL << ((size_t)node % bits);
  unsigned long maxnode = ((unsigned long)node / bits + 1) * bits + 1;
  return set_mempolicy(MPOL_BIND, mask, maxnode) == 0 ? 0 : errno;
}

static void *weighted_main(void *arg) {
  weighted_job *job = arg;
  lnuma__clear(&job->err);
  if (job->cpu >= 0) {
    lnuma_set cpus;
    lnuma_set_zero(&cpus);
    lnuma_set_add(&cpus, job->cpu);
    if (lnuma_bind_cpus(&cpus, &job->err) != 0) {
      job->rc = -1;
      return NULL;
    }
  }
  uint64_t t0 = lnuma__now_ns();
  uint64_t chunks = (job->len + job->chunk - 1) / job->chunk, total = (uint64_t)job->total;
  job->bound = 1;
  for (uint64_t c = 0; c < chunks && job->rc == 0;) {
    int node = job->period[c % total];
    uint64_t end = c + 1;
    while (end < chunks && job->period[end % total] == node) end++;
    if (job->bound) {
      int e = bind_thread(node);
      if (e == EPERM || e == ENOSYS) {
        /* As lnuma__apply_policy does where the kernel refuses policies. */
        char buf[128];
        snprintf(job->note, sizeof job->note,
                 "set_mempolicy: %s (%s; pages follow first touch)",
                 strerror_r(e, buf, sizeof buf),
                 e == EPERM ? "the kernel refuses memory policy here, e.g. a container "
                              "without CAP_SYS_NICE"
                            : "this kernel has no NUMA support");
        job->bound = 0;
      } else if (e != 0) {
        job->rc = lnuma__fail_sys(&job->err, e, "set_mempolicy");
        break;
      }
    }
    size_t off = (size_t)c * job->chunk;
    size_t n = (size_t)(end - c) * job->chunk;
    if (n > job->len - off) n = job->len - off;
    job->rc = lnuma__populate_range(job->p + off, n, job->hugetlb, &job->how, &job->err);
    c = end;
  }
  job->ns = lnuma__now_ns() - t0;
  return NULL; /* the thread's policy ends with it */
}

int lnuma__weighted_populate(char *p, size_t len, size_t chunk, const lnuma_weights *w, int cpu,
                             int hugetlb, lnuma_buffer_info *in, lnuma_error *err) {
  if (lnuma_weights_check(w, err) != 0) return -1;
  lnuma_set named, used;
  lnuma_set_zero(&named);
  lnuma_set_zero(&used);
  for (int i = 0; i < w->n; i++) {
    lnuma_set_add(&named, w->node[i]);
    if (w->weight[i] > 0) lnuma_set_add(&used, w->node[i]);
  }
  if (lnuma__diagnose_nodes(&named, "weights", err) != 0) return -1;
  weighted_job job = {.p = p, .len = len, .chunk = chunk, .cpu = cpu, .hugetlb = hugetlb};
  job.total = lnuma_weights_total(w);
  job.period = period_of(w, job.total);
  if (job.period == NULL) return lnuma__fail_sys(err, ENOMEM, "weights pattern");
  pthread_t t;
  int e = pthread_create(&t, NULL, weighted_main, &job);
  if (e != 0) {
    free((void *)job.period);
    return lnuma__fail_sys(err, e, "pthread_create");
  }
  pthread_join(t, NULL);
  free((void *)job.period);
  in->populated = job.how;
  in->populate_ns = job.ns;
  if (job.rc < 0) {
    if (err != NULL) *err = job.err;
    errno = job.err.code;
    return -1;
  }
  if (job.rc > 0) return job.rc; /* for the caller to explain */
  if (!job.bound) {
    in->policy_applied = 0;
    snprintf(in->policy_note, sizeof in->policy_note, "%s", job.note);
    return 0;
  }
  /* Present pages stay where they are (no MPOL_MF_MOVE): the bind keeps
   * later faults, and NUMA balancing, among the weighted nodes. */
  return lnuma__apply_policy(p, len, LNUMA_MPOL_BIND, &used, &in->policy_applied,
                             in->policy_note, sizeof in->policy_note, err);
}
