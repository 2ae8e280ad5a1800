/** @file
 * lnuma/clock_sync.h -- how far a clock can be trusted across CPUs and over
 * time: the offsets between the CPUs' counters (skew), the rate of the clock
 * against CLOCK_MONOTONIC_RAW (drift), and a background thread that keeps a
 * clock in step with CLOCK_MONOTONIC_RAW during a long run.
 *
 * Skew uses the classic round trip through one shared cache line: CPU a
 * reads its counter t1 and writes; b, seeing the write, reads t2 and
 * answers; a, seeing the answer, reads t3.  Since t2 was read between t1
 * and t3, the offset of b's counter against a's lies in
 * [t2 - t3, t2 - t1]; the tightest bounds over many tries, in both
 * directions, give the estimate and its uncertainty (half the width).
 * Included by lnuma.h (after lnuma/kernels.h: skew runs on a worker team).
 */
#ifndef LNUMA_CLOCK_SYNC_H
#define LNUMA_CLOCK_SYNC_H

#include "../lnuma.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Most CPUs one skew measurement takes (it measures every ordered pair). */
#define LNUMA_SKEW_MAX_CPUS 256
/** Most round trips per pair and direction. */
#define LNUMA_SKEW_MAX_TRIES 100000

/** What lnuma_clock_skew() measures. */
typedef struct lnuma_skew_params {
  const lnuma_clock *clock; /**< the clock whose counter is compared */
  int n;                    /**< CPUs: 2 .. LNUMA_SKEW_MAX_CPUS */
  const int *cpus;          /**< [n] OS indexes, each pinned one thread */
  int tries;                /**< round trips per ordered pair: 1 .. LNUMA_SKEW_MAX_TRIES */
} lnuma_skew_params;

/** One ordered pair: cell [a * n + b] of the matrix, measured with CPU a
 *  starting the round trips.  Offsets are counter(b) - counter(a), ticks. */
typedef struct lnuma_skew_cell {
  int64_t lo_ticks;          /**< the offset is at least this (t2 - t3, the largest) */
  int64_t hi_ticks;          /**< and at most this (t2 - t1, the smallest); lo > hi
                                  means the bounds disagree (see lnuma_clock_skew) */
  uint64_t rtt_ticks;        /**< the fastest round trip (t3 - t1) */
  uint64_t rtt_median_ticks; /**< the median round trip */
} lnuma_skew_cell;

/** Where the measurement put its results (arrays the caller owns). */
typedef struct lnuma_skew_result {
  lnuma_skew_cell *cells;     /**< [n * n]; the diagonal is all zero */
  lnuma_team_thread *threads; /**< [n]: where each thread ran (may be NULL) */
} lnuma_skew_result;

/**
 * Measures the counter offsets between every ordered pair of p->cpus (one
 * thread pinned to each; disjoint pairs run at the same time, in the
 * round-robin order of lnuma_c2c_partner).  Bounds whose lo exceeds hi say
 * the counters moved apart during the measurement or are not monotonic
 * across CPUs: the caller reports them, they are not errors.  Returns 0, or
 * -1 with EINVAL (bad parameters), ENOMEM, or the team's errors (a CPU that
 * cannot be pinned).  Any thread; blocks until done.
 */
LNUMA_API int lnuma_clock_skew(const lnuma_skew_params *p, lnuma_skew_result *r,
                               lnuma_error *err);

/** Longest drift measurement, ns (1 hour). */
#define LNUMA_DRIFT_MAX_NS INT64_C(3600000000000)
/** Shortest drift measurement, ns (1 ms). */
#define LNUMA_DRIFT_MIN_NS INT64_C(1000000)
/** Most samples a drift measurement takes. */
#define LNUMA_DRIFT_MAX_SAMPLES 100000

/** The clock against CLOCK_MONOTONIC_RAW over a stretch of time. */
typedef struct lnuma_drift_result {
  double drift_ppm;         /**< rate of now() - CLOCK_MONOTONIC_RAW, ppm (a
                                 least-squares slope over the samples) */
  double uncertainty_ppm;   /**< two standard errors of that slope plus the
                                 reading uncertainty of the two end samples */
  int64_t error_ns;         /**< now() - CLOCK_MONOTONIC_RAW at the end */
  double error_uncertainty_ns; /**< half the bracket of that last reading */
  double residual_ns;       /**< root mean square of the fit's residuals */
  int64_t duration_ns;      /**< CLOCK_MONOTONIC_RAW time from first to last sample */
  int samples;              /**< readings taken */
  int64_t threshold_ns;     /**< the error the caller tolerates */
  int64_t recalibrate_after_ns; /**< from the end, time until |error| may reach
                                 threshold_ns at |drift| + uncertainty: 0 when it
                                 already has, -1 when it never will (no drift
                                 measurable, e.g. the monotonic_raw source) */
} lnuma_drift_result;

