/* Log-linear histograms after HdrHistogram (Gil Tene; HdrHistogram_c): values
 * fall into power-of-two buckets, each split linearly into sub-buckets, so the
 * bucket of a value is found with one count-leading-zeros and two shifts.
 *
 * Unlike HdrHistogram, `lowest` is the smallest value tracked (smaller ones
 * are counted as underflow), and the unit of the first bucket is chosen so
 * that the precision holds from lowest upwards. */
#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bulk_loops.h"
#include "internal.h"

#if defined(__SIZEOF_INT128__)
/* Exact sums; 8-byte aligned so that the struct fits any malloc'd or Lua
 * userdata block (which promise 8, not 16). */
typedef __int128 wide_sum __attribute__((aligned(8)));
#else
typedef double wide_sum;
#endif

struct lnuma_histogram {
  /* shape */
  int64_t lowest, highest;
  int precision;
  int unit_magnitude;           /* log2 of the resolution of the first bucket */
  int sub_bucket_half_count_magnitude;
  int64_t sub_bucket_count;     /* 2^(half magnitude + 1) */
  int64_t sub_bucket_half_count;
  int64_t sub_bucket_mask;      /* (sub_bucket_count - 1) << unit_magnitude */
  size_t counts_len;
  /* contents */
  int64_t total;                /* every recorded value */
  int64_t underflow, overflow;
  int64_t min, max;             /* exact, out-of-range included */
  int64_t shift;                /* first value recorded: sums are taken of v - shift */
  wide_sum sum_d;               /* exact sum of (v - shift) */
  double sum_d2;                /* sum of (v - shift)^2 */
  int64_t counts[];
};

/* ---- shape ---------------------------------------------------------------- */

typedef struct shape {
  int unit_magnitude, half_magnitude;
  int64_t sub_bucket_count;
  size_t counts_len;
} shape;

static int floor_log2(uint64_t v) { return 63 - __builtin_clzll(v); }

static int compute_shape(int64_t lowest, int64_t highest, int precision, shape *s,
                         lnuma_error *err) {
  if (precision < 1 || precision > 5)
    return lnuma__fail(err, EINVAL, "precision %d is outside 1..5", precision);
  if (lowest < 1)
    return lnuma__fail(err, EINVAL, "lowest %lld must be at least 1", (long long)lowest);
  if (lowest >= highest)
    return lnuma__fail(err, EINVAL, "lowest %lld must be below highest %lld",
                       (long long)lowest, (long long)highest);
  int64_t single_unit = 2;
  for (int i = 0; i < precision; i++) single_unit *= 10;
  /* ceil(log2(2 * 10^precision)) */
  int count_magnitude = floor_log2((uint64_t)single_unit);
  if ((INT64_C(1) << count_magnitude) < single_unit) count_magnitude++;
  int half = (count_magnitude > 1 ? count_magnitude : 1) - 1;
  /* A resolution of 2^unit at most lowest / 2^half <= lowest / 10^precision. */
  int unit = floor_log2((uint64_t)lowest) - half;
  if (unit < 0) unit = 0;
  if (unit + half + 1 > 61)
    return lnuma__fail(err, EINVAL, "lowest %lld is too large for precision %d",
                       (long long)lowest, precision);
  int64_t sub_bucket_count = INT64_C(1) << (half + 1);
  /* buckets needed to cover highest */
  int64_t smallest_untrackable = sub_bucket_count << unit;
  int buckets = 1;
  while (smallest_untrackable <= highest) {
    if (smallest_untrackable > INT64_MAX / 2) {
      buckets++;
      break;
    }
    smallest_untrackable <<= 1;
    buckets++;
  }
  s->unit_magnitude = unit;
  s->half_magnitude = half;
  s->sub_bucket_count = sub_bucket_count;
  s->counts_len = (size_t)(buckets + 1) * (size_t)(sub_bucket_count / 2);
  return 0;
}

