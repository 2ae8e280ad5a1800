/* Bit sets of CPU/node indexes and the kernel's list syntax ("0-3,8"). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define WORDS (LNUMA_SET_BITS / 64)

void lnuma_set_zero(lnuma_set *set) { memset(set, 0, sizeof *set); }

int lnuma_set_add(lnuma_set *set, int i) {
  if (i < 0 || i >= LNUMA_SET_BITS) {
    errno = EINVAL;
    return -1;
  }
  set->bits[i / 64] |= UINT64_C(1) << (i % 64);
  return 0;
}

int lnuma_set_has(const lnuma_set *set, int i) {
  if (i < 0 || i >= LNUMA_SET_BITS) return 0;
  return (set->bits[i / 64] >> (i % 64)) & 1;
}

int lnuma_set_count(const lnuma_set *set) {
  int n = 0;
  for (int w = 0; w < WORDS; w++)
    if (set->bits[w] != 0) n += __builtin_popcountll(set->bits[w]); /* most words are 0 */
  return n;
}

int lnuma_set_next(const lnuma_set *set, int prev) {
  int i = prev + 1;
  if (i < 0) i = 0;
  while (i < LNUMA_SET_BITS) {
    uint64_t word = set->bits[i / 64] >> (i % 64);
    if (word != 0) return i + __builtin_ctzll(word);
    i = (i / 64 + 1) * 64;
  }
  return -1;
}

int lnuma_set_equal(const lnuma_set *a, const lnuma_set *b) {
  return memcmp(a->bits, b->bits, sizeof a->bits) == 0;
}

/* Reads a non-negative decimal index at *p; -1 when there is none or it is too
 * large for a set. */
static long read_index(const char **p) {
  const char *s = *p;
  if (!isdigit((unsigned char)*s)) return -1;
  long v = 0;
  while (isdigit((unsigned char)*s)) {
    v = v * 10 + (*s - '0');
    if (v >= LNUMA_SET_BITS) return -2;
    s++;
  }
  *p = s;
  return v;
}

static const char *skip_space(const char *s) {
  while (*s == ' ' || *s == '\t') s++;
  return s;
}

int lnuma_set_parse(lnuma_set *set, const char *list, lnuma_error *err) {
  lnuma_set_zero(set);
  const char *p = skip_space(list);
  if (*p == '\0') return 0;
  for (;;) {
    const char *item = p;
    long lo = read_index(&p), hi, stride = 1;
    if (lo == -2)
      return lnuma__fail(err, EINVAL, "'%s': index too large (limit %d)", list,
                         LNUMA_SET_BITS - 1);
    if (lo < 0)
      return lnuma__fail(err, EINVAL, "'%s': expected a number at '%s'", list, item);
    hi = lo;
    if (*p == '-') {
      p++;
      hi = read_index(&p);
      if (hi == -2)
        return lnuma__fail(err, EINVAL, "'%s': index too large (limit %d)", list,
                           LNUMA_SET_BITS - 1);
      if (hi < 0)
        return lnuma__fail(err, EINVAL, "'%s': range without an end at '%s'", list,
                           item);
      if (hi < lo)
        return lnuma__fail(err, EINVAL, "'%s': range %ld-%ld runs backwards", list,
                           lo, hi);
      if (*p == ':') {
        p++;
        stride = read_index(&p);
        if (stride <= 0)
          return lnuma__fail(err, EINVAL, "'%s': bad stride at '%s'", list, item);
      }
    }
    for (long i = lo; i <= hi; i += stride) lnuma_set_add(set, (int)i);
    p = skip_space(p);
    if (*p == '\0') return 0;
    if (*p != ',')
      return lnuma__fail(err, EINVAL, "'%s': unexpected '%c'", list, *p);
    p = skip_space(p + 1);
  }
}

size_t lnuma_set_format(const lnuma_set *set, char *out, size_t cap) {
  size_t len = 0;
  char item[32];
  if (cap > 0) out[0] = '\0';
  for (int i = lnuma_set_next(set, -1); i >= 0;) {
    int j = i;
    while (lnuma_set_has(set, j + 1)) j++;
    int n = (i == j) ? snprintf(item, sizeof item, "%s%d", len ? "," : "", i)
                     : snprintf(item, sizeof item, "%s%d-%d", len ? "," : "", i, j);
    if (len + (size_t)n < cap) memcpy(out + len, item, (size_t)n + 1);
    else if (len < cap) out[len] = '\0';
    len += (size_t)n;
    i = lnuma_set_next(set, j);
  }
  return len;
}