/**
 * Reads now() against CLOCK_MONOTONIC_RAW `samples` times spread evenly over
 * duration_ns (LNUMA_DRIFT_MIN_NS .. LNUMA_DRIFT_MAX_NS; sleeping between
 * readings) and fits a line.  samples: 2 .. LNUMA_DRIFT_MAX_SAMPLES, and at
 * most one per 100 us.  threshold_ns > 0.  Returns 0, or -1 with EINVAL.
 * Any thread.
 */
LNUMA_API int lnuma_clock_drift(const lnuma_clock *clock, int64_t duration_ns, int samples,
                                int64_t threshold_ns, lnuma_drift_result *r, lnuma_error *err);

/** Shortest period of background recalibration, ns (10 ms). */
#define LNUMA_RECALIBRATE_MIN_NS INT64_C(10000000)
/** Longest period of background recalibration, ns (1 day). */
#define LNUMA_RECALIBRATE_MAX_NS INT64_C(86400000000000)
/** Above this error a recalibration steps now() instead of slewing (1 ms). */
#define LNUMA_RECALIBRATE_STEP_NS INT64_C(1000000)
/** The fastest slew, ppm: corrections never change the rate by more. */
#define LNUMA_RECALIBRATE_MAX_SLEW_PPM 500

/** A background thread keeping one clock in step (opaque). */
typedef struct lnuma_clock_recalibrator lnuma_clock_recalibrator;

/** What a recalibrator has done so far. */
typedef struct lnuma_recalibration_status {
  int64_t every_ns;       /**< its period */
  uint64_t count;         /**< recalibrations published */
  uint64_t steps;         /**< of which steps (error above LNUMA_RECALIBRATE_STEP_NS) */
  int64_t last_at_ns;     /**< CLOCK_MONOTONIC_RAW time of the last one; 0 if none */
  int64_t last_error_ns;  /**< now() - CLOCK_MONOTONIC_RAW it found and corrected */
  double last_drift_ppm;  /**< the error divided by the time since the one before */
} lnuma_recalibration_status;

/**
 * Starts a thread that, every every_ns (LNUMA_RECALIBRATE_MIN_NS to
 * LNUMA_RECALIBRATE_MAX_NS), measures the counter's rate against
 * CLOCK_MONOTONIC_RAW since its last visit and publishes a conversion that
 * keeps now() continuous and brings it back onto CLOCK_MONOTONIC_RAW by the
 * next visit (a slew of at most LNUMA_RECALIBRATE_MAX_SLEW_PPM; an error over
 * LNUMA_RECALIBRATE_STEP_NS, as after a suspend, is stepped).  now() stays
 * as cheap as before: it reads the conversion under the clock's sequence
 * lock.  The thread inherits the caller's CPU affinity: start it from a
 * housekeeping thread (or before pinning to an isolated CPU).  The clock must
 * outlive the recalibrator.  Returns the handle, or NULL with EINVAL or the
 * pthread error.  Any thread.
 */
LNUMA_API lnuma_clock_recalibrator *lnuma_clock_recalibrate_start(lnuma_clock *clock,
                                                                  int64_t every_ns,
                                                                  lnuma_error *err);

/** Copies the recalibrator's status into out.  Any thread. */
LNUMA_API void lnuma_clock_recalibrate_status(lnuma_clock_recalibrator *r,
                                              lnuma_recalibration_status *out);

/** Stops the thread (at once: it waits on a condition variable), leaves the
 *  clock at the last rate measured (ending the slew, from where now() is),
 *  joins the thread and frees r.  NULL is allowed.  Not from the
 *  recalibrator's own thread. */
LNUMA_API void lnuma_clock_recalibrate_stop(lnuma_clock_recalibrator *r);

#ifdef __cplusplus
}
#endif

#endif