size_t lnuma_histogram_footprint(int64_t lowest, int64_t highest, int precision,
                                 lnuma_error *err) {
  shape s;
  if (compute_shape(lowest, highest, precision, &s, err) != 0) return 0;
  return sizeof(lnuma_histogram) + s.counts_len * sizeof(int64_t);
}

lnuma_histogram *lnuma_histogram_init_at(void *mem, size_t size, int64_t lowest,
                                         int64_t highest, int precision, lnuma_error *err) {
  shape s;
  if (compute_shape(lowest, highest, precision, &s, err) != 0) return NULL;
  size_t need = sizeof(lnuma_histogram) + s.counts_len * sizeof(int64_t);
  if (mem == NULL || size < need) {
    lnuma__fail(err, ENOSPC, "histogram needs %zu bytes, got %zu", need, size);
    return NULL;
  }
  lnuma_histogram *h = mem;
  memset(h, 0, need);
  h->lowest = lowest;
  h->highest = highest;
  h->precision = precision;
  h->unit_magnitude = s.unit_magnitude;
  h->sub_bucket_half_count_magnitude = s.half_magnitude;
  h->sub_bucket_count = s.sub_bucket_count;
  h->sub_bucket_half_count = s.sub_bucket_count / 2;
  h->sub_bucket_mask = (s.sub_bucket_count - 1) << s.unit_magnitude;
  h->counts_len = s.counts_len;
  return h;
}

lnuma_histogram *lnuma_histogram_new(int64_t lowest, int64_t highest, int precision,
                                     lnuma_error *err) {
  size_t need = lnuma_histogram_footprint(lowest, highest, precision, err);
  if (need == 0) return NULL;
  void *mem = malloc(need);
  if (mem == NULL) {
    lnuma__fail_sys(err, ENOMEM, "histogram");
    return NULL;
  }
  return lnuma_histogram_init_at(mem, need, lowest, highest, precision, err);
}

void lnuma_histogram_free(lnuma_histogram *h) { free(h); }

/* ---- index arithmetic (HdrHistogram_c) ------------------------------------ */

/* What the bucket arithmetic (lnuma__hist_bucket, bulk_loops.h: the one
 * place it is written) reads of h. */
static inline lnuma__hist_shape shape_of(const lnuma_histogram *h) {
  lnuma__hist_shape s = {h->lowest, h->highest, h->sub_bucket_mask, h->sub_bucket_half_count,
                         h->unit_magnitude, h->sub_bucket_half_count_magnitude, h->shift};
  return s;
}

static inline size_t counts_index_for(const lnuma_histogram *h, int64_t v) {
  lnuma__hist_shape s = shape_of(h);
  return (size_t)lnuma__hist_bucket(&s, v);
}

static int64_t value_at_index(const lnuma_histogram *h, size_t index) {
  int b = (int)(index >> h->sub_bucket_half_count_magnitude) - 1;
  int64_t sub = (int64_t)(index & (size_t)(h->sub_bucket_half_count - 1)) +
                h->sub_bucket_half_count;
  if (b < 0) {
    sub -= h->sub_bucket_half_count;
    b = 0;
  }
  return sub << (b + h->unit_magnitude);
}

/* Width of the bucket that holds index. */
static int64_t width_at_index(const lnuma_histogram *h, size_t index) {
  int b = (int)(index >> h->sub_bucket_half_count_magnitude) - 1;
  if (b < 0) b = 0;
  return INT64_C(1) << (b + h->unit_magnitude);
}

/* The highest value of the bucket that holds index (INT64_MAX for a top
 * bucket that reaches past it). */
static int64_t top_at_index(const lnuma_histogram *h, size_t index) {
  int64_t lo = value_at_index(h, index), w = width_at_index(h, index);
  return lo > INT64_MAX - (w - 1) ? INT64_MAX : lo + (w - 1);
}

