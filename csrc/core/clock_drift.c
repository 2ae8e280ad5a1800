/* The clock against CLOCK_MONOTONIC_RAW over time: measuring its drift, and
 * the background thread that keeps it in step (lnuma/clock_sync.h). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* now() - CLOCK_MONOTONIC_RAW at the midpoint of one narrow bracket; *half
 * gets half the bracket in ns (how well the reading is known). */
static int64_t error_at(const lnuma_clock *c, int64_t *raw, double *half) {
  lnuma__clock_pair p = lnuma__clock_read_pair(c);
  *raw = p.raw_ns;
  *half = (double)lnuma_clock_to_ns(c, p.width) / 2.0 + 1.0;
  return lnuma_clock_ticks_to_now(c, p.ticks) - p.raw_ns;
}

/* Until when |error| stays below threshold, growing at rate_ppm. */
static int64_t time_to_threshold(int64_t error, double rate_ppm, int64_t threshold) {
  double left = (double)threshold - fabs((double)error);
  if (left <= 0) return 0;
  if (!(rate_ppm > 0)) return -1;
  double t = left / (rate_ppm * 1e-6);
  return t >= 9.2e18 ? INT64_MAX : (int64_t)t;
}

int lnuma_clock_drift(const lnuma_clock *c, int64_t duration_ns, int samples,
                      int64_t threshold_ns, lnuma_drift_result *r, lnuma_error *err) {
  if (c == NULL || r == NULL) return lnuma__fail(err, EINVAL, "drift: no clock or result");
  if (duration_ns < LNUMA_DRIFT_MIN_NS || duration_ns > LNUMA_DRIFT_MAX_NS)
    return lnuma__fail(err, EINVAL, "drift: duration %lld ns is outside 1 ms .. 1 h",
                       (long long)duration_ns);
  if (samples < 2 || samples > LNUMA_DRIFT_MAX_SAMPLES || samples > duration_ns / 100000 + 1)
    return lnuma__fail(err, EINVAL,
                       "drift: %d samples; 2 to %d, and at most one per 100 us of duration",
                       samples, LNUMA_DRIFT_MAX_SAMPLES);
  if (threshold_ns <= 0)
    return lnuma__fail(err, EINVAL, "drift: threshold %lld ns must be positive",
                       (long long)threshold_ns);
  memset(r, 0, sizeof *r);
  /* A running least-squares fit of error against time (relative to the
   * first sample, in seconds, for conditioning). */
  double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0, half0 = 0, half = 0;
  int64_t raw0 = 0, raw = 0, e = 0;
  for (int i = 0; i < samples; i++) {
    if (i > 0) {
      int64_t due = raw0 + duration_ns * i / (samples - 1);
      int64_t wait = due - lnuma_monotonic_raw_ns();
      if (wait > 200000) lnuma_sleep_ns(wait - 100000); /* spin the last stretch */
      while (lnuma_monotonic_raw_ns() < due) {
      }
    }
    e = error_at(c, &raw, &half);
    if (i == 0) {
      raw0 = raw;
      half0 = half;
    }
    double x = (double)(raw - raw0) * 1e-9, y = (double)e;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
    syy += y * y;
  }
  double n = samples, span = (double)(raw - raw0);
  double dxx = sxx - sx * sx / n, slope = 0, se = 0, rss = 0;
  if (dxx > 0) {
    slope = (sxy - sx * sy / n) / dxx; /* ns per s = ppb */
    rss = syy - sy * sy / n - slope * (sxy - sx * sy / n);
    if (rss < 0) rss = 0;
    if (samples > 2) se = sqrt(rss / (n - 2) / dxx);
  }
  r->drift_ppm = slope / 1000.0;
  r->uncertainty_ppm = (2.0 * se / 1000.0) + (span > 0 ? (half0 + half) / span * 1e6 : 0);
  if (c->source == LNUMA_CLOCK_MONOTONIC_RAW) r->drift_ppm = r->uncertainty_ppm = 0;
  r->error_ns = e;
  r->error_uncertainty_ns = half;
  r->residual_ns = sqrt(rss / n);
  r->duration_ns = raw - raw0;
  r->samples = samples;
  r->threshold_ns = threshold_ns;
  r->recalibrate_after_ns =
      time_to_threshold(e, fabs(r->drift_ppm) + r->uncertainty_ppm, threshold_ns);
  return 0;
}

/* ---- the background recalibrator --------------------------------------------- */

struct lnuma_clock_recalibrator {
  lnuma_clock *clock;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake; /* on CLOCK_MONOTONIC */
  int stop;            /* under lock */
  lnuma_recalibration_status status; /* under lock */
};

/* One visit: the rate since the last one (p0), the error now, and a
 * conversion that is continuous here and back on CLOCK_MONOTONIC_RAW one
 * period later.  Returns the rate measured (0: none), with its facts in f. */
