/** @file
 * lnuma/histogram.h -- log-linear latency histograms (HdrHistogram's idea).
 *
 * A histogram tracks integer values (usually ns) from `lowest` to `highest`
 * with `precision` significant decimal digits (1..5): every value in that
 * range is kept in a bucket no wider than value / 10^precision, so a
 * percentile is reported within that relative error.  Recording is O(1) and
 * never allocates.  Values below lowest or above highest are not dropped:
 * they are counted as underflow / overflow, and the exact minimum, maximum,
 * mean and standard deviation include them.
 *
 * Percentiles follow HdrHistogram's convention: the value reported for a
 * rank is the highest value of the bucket holding it (an upper bound within
 * the precision), never above the exact maximum.  Percentile 0 is the exact
 * minimum, 100 the exact maximum.  A rank that falls among the underflow
 * values reports lowest - 1 (their upper bound), one among the overflow
 * values the exact maximum; every result lies between the exact minimum and
 * maximum.
 *
 * Limit: a histogram holds at most INT64_MAX (2^63 - 1) values in all.  A
 * record or merge that would pass it is refused whole (nothing changes), so
 * every count stays exact and no sum can overflow.
 *
 * Thread safety: one thread per histogram; give each thread its own and
 * merge them afterwards.  Included by lnuma.h.
 */
#ifndef LNUMA_HISTOGRAM_H
#define LNUMA_HISTOGRAM_H

#include "../lnuma.h"
#include "bulk.h" /* lnuma_kind (lnuma.h includes it after this file) */