/* ---- recording ------------------------------------------------------------ */

int lnuma_histogram_record(lnuma_histogram *h, int64_t v, int64_t n) {
  if (n <= 0) return 0;
  /* Every counter is at most total: bounding total bounds them all, and
   * keeps the exact sum below 2^64 * 2^63 (it fits in 128 bits). */
  if (n > INT64_MAX - h->total) return -1;
  if (h->total == 0) {
    h->shift = v;
    h->min = h->max = v;
  } else {
    if (v < h->min) h->min = v;
    if (v > h->max) h->max = v;
  }
  if (v < h->lowest)
    h->underflow += n;
  else if (v > h->highest)
    h->overflow += n;
  else
    h->counts[counts_index_for(h, v)] += n;
  h->total += n;
#if defined(__SIZEOF_INT128__)
  __int128 d = (__int128)v - h->shift;
  h->sum_d += d * n;
#else
  double d = (double)v - (double)h->shift;
  h->sum_d += d * (double)n;
#endif
  double dd = (double)d;
  h->sum_d2 += dd * dd * (double)n;
  return 0;
}

/* ---- coordinated-omission correction --------------------------------------- */

/* The values t_k = v - k * step, k = 1..terms, that a correction adds. */
typedef struct progression {
  int64_t v, step, terms;
} progression;

/* How many of the terms are at most x (x >= 0). */
static int64_t terms_at_most(const progression *g, int64_t x) {
  if (x >= g->v - g->step) return g->terms;
  int64_t d = g->v - x; /* > step > 0, no overflow: v > x >= 0 */
  int64_t k_least = d / g->step + (d % g->step != 0);
  return k_least > g->terms ? 0 : g->terms - k_least + 1;
}

/* A progression of up to this many in-range terms is counted term by term;
 * a longer one bucket by bucket. */
#define TERMS_ONE_BY_ONE 64

static void count_progression(lnuma_histogram *h, const progression *g, int64_t n) {
  int64_t smallest = g->v - g->terms * g->step, largest = g->v - g->step;
  int64_t lo = smallest < h->lowest ? h->lowest : smallest;
  int64_t hi = largest > h->highest ? h->highest : largest;
  if (lo > hi) return;
  int64_t inside = terms_at_most(g, hi) - terms_at_most(g, lo - 1);
  if (inside <= TERMS_ONE_BY_ONE) {
    int64_t k_first = g->terms - terms_at_most(g, hi) + 1; /* the largest term <= hi */
    for (int64_t k = k_first; k < k_first + inside; k++)
      h->counts[counts_index_for(h, g->v - k * g->step)] += n;
    return;
  }
  size_t last = counts_index_for(h, hi);
  for (size_t i = counts_index_for(h, lo); i <= last; i++) {
    int64_t top = top_at_index(h, i), bottom = value_at_index(h, i);
    int64_t c = terms_at_most(g, top < hi ? top : hi) -
                terms_at_most(g, (bottom > lo ? bottom : lo) - 1);
    h->counts[i] += c * n;
  }
}

