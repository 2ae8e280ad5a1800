/* Private to exec.c and exec_sample.c: what is sampled from /proc while a
 * program runs.  Never installed. */
#ifndef LNUMA_EXEC_INTERNAL_H
#define LNUMA_EXEC_INTERNAL_H

#include "mem_internal.h"

/* Scratch memory of the sampler, allocated once per run. */
typedef struct lnuma__sampler {
  int pid;
  uint64_t *pages; /* LNUMA_MAX_NODES + 1 entries, zero between lines */
  uint64_t *sum;   /* bytes per node of the current sample */
  char *line;      /* getline's buffer */
  size_t line_cap;
} lnuma__sampler;

int lnuma__sampler_init(lnuma__sampler *s, int pid, lnuma_error *err);
void lnuma__sampler_free(lnuma__sampler *s);

/* One sample of /proc/PID: numa_maps (each mapping kept at its largest,
 * the peak sample's bytes per node), the CPUs of its threads and
 * AnonHugePages.  Failures are counted in r, never fatal. */
void lnuma__sample(lnuma__sampler *s, lnuma_exec_result *r);

#endif