#ifdef __cplusplus
extern "C" {
#endif

/** An opaque histogram. */
typedef struct lnuma_histogram lnuma_histogram;

/**
 * Bytes a histogram of this shape needs (for lnuma_histogram_init_at), or 0
 * with EINVAL when the shape is invalid: lowest < 1, lowest >= highest, or
 * precision outside 1..5.  Any thread.
 */
LNUMA_API size_t lnuma_histogram_footprint(int64_t lowest, int64_t highest, int precision,
                                           lnuma_error *err);

/**
 * Builds an empty histogram in caller-provided memory (size bytes, aligned to
 * 8; for instance node-local memory).  Returns mem as a histogram, or NULL
 * with EINVAL (bad shape) or ENOSPC (size smaller than the footprint).
 * Nothing needs freeing besides the memory itself.
 */
LNUMA_API lnuma_histogram *lnuma_histogram_init_at(void *mem, size_t size, int64_t lowest,
                                                   int64_t highest, int precision,
                                                   lnuma_error *err);

/** Allocates an empty histogram (malloc); NULL with EINVAL or ENOMEM. */
LNUMA_API lnuma_histogram *lnuma_histogram_new(int64_t lowest, int64_t highest, int precision,
                                               lnuma_error *err);
/** Frees a histogram from lnuma_histogram_new (NULL is harmless). */
LNUMA_API void lnuma_histogram_free(lnuma_histogram *h);

/** Records value `count` times (count <= 0 records nothing).  O(1), no
 *  allocation, no system call.  Returns 0, or -1 (nothing recorded) when the
 *  histogram would then hold more than INT64_MAX values. */
LNUMA_API int lnuma_histogram_record(lnuma_histogram *h, int64_t value, int64_t count);

/** Records value `count` times as lnuma_histogram_record does and, where
 *  expected_interval > 0 and value > expected_interval, corrects for
 *  coordinated omission as HdrHistogram's record_corrected_value does: the
 *  values value - k * expected_interval for k = 1, 2, ... while still at
 *  least expected_interval are recorded `count` times each too (the samples a
 *  measuring loop stalled by that value did not take).  O(buckets) at most,
 *  whatever the number of those values.  Returns 0, or -1 (nothing recorded)
 *  when the histogram would then hold more than INT64_MAX values. */
LNUMA_API int lnuma_histogram_record_corrected(lnuma_histogram *h, int64_t value, int64_t count,
                                               int64_t expected_interval);

/** Records each of n integer elements of kind at data once, in one pass
 *  (u64 elements as their 64-bit pattern, as lnuma_bulk_min reports them).
 *  Returns 0, or -1 with nothing recorded: EINVAL for a float or unknown
 *  kind or misaligned data, EOVERFLOW when the histogram would then hold
 *  more than INT64_MAX values.  No allocation, no system call. */
LNUMA_API int lnuma_histogram_record_many(lnuma_histogram *h, const void *data, lnuma_kind kind,
                                          size_t n, lnuma_error *err);

/** Empties the histogram (the shape stays). */
LNUMA_API void lnuma_histogram_reset(lnuma_histogram *h);

/** Adds every value of src into dst.  Returns 0, or -1 with EINVAL when the
 *  shapes (lowest, highest, precision) differ, or EOVERFLOW (dst unchanged)
 *  when dst would then hold more than INT64_MAX values.  dst may equal src. */
LNUMA_API int lnuma_histogram_merge(lnuma_histogram *dst, const lnuma_histogram *src,
                                    lnuma_error *err);

/** The lowest trackable value given at creation. */
LNUMA_API int64_t lnuma_histogram_lowest(const lnuma_histogram *h);
/** The highest trackable value given at creation. */
LNUMA_API int64_t lnuma_histogram_highest(const lnuma_histogram *h);
/** The significant decimal digits (1..5) given at creation. */
LNUMA_API int lnuma_histogram_precision(const lnuma_histogram *h);

/** Number of recorded values, out-of-range ones included. */
LNUMA_API int64_t lnuma_histogram_count(const lnuma_histogram *h);
/** Number of values recorded below lowest. */
LNUMA_API int64_t lnuma_histogram_underflow(const lnuma_histogram *h);
/** Number of values recorded above highest. */
LNUMA_API int64_t lnuma_histogram_overflow(const lnuma_histogram *h);
/** Exact smallest recorded value; 0 when empty. */
LNUMA_API int64_t lnuma_histogram_min(const lnuma_histogram *h);
/** Exact largest recorded value; 0 when empty. */
LNUMA_API int64_t lnuma_histogram_max(const lnuma_histogram *h);
/** Mean of every recorded value (exact up to double rounding); 0 when empty. */
LNUMA_API double lnuma_histogram_mean(const lnuma_histogram *h);
/** Population standard deviation of every recorded value (exact up to double
 *  rounding); 0 when empty. */
LNUMA_API double lnuma_histogram_stddev(const lnuma_histogram *h);

/**
 * The values at n percentiles ps[i] (each 0..100, any order) into out[i], in
 * one pass.  Returns 0; -1 with EINVAL for a percentile outside 0..100 (or
 * NaN), or ENODATA when the histogram is empty.
 */
LNUMA_API int lnuma_histogram_percentiles(const lnuma_histogram *h, const double *ps,
                                          int64_t *out, size_t n, lnuma_error *err);

/** One percentile (see lnuma_histogram_percentiles). */
LNUMA_API int lnuma_histogram_percentile(const lnuma_histogram *h, double p, int64_t *out,
                                         lnuma_error *err);

/** One non-empty bucket, as lnuma_histogram_next() reports it. */
typedef struct lnuma_histogram_bucket {
  int64_t lowest;     /**< smallest value the bucket holds */
  int64_t highest;    /**< largest value the bucket holds */
  int64_t count;      /**< values recorded in it */
  int64_t cumulative; /**< values up to and including this bucket (underflow included) */
  size_t cursor;      /**< private: set to 0 to start */
} lnuma_histogram_bucket;

/** Advances b to the next non-empty in-range bucket in ascending order;
 *  returns 1, or 0 when there is none left.  Start with b->cursor = 0. */
LNUMA_API int lnuma_histogram_next(const lnuma_histogram *h, lnuma_histogram_bucket *b);

#ifdef __cplusplus
}
#endif

#endif