int lnuma_histogram_record_corrected(lnuma_histogram *h, int64_t v, int64_t n, int64_t step) {
  if (n <= 0) return 0;
  if (step <= 0 || v / step < 2) return lnuma_histogram_record(h, v, n); /* nothing to add */
  progression g = {v, step, v / step - 1}; /* smallest term: v % step + step */
  /* n * (terms + 1) more values, refused whole past INT64_MAX. */
  if (n > (INT64_MAX - h->total) / (g.terms + 1)) return -1;
  lnuma_histogram_record(h, v, n); /* min, max and shift as for v alone */
  int64_t smallest = v - g.terms * step;
  if (smallest < h->min) h->min = smallest;
  h->underflow += n * terms_at_most(&g, h->lowest - 1);
  h->overflow += n * (g.terms - terms_at_most(&g, h->highest));
  count_progression(h, &g, n);
  h->total += n * g.terms;
  /* Sums in closed form around the terms' mean c = v - step (terms + 1) / 2:
   * sum (t - shift) = terms (c - shift), and sum (t - shift)^2 =
   * step^2 terms (terms^2 - 1) / 12 + terms (c - shift)^2, with no
   * cancellation. */
  double K = (double)g.terms, dc = (double)v - (double)step * (K + 1) / 2 - (double)h->shift;
  h->sum_d2 += (double)n * ((double)step * (double)step * K * (K * K - 1) / 12 + K * dc * dc);
#if defined(__SIZEOF_INT128__)
  /* terms (v - shift) - step terms (terms + 1) / 2, exact: terms * step <= v. */
  __int128 kk = (__int128)g.terms * (g.terms + 1) / 2;
  h->sum_d += (__int128)n * ((__int128)g.terms * ((__int128)v - h->shift) - kk * step);
#else
  h->sum_d += (double)n * K * dc;
#endif
  return 0;
}

/* Element i of kind at p as the histogram takes it: an int64 (u64 as its
 * bit pattern). */
static int64_t element_at(const void *p, lnuma_kind kind, size_t i) {
  const char *q = (const char *)p + i * lnuma_kind_size(kind);
  switch (kind) {
  case LNUMA_KIND_U8: return *(const uint8_t *)q;
  case LNUMA_KIND_U16: return *(const uint16_t *)q;
  case LNUMA_KIND_U32: return *(const uint32_t *)q;
  case LNUMA_KIND_I8: return *(const int8_t *)q;
  case LNUMA_KIND_I16: return *(const int16_t *)q;
  case LNUMA_KIND_I32: return *(const int32_t *)q;
  default: return *(const int64_t *)q;
  }
}

/* n elements of kind (n > 0): the same updates as n calls of
 * lnuma_histogram_record(h, v, 1), block by block: min, max, the exact sum,
 * the squares and the bucket indexes by the ISA's block loop, then the
 * counters by its counting loop. */
static void record_blocks(lnuma_histogram *h, const char *p, lnuma_kind kind, size_t n) {
  const lnuma__bulk_ops *o = lnuma__bulk_ops_best();
  size_t w = lnuma_kind_size(kind);
  if (h->total == 0) h->shift = h->min = h->max = element_at(p, kind, 0);
  lnuma__hist_shape s = shape_of(h);
  uint32_t idx[LNUMA__HIST_BLOCK];
  lnuma__hist_acc a = {.min = h->min, .max = h->max};
  for (size_t at = 0; at < n; at += LNUMA__HIST_BLOCK) {
    size_t m = n - at < LNUMA__HIST_BLOCK ? n - at : LNUMA__HIST_BLOCK;
    size_t k = o->hist_block[kind](&s, p + at * w, m, idx, &a);
#if defined(__SIZEOF_INT128__)
    h->sum_d += (__int128)a.sum_hi * ((__int128)1 << 32) + (__int128)a.sum_lo -
                (__int128)m * h->shift;
#else
    h->sum_d += (double)a.sum_hi * 4294967296.0 + (double)a.sum_lo - (double)m * (double)h->shift;
#endif
    o->hist_count(h->counts, idx, k);
  }
  h->min = a.min;
  h->max = a.max;
  h->underflow += a.under;
  h->overflow += a.over;
  h->total += (int64_t)n;
  h->sum_d2 += a.sq;
}

