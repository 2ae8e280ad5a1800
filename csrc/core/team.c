/* The worker team: n pthreads, each pinned to its CPU, that run one function
 * together and report where they ran.  A start gate makes sure every thread
 * exists before any of them waits on the team's barrier, so a failed
 * pthread_create never leaves threads stuck. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_internal.h"

enum { GATE_WAIT, GATE_GO, GATE_ABORT };

struct lnuma_team {
  int n;
  const int *cpus;
  lnuma_team_fn fn;
  void *arg;
  lnuma_team_thread *threads;
  pthread_barrier_t barrier;
  pthread_mutex_t lock;
  pthread_cond_t gate_cond;
  int gate;
  int failed;        /* under lock: a thread could not be pinned */
  lnuma_error error; /* under lock: the first such failure */
};

typedef struct member {
  lnuma_team *team;
  int index;
  pthread_t tid;
} member;

static void *member_main(void *p) {
  member *m = p;
  lnuma_team *t = m->team;
  lnuma_team_thread *th = &t->threads[m->index];

  pthread_mutex_lock(&t->lock);
  while (t->gate == GATE_WAIT) pthread_cond_wait(&t->gate_cond, &t->lock);
  int go = t->gate == GATE_GO;
  pthread_mutex_unlock(&t->lock);
  if (!go) return NULL;

  lnuma_set one;
  lnuma_error err;
  lnuma_set_zero(&one);
  int rc = lnuma_set_add(&one, th->cpu_asked) == 0 ? lnuma_bind_cpus(&one, &err)
                                                    : lnuma__fail(&err, EINVAL,
                                                                  "CPU %d is out of range",
                                                                  th->cpu_asked);
  if (rc == 0) rc = lnuma_current(&th->cpu_start, &th->node, &err);
  if (rc != 0) {
    pthread_mutex_lock(&t->lock);
    if (!t->failed) t->error = err;
    t->failed = 1;
    pthread_mutex_unlock(&t->lock);
  }
  pthread_barrier_wait(&t->barrier);
  pthread_mutex_lock(&t->lock);
  int failed = t->failed;
  pthread_mutex_unlock(&t->lock);
  if (failed) return NULL;

  t->fn(t, m->index, t->arg);

  if (lnuma_current(&th->cpu_end, &th->node, NULL) != 0) th->cpu_end = -1;
  th->migrated = th->cpu_start != th->cpu_asked || th->cpu_end != th->cpu_asked;
  return NULL;
}

int lnuma_team_run(int n, const int *cpus, lnuma_team_fn fn, void *arg,
                   lnuma_team_thread *threads, lnuma_error *err) {
  if (n < 1 || n > LNUMA_TEAM_MAX)
    return lnuma__fail(err, EINVAL, "a team has 1 to %d threads, not %d", LNUMA_TEAM_MAX, n);
  if (cpus == NULL || fn == NULL) return lnuma__fail(err, EINVAL, "team: no CPUs or no work");

  lnuma_team t;
  memset(&t, 0, sizeof t);
  t.n = n;
  t.cpus = cpus;
  t.fn = fn;
  t.arg = arg;
  t.gate = GATE_WAIT;
  member *members = calloc((size_t)n, sizeof *members);
  t.threads = calloc((size_t)n, sizeof *t.threads);
  if (members == NULL || t.threads == NULL) {
    free(members);
    free(t.threads);
    return lnuma__fail_sys(err, ENOMEM, "team");
  }
  for (int i = 0; i < n; i++) {
    t.threads[i].cpu_asked = cpus[i];
    t.threads[i].cpu_start = t.threads[i].cpu_end = t.threads[i].node = -1;
  }
  int rc = pthread_barrier_init(&t.barrier, NULL, (unsigned)n);
  if (rc != 0) {
    free(members);
    free(t.threads);
    return lnuma__fail_sys(err, rc, "pthread_barrier_init");
  }
  pthread_mutex_init(&t.lock, NULL);
  pthread_cond_init(&t.gate_cond, NULL);

  int created = 0, create_err = 0;
  for (; created < n; created++) {
    members[created].team = &t;
    members[created].index = created;
    create_err = pthread_create(&members[created].tid, NULL, member_main, &members[created]);
    if (create_err != 0) break;
  }
  pthread_mutex_lock(&t.lock);
  t.gate = create_err == 0 ? GATE_GO : GATE_ABORT;
  pthread_cond_broadcast(&t.gate_cond);
  pthread_mutex_unlock(&t.lock);
  for (int i = 0; i < created; i++) pthread_join(members[i].tid, NULL);

  int result = 0;
  if (create_err != 0) {
    result = lnuma__fail_sys(err, create_err, "pthread_create");
  } else if (t.failed) {
    if (err != NULL) *err = t.error;
    errno = t.error.code;
    result = -1;
  } else if (threads != NULL) {
    memcpy(threads, t.threads, (size_t)n * sizeof *threads);
  }
  pthread_cond_destroy(&t.gate_cond);
  pthread_mutex_destroy(&t.lock);
  pthread_barrier_destroy(&t.barrier);
  free(members);
  free(t.threads);
  return result;
}

void lnuma_team_sync(lnuma_team *team) { pthread_barrier_wait(&team->barrier); }

int lnuma_team_size(const lnuma_team *team) { return team->n; }