static uint64_t visit(lnuma_clock_recalibrator *r, lnuma__clock_pair *p0, int64_t every,
                      lnuma_recalibration_status *st, lnuma__clock_facts *out) {
  lnuma_clock *c = r->clock;
  lnuma__clock_pair p1 = lnuma__clock_read_pair(c);
  uint64_t dt = p1.ticks - p0->ticks;
  int64_t dns = p1.raw_ns - p0->raw_ns;
  if (dt == 0 || dns <= 0 || c->source == LNUMA_CLOCK_MONOTONIC_RAW) return 0;
  int64_t e = lnuma_clock_ticks_to_now(c, p1.ticks) - p1.raw_ns; /* > 0: ahead */
  uint64_t rate = lnuma__clock_mult_for((uint64_t)dns, dt);
  lnuma__clock_facts f = {(uint64_t)(((unsigned __int128)dt * 1000000000u + (uint64_t)dns / 2) /
                                     (uint64_t)dns),
                          LNUMA_FREQ_CALIBRATION,
                          ((double)lnuma_clock_to_ns(c, p0->width + p1.width) / 2.0 + 1.0) /
                              (double)dns * 1e6,
                          dns};
  if (LNUMA__LOAD(&c->freq_method) == LNUMA_FREQ_CNTFRQ) f.freq_method = LNUMA_FREQ_CNTFRQ;
  if (e > LNUMA_RECALIBRATE_STEP_NS || e < -LNUMA_RECALIBRATE_STEP_NS) {
    lnuma__clock_publish(c, rate, p1.ticks, p1.raw_ns, &f); /* a step onto the reference */
    st->steps++;
  } else {
    /* Cover `every` ns of CLOCK_MONOTONIC_RAW in every - e ns of now(),
     * the slew bounded so the rate never changes by more than the cap. */
    int64_t cap = every / 1000000 * LNUMA_RECALIBRATE_MAX_SLEW_PPM;
    int64_t fix = e > cap ? cap : e < -cap ? -cap : e;
    uint64_t ticks = (uint64_t)(((unsigned __int128)(uint64_t)every * dt) / (uint64_t)dns);
    lnuma__clock_publish_rate(c, lnuma__clock_mult_for((uint64_t)(every - fix), ticks ? ticks : 1),
                              &f);
  }
  st->count++;
  st->last_at_ns = p1.raw_ns;
  st->last_error_ns = e;
  st->last_drift_ppm = (double)e / (double)dns * 1e6;
  *p0 = p1;
  *out = f;
  return rate;
}

static struct timespec deadline_after(int64_t ns) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  int64_t t = (int64_t)ts.tv_nsec + ns % 1000000000;
  ts.tv_sec += (time_t)(ns / 1000000000 + t / 1000000000);
  ts.tv_nsec = (long)(t % 1000000000);
  return ts;
}

static void *recalibrator_main(void *arg) {
  lnuma_clock_recalibrator *r = arg;
  lnuma__clock_pair p0 = lnuma__clock_read_pair(r->clock);
  lnuma__clock_facts f;
  uint64_t rate = 0;
  pthread_mutex_lock(&r->lock);
  int64_t every = r->status.every_ns;
  for (;;) {
    struct timespec until = deadline_after(every);
    while (!r->stop && pthread_cond_timedwait(&r->wake, &r->lock, &until) != ETIMEDOUT) {
    }
    if (r->stop) break;
    lnuma_recalibration_status st = r->status;
    pthread_mutex_unlock(&r->lock);
    uint64_t m = visit(r, &p0, every, &st, &f);
    if (m != 0) rate = m;
    pthread_mutex_lock(&r->lock);
    r->status = st;
  }
  pthread_mutex_unlock(&r->lock);
  /* The last slew was meant to last one period: leave the clock at the
   * rate measured, from where it is. */
  if (rate != 0) lnuma__clock_publish_rate(r->clock, rate, &f);
  return NULL;
}

lnuma_clock_recalibrator *lnuma_clock_recalibrate_start(lnuma_clock *c, int64_t every_ns,
                                                        lnuma_error *err) {
  if (c == NULL) {
    lnuma__fail(err, EINVAL, "recalibrate: no clock");
    return NULL;
  }
  if (every_ns < LNUMA_RECALIBRATE_MIN_NS || every_ns > LNUMA_RECALIBRATE_MAX_NS) {
    lnuma__fail(err, EINVAL, "recalibrate: every %lld ns is outside 10 ms .. 1 day",
                (long long)every_ns);
    return NULL;
  }
  lnuma_clock_recalibrator *r = calloc(1, sizeof *r);
  if (r == NULL) {
    lnuma__fail_sys(err, ENOMEM, "recalibrate");
    return NULL;
  }
  r->clock = c;
  r->status.every_ns = every_ns;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&r->wake, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&r->lock, NULL);
  int rc = pthread_create(&r->thread, NULL, recalibrator_main, r);
  if (rc != 0) {
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
    free(r);
    lnuma__fail_sys(err, rc, "recalibrate: pthread_create");
    return NULL;
  }
  return r;
}

void lnuma_clock_recalibrate_status(lnuma_clock_recalibrator *r,
                                    lnuma_recalibration_status *out) {
  pthread_mutex_lock(&r->lock);
  *out = r->status;
  pthread_mutex_unlock(&r->lock);
}

void lnuma_clock_recalibrate_stop(lnuma_clock_recalibrator *r) {
  if (r == NULL) return;
  pthread_mutex_lock(&r->lock);
  r->stop = 1;
  pthread_cond_signal(&r->wake);
  pthread_mutex_unlock(&r->lock);
  pthread_join(r->thread, NULL);
  pthread_cond_destroy(&r->wake);
  pthread_mutex_destroy(&r->lock);
  free(r);
}