int lnuma_histogram_record_many(lnuma_histogram *h, const void *data, lnuma_kind kind,
                                size_t n, lnuma_error *err) {
  size_t w = lnuma_kind_size(kind);
  if (w == 0 || lnuma_kind_is_float(kind))
    return lnuma__fail(err, EINVAL, "a histogram records integer kinds, not %s",
                       w == 0 ? "this kind" : lnuma_kind_name(kind));
  if ((uintptr_t)data % w != 0 || (n > 0 && data == NULL))
    return lnuma__fail(err, EINVAL, "%s elements at %p are not %zu-byte aligned",
                       lnuma_kind_name(kind), data, w);
  if (n > (uint64_t)(INT64_MAX - h->total))
    return lnuma__fail(err, EOVERFLOW, "%zu more values would take the histogram (%lld values) "
                       "past its limit of %lld", n, (long long)h->total, (long long)INT64_MAX);
  if (n == 0) return 0;
  record_blocks(h, data, kind, n);
  return 0;
}

void lnuma_histogram_reset(lnuma_histogram *h) {
  memset(h->counts, 0, h->counts_len * sizeof(int64_t));
  h->total = h->underflow = h->overflow = 0;
  h->min = h->max = h->shift = 0;
  h->sum_d = 0;
  h->sum_d2 = 0;
}

int lnuma_histogram_merge(lnuma_histogram *dst, const lnuma_histogram *src, lnuma_error *err) {
  if (dst->lowest != src->lowest || dst->highest != src->highest ||
      dst->precision != src->precision)
    return lnuma__fail(err, EINVAL,
                       "histograms differ in shape: lowest %lld, highest %lld, precision %d "
                       "vs lowest %lld, highest %lld, precision %d",
                       (long long)dst->lowest, (long long)dst->highest, dst->precision,
                       (long long)src->lowest, (long long)src->highest, src->precision);
  if (src->total == 0) return 0;
  if (src->total > INT64_MAX - dst->total)
    return lnuma__fail(err, EOVERFLOW,
                       "merging %lld values into %lld would pass the limit of %lld values",
                       (long long)src->total, (long long)dst->total, (long long)INT64_MAX);
  /* read everything from src first: dst may be src */
  int64_t n = src->total, smin = src->min, smax = src->max;
  double s1 = (double)src->sum_d, s2 = src->sum_d2;
  if (dst->total == 0) {
    dst->shift = src->shift;
    dst->min = smin;
    dst->max = smax;
  } else {
    if (smin < dst->min) dst->min = smin;
    if (smax > dst->max) dst->max = smax;
  }
  /* re-base src's sums on dst's shift: d' = d + delta */
  double delta = (double)src->shift - (double)dst->shift;
  dst->sum_d2 += s2 + 2.0 * delta * s1 + (double)n * delta * delta;
#if defined(__SIZEOF_INT128__)
  dst->sum_d += src->sum_d + ((__int128)src->shift - dst->shift) * n;
#else
  dst->sum_d += s1 + delta * (double)n;
#endif
  for (size_t i = 0; i < dst->counts_len; i++) dst->counts[i] += src->counts[i];
  dst->underflow += src->underflow;
  dst->overflow += src->overflow;
  dst->total += n;
  return 0;
}

/* ---- reading -------------------------------------------------------------- */

int64_t lnuma_histogram_lowest(const lnuma_histogram *h) { return h->lowest; }
int64_t lnuma_histogram_highest(const lnuma_histogram *h) { return h->highest; }
int lnuma_histogram_precision(const lnuma_histogram *h) { return h->precision; }
int64_t lnuma_histogram_count(const lnuma_histogram *h) { return h->total; }
int64_t lnuma_histogram_underflow(const lnuma_histogram *h) { return h->underflow; }
int64_t lnuma_histogram_overflow(const lnuma_histogram *h) { return h->overflow; }
int64_t lnuma_histogram_min(const lnuma_histogram *h) { return h->total ? h->min : 0; }
int64_t lnuma_histogram_max(const lnuma_histogram *h) { return h->total ? h->max : 0; }

double lnuma_histogram_mean(const lnuma_histogram *h) {
  if (h->total == 0) return 0;
  return (double)h->shift + (double)h->sum_d / (double)h->total;
}

