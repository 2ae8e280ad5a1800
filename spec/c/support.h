/* Helpers the C tests share (included after cmocka.h and lnuma.h). */
#ifndef LNUMA_SPEC_C_SUPPORT_H
#define LNUMA_SPEC_C_SUPPORT_H

/* size zeroed bytes on a page boundary (the kernels want whole lines). */
static inline void *aligned(size_t size) {
  void *p = NULL;
  assert_int_equal(posix_memalign(&p, 4096, size), 0);
  memset(p, 0, size);
  return p;
}

/* Up to cap CPUs this process may run on, in order; their number. */
static inline int allowed_cpus(int *cpus, int cap) {
  lnuma_set set;
  assert_int_equal(lnuma_allowed(&set, NULL, NULL), 0);
  int n = 0;
  for (int c = lnuma_set_next(&set, -1); c >= 0 && n < cap; c = lnuma_set_next(&set, c))
    cpus[n++] = c;
  return n;
}

#endif