double lnuma_histogram_stddev(const lnuma_histogram *h) {
  if (h->total == 0) return 0;
  double n = (double)h->total, m = (double)h->sum_d / n;
  double var = h->sum_d2 / n - m * m;
  return var > 0 ? sqrt(var) : 0;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Index range [first, last] of the counts that can be non-empty. */
static int in_range_indexes(const lnuma_histogram *h, size_t *first, size_t *last) {
  if (h->total - h->underflow - h->overflow == 0) return 0;
  *first = counts_index_for(h, clamp(h->min, h->lowest, h->highest));
  *last = counts_index_for(h, clamp(h->max, h->lowest, h->highest));
  return 1;
}

/* The rank (1-based) of percentile p among n values: ceil(p/100 * n), with a
 * tolerance so that 90% of 1000 is rank 900 despite rounding. */
static int64_t rank_of(double p, int64_t n) {
  double r = p / 100.0 * (double)n;
  if (!(r < (double)n)) return n; /* p = 100, or rounding up to 2^63 */
  int64_t k = (int64_t)r;
  if (r - (double)k > 1e-9 * (r > 1 ? r : 1)) k++;
  if (k < 1) k = 1;
  if (k > n) k = n;
  return k;
}

int lnuma_histogram_percentiles(const lnuma_histogram *h, const double *ps, int64_t *out,
                                size_t n, lnuma_error *err) {
  for (size_t i = 0; i < n; i++)
    if (!(ps[i] >= 0.0 && ps[i] <= 100.0))
      return lnuma__fail(err, EINVAL, "percentile %g is outside 0..100", ps[i]);
  if (h->total == 0) return lnuma__fail(err, ENODATA, "histogram is empty");
  for (size_t i = 0; i < n; i++) out[i] = h->max; /* every out[i] is written */
  /* One sweep over the counts: answer the requests in increasing rank order
   * (picking the next smallest rank each time keeps this allocation-free). */
  size_t first = 0, last = 0;
  int any = in_range_indexes(h, &first, &last);
  size_t idx = first;
  int64_t cumulative = h->underflow + (any ? h->counts[first] : 0);
  int64_t prev = 0;
  for (;;) {
    int64_t rank = 0;
    for (size_t i = 0; i < n; i++) {
      int64_t r = rank_of(ps[i], h->total);
      if (r > prev && (rank == 0 || r < rank)) rank = r;
    }
    if (rank == 0) break;
    int64_t value;
    if (rank <= h->underflow) {
      value = h->lowest - 1;
    } else if (rank > h->total - h->overflow) {
      value = h->max;
    } else {
      while (cumulative < rank && idx < last) {
        idx++;
        cumulative += h->counts[idx];
      }
      value = top_at_index(h, idx);
    }
    value = clamp(value, h->min, h->max);
    for (size_t i = 0; i < n; i++)
      if (rank_of(ps[i], h->total) == rank)
        out[i] = ps[i] == 0.0 ? h->min : ps[i] == 100.0 ? h->max : value;
    prev = rank;
  }
  return 0;
}

int lnuma_histogram_percentile(const lnuma_histogram *h, double p, int64_t *out,
                               lnuma_error *err) {
  return lnuma_histogram_percentiles(h, &p, out, 1, err);
}

int lnuma_histogram_next(const lnuma_histogram *h, lnuma_histogram_bucket *b) {
  size_t first, last;
  if (!in_range_indexes(h, &first, &last)) return 0;
  /* cursor: 0 before the first call, then the index after the last bucket */
  size_t i = b->cursor;
  if (i == 0) {
    b->cumulative = h->underflow;
    i = first;
  }
  for (; i <= last; i++) {
    if (h->counts[i] == 0) continue;
    b->lowest = value_at_index(h, i);
    b->highest = top_at_index(h, i);
    b->count = h->counts[i];
    b->cumulative += h->counts[i];
    b->cursor = i + 1;
    return 1;
  }
  b->cursor = last + 1;
  return 0;
}
