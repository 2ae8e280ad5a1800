/* The calibrated clock: choosing the counter, finding its frequency, the
 * fixed-point conversion to ns, and calibration against CLOCK_MONOTONIC_RAW.
 * The hot path (ticks, now, start, stop) is inline in lnuma/clock.h. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#endif

#include "internal.h"

int64_t lnuma_monotonic_raw_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t lnuma_thread_cpu_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return -1;
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void lnuma_sleep_ns(int64_t ns) {
  if (ns <= 0) return;
  struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR) {
  }
}

const char *lnuma_clock_source_name(int source) {
  switch (source) {
  case LNUMA_CLOCK_AUTO: return "auto";
  case LNUMA_CLOCK_TSC: return "tsc";
  case LNUMA_CLOCK_MONOTONIC_RAW: return "monotonic_raw";
  case LNUMA_CLOCK_CNTVCT: return "cntvct";
  default: return NULL;
  }
}

const char *lnuma_clock_freq_method_name(int method) {
  switch (method) {
  case LNUMA_FREQ_DEFINITION: return "definition";
  case LNUMA_FREQ_CPUID_15H: return "cpuid_15h";
  case LNUMA_FREQ_HYPERVISOR: return "hypervisor";
  case LNUMA_FREQ_KERNEL: return "kernel";
  case LNUMA_FREQ_CNTFRQ: return "cntfrq";
  case LNUMA_FREQ_CALIBRATION: return "calibration";
  default: return "none";
  }
}

/* ---- conversion ----------------------------------------------------------- */

/* mult such that ticks * mult >> SHIFT = ticks * ns / ticks_per_ns... i.e. the
 * conversion for a counter that advanced `ticks` while `ns` nanoseconds went. */
uint64_t lnuma__clock_mult_for(uint64_t ns, uint64_t ticks) {
  unsigned __int128 num = ((unsigned __int128)ns << LNUMA_CLOCK_SHIFT) + ticks / 2;
  return (uint64_t)(num / ticks);
}

static void set_frequency(lnuma_clock *c, uint64_t hz, int method) {
  c->hz = hz;
  c->freq_method = method;
  c->mult = lnuma__clock_mult_for(1000000000u, hz);
  c->resolution_ns = 1e9 / (double)hz;
}

/* ---- publishing under the sequence lock ------------------------------------ */

/* A writer turns seq odd with a compare-and-swap (so two writers take turns:
 * the odd value is their lock), stores, and turns it even again; readers
 * (lnuma_clock_ticks_to_now, lnuma_clock_snapshot) retry while it is odd or
 * has moved.  Every field is stored atomically, with release (so no store
 * moves above the odd seq) and read with acquire (so the second read of seq
 * stays below the fields): no fences, which ThreadSanitizer cannot follow. */
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define STORE_D(p, v) __atomic_store((p), (v), __ATOMIC_RELEASE)
#define LOAD_D(p, out) __atomic_load((p), (out), __ATOMIC_ACQUIRE)

static uint32_t write_begin(lnuma_clock *c) {
  for (;;) {
    uint32_t s = __atomic_load_n(&c->seq, __ATOMIC_RELAXED);
    if ((s & 1u) == 0 &&
        __atomic_compare_exchange_n(&c->seq, &s, s + 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
      return s + 1;
    sched_yield();
  }
}

static void write_facts(lnuma_clock *c, const lnuma__clock_facts *f) {
  STORE(&c->recalibrations, c->recalibrations + 1);
  if (f != NULL) {
    STORE(&c->hz, f->hz);
    STORE(&c->freq_method, f->freq_method);
    STORE_D(&c->error_ppm, &f->error_ppm);
    STORE(&c->calibrated_ns, f->calibrated_ns);
    double res = 1e9 / (double)f->hz;
    STORE_D(&c->resolution_ns, &res);
  }
}

void lnuma__clock_publish(lnuma_clock *c, uint64_t mult, uint64_t base_ticks, int64_t base_ns,
                          const lnuma__clock_facts *f) {
  uint32_t s = write_begin(c);
  STORE(&c->mult, mult);
  STORE(&c->base_ticks, base_ticks);
  STORE(&c->offset_ns, base_ns);
  write_facts(c, f);
  __atomic_store_n(&c->seq, s + 1, __ATOMIC_RELEASE);
}

void lnuma__clock_publish_rate(lnuma_clock *c, uint64_t mult, const lnuma__clock_facts *f) {
  uint32_t s = write_begin(c);
  /* The switch is read inside the lock (fenced: after the lock is taken), so
   * a reader of the old conversion read its ticks before it: the new one
   * starts exactly where the old one is, and now() never goes back. */
  uint64_t t = lnuma_clock_start(c);
  int64_t d = (int64_t)(t - c->base_ticks);
  int64_t base_ns =
      d >= 0 ? c->offset_ns + (int64_t)lnuma__clock_scale(c->mult, (uint64_t)d) : c->offset_ns;
  STORE(&c->mult, mult);
  STORE(&c->base_ticks, d >= 0 ? t : c->base_ticks);
  STORE(&c->offset_ns, base_ns);
  write_facts(c, f);
  __atomic_store_n(&c->seq, s + 1, __ATOMIC_RELEASE);
}

void lnuma_clock_snapshot(const lnuma_clock *c, lnuma_clock *out) {
  /* The fields fixed at init, then the changing ones under the lock. */
  out->source = c->source;
  out->has_rdtscp = c->has_rdtscp;
  out->invariant = c->invariant;
  out->invariant_from = c->invariant_from;
  out->nominal_hz = c->nominal_hz;
  out->cost_ns = c->cost_ns;
  memcpy(out->reason, c->reason, sizeof out->reason);
  uint32_t s;
  do {
    s = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
    out->mult = LNUMA__LOAD_ACQ(&c->mult);
    out->offset_ns = LNUMA__LOAD_ACQ(&c->offset_ns);
    out->base_ticks = LNUMA__LOAD_ACQ(&c->base_ticks);
    out->recalibrations = LNUMA__LOAD_ACQ(&c->recalibrations);
    out->hz = LNUMA__LOAD_ACQ(&c->hz);
    out->freq_method = LNUMA__LOAD_ACQ(&c->freq_method);
    LOAD_D(&c->error_ppm, &out->error_ppm);
    out->calibrated_ns = LNUMA__LOAD_ACQ(&c->calibrated_ns);
    LOAD_D(&c->resolution_ns, &out->resolution_ns);
  } while ((s & 1u) != 0 || s != __atomic_load_n(&c->seq, __ATOMIC_RELAXED));
  out->seq = s;
}

/* ---- calibration ----------------------------------------------------------- */

lnuma__clock_pair lnuma__clock_read_pair(const lnuma_clock *c) {
  lnuma__clock_pair best = {0, UINT64_MAX, 0};
  for (int i = 0; i < 7; i++) {
    uint64_t t0 = lnuma_clock_start(c);
    int64_t raw = lnuma_monotonic_raw_ns();
    uint64_t t1 = lnuma_clock_stop(c);
    if (t1 - t0 < best.width) {
      best.width = t1 - t0;
      best.ticks = t0 + (t1 - t0) / 2;
      best.raw_ns = raw;
    }
  }
  return best;
}

/* Aligns now() with CLOCK_MONOTONIC_RAW at one fresh reading (init only). */
static void align(lnuma_clock *c) {
  lnuma__clock_pair p = lnuma__clock_read_pair(c);
  c->base_ticks = p.ticks;
  c->offset_ns = p.raw_ns;
}

/* Cost of one lnuma_clock_now() in ns, measured on 2000 calls. */
static void measure_cost(lnuma_clock *c) {
  enum { N = 2000 };
  volatile int64_t sink = 0;
  double best = 1e30;
  for (int round = 0; round < 3; round++) {
    int64_t t0 = lnuma_monotonic_raw_ns();
    for (int i = 0; i < N; i++) sink += lnuma_clock_now(c);
    int64_t t1 = lnuma_monotonic_raw_ns();
    double per = (double)(t1 - t0) / N;
    if (per < best) best = per;
  }
  (void)sink;
  c->cost_ns = best;
}

int lnuma_clock_calibrate(lnuma_clock *c, int64_t duration_ns, double *error_ppm,
                          lnuma_error *err) {
  if (duration_ns < 1000000 || duration_ns > 60000000000)
    return lnuma__fail(err, EINVAL,
                       "calibration duration %lld ns is outside 1 ms .. 60 s",
                       (long long)duration_ns);
  lnuma__clock_facts f = {LNUMA__LOAD(&c->hz), LNUMA__LOAD(&c->freq_method), 0, duration_ns};
  if (c->source == LNUMA_CLOCK_MONOTONIC_RAW) {
    /* The reference itself: nothing to measure. */
    lnuma__clock_publish(c, LNUMA__LOAD(&c->mult), LNUMA__LOAD(&c->base_ticks),
                         LNUMA__LOAD(&c->offset_ns), &f);
    if (error_ppm != NULL) *error_ppm = 0;
    return 0;
  }
  lnuma__clock_pair a = lnuma__clock_read_pair(c);
  /* Sleep most of the time, then spin the last stretch so that the end
   * reading does not start with a wake-up. */
  int64_t end = a.raw_ns + duration_ns;
  lnuma_sleep_ns(duration_ns - 200000);
  while (lnuma_monotonic_raw_ns() < end) {
  }
  lnuma__clock_pair b = lnuma__clock_read_pair(c);
  uint64_t ticks = b.ticks - a.ticks;
  uint64_t ns = (uint64_t)(b.raw_ns - a.raw_ns);
  if (ticks == 0 || ns == 0)
    return lnuma__fail(err, EIO, "calibration: the %s counter did not advance",
                       lnuma_clock_source_name(c->source));
  f.hz = (uint64_t)(((unsigned __int128)ticks * 1000000000u + ns / 2) / ns);
  if (f.freq_method != LNUMA_FREQ_CNTFRQ) f.freq_method = LNUMA_FREQ_CALIBRATION;
  /* Each end is known to within half its bracket (plus the clock_gettime
   * resolution of 1 ns). */
  double half = (double)(a.width + b.width) / 2.0 * 1e9 / (double)f.hz / 2.0 + 1.0;
  f.error_ppm = half / (double)ns * 1e6;
  f.calibrated_ns = (int64_t)ns;
  uint64_t mult = lnuma__clock_mult_for(ns, ticks);
  lnuma__clock_publish(c, mult, b.ticks, b.raw_ns, &f);
  if (error_ppm != NULL) *error_ppm = f.error_ppm;
  return 0;
}

/* ---- choosing the source -------------------------------------------------- */

#if defined(__x86_64__) && defined(__GNUC__)

/* 1 when the first "flags" line of /proc/cpuinfo holds the word flag. */
static int cpuinfo_has(const char *flag) {
  FILE *f = fopen("/proc/cpuinfo", "re");
  if (f == NULL) return 0;
  char line[8192];
  int found = 0;
  size_t len = strlen(flag);
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "flags", 5) != 0) continue;
    for (const char *p = strstr(line, flag); p != NULL; p = strstr(p + 1, flag))
      if (p[-1] == ' ' && (p[len] == ' ' || p[len] == '\n' || p[len] == '\0')) found = 1;
    break;
  }
  fclose(f);
  return found;
}

static uint64_t sysfs_tsc_khz(void) {
  FILE *f = fopen("/sys/devices/system/cpu/cpu0/tsc_freq_khz", "re");
  if (f == NULL) return 0;
  unsigned long long khz = 0;
  if (fscanf(f, "%llu", &khz) != 1) khz = 0;
  fclose(f);
  return khz;
}

/* The TSC frequency when the hardware or the kernel states it; 0 if not. */
static uint64_t enumerated_tsc_hz(int *method, uint64_t *nominal) {
  unsigned a, b, cx, d;
  unsigned max = __get_cpuid_max(0, NULL);
  *nominal = 0;
  if (max >= 0x16) {
    __cpuid_count(0x16, 0, a, b, cx, d);
    *nominal = (uint64_t)(a & 0xffff) * 1000000u;
  }
  if (max >= 0x15) {
    __cpuid_count(0x15, 0, a, b, cx, d);
    if (a != 0 && b != 0 && cx != 0) {
      *method = LNUMA_FREQ_CPUID_15H;
      return (uint64_t)cx * b / a;
    }
  }
  __cpuid(1, a, b, cx, d);
  if (cx & (1u << 31)) { /* running under a hypervisor */
    __cpuid(0x40000000, a, b, cx, d);
    if (a >= 0x40000010) {
      __cpuid(0x40000010, a, b, cx, d);
      if (a != 0) {
        *method = LNUMA_FREQ_HYPERVISOR;
        return (uint64_t)a * 1000u;
      }
    }
  }
  uint64_t khz = sysfs_tsc_khz();
  if (khz != 0) {
    *method = LNUMA_FREQ_KERNEL;
    return khz * 1000u;
  }
  return 0;
}

/* Fills the TSC facts; returns 1 when the TSC may be used.
 *
 * lnuma_clock_stop() uses RDTSCP only when CPUID 0x80000001 EDX bit 27 and the
 * kernel's "rdtscp" flag both say it exists.  CPUID alone is not enough: a
 * binary translator answers CPUID itself (valgrind 3.19 reports a model with
 * RDTSCP on every AVX2 host) yet can only run RDTSCP where the host has it, so
 * on a host without it (a VM that hides RDTSCP) the translated program dies
 * of SIGILL.  The kernel's flag describes the host.  Without RDTSCP, stop()
 * fences instead, with the same ordering (see lnuma_clock_stop). */
static int probe_tsc(lnuma_clock *c, unsigned flags) {
  unsigned a, b, cx, d;
  unsigned ext = __get_cpuid_max(0x80000000, NULL);
  int rdtscp = 0, inv = 0;
  if (ext >= 0x80000001) {
    __cpuid(0x80000001, a, b, cx, d);
    rdtscp = (d >> 27) & 1;
  }
  if (ext >= 0x80000007) {
    __cpuid(0x80000007, a, b, cx, d);
    inv = (d >> 8) & 1;
  }
  if (flags & LNUMA__CLOCK_NO_RDTSCP) rdtscp = 0;
  c->has_rdtscp = rdtscp && cpuinfo_has("rdtscp");
  if (inv) {
    c->invariant = 1;
    c->invariant_from = "cpuid";
    snprintf(c->reason, sizeof c->reason, "invariant TSC (CPUID 0x80000007 EDX bit 8)");
    return 1;
  }
  int constant = cpuinfo_has("constant_tsc"), nonstop = cpuinfo_has("nonstop_tsc");
  if (constant && nonstop) {
    c->invariant = 1;
    c->invariant_from = "cpuinfo";
    snprintf(c->reason, sizeof c->reason,
             "invariant TSC (/proc/cpuinfo: constant_tsc nonstop_tsc)");
    return 1;
  }
  c->invariant = 0;
  snprintf(c->reason, sizeof c->reason,
           "TSC not invariant: CPUID 0x80000007 EDX bit 8 clear and /proc/cpuinfo "
           "lacks%s%s",
           constant ? "" : " constant_tsc", nonstop ? "" : " nonstop_tsc");
  return 0;
}
#endif

static void use_monotonic_raw(lnuma_clock *c) {
  c->source = LNUMA_CLOCK_MONOTONIC_RAW;
  set_frequency(c, 1000000000u, LNUMA_FREQ_DEFINITION);
  c->offset_ns = 0;
  c->base_ticks = 0;
  c->error_ppm = 0;
}

int lnuma_clock_init(lnuma_clock *c, int source, lnuma_error *err) {
  return lnuma__clock_init(c, source, 0, err);
}

int lnuma__clock_init(lnuma_clock *c, int source, unsigned flags, lnuma_error *err) {
  memset(c, 0, sizeof *c);
  (void)flags; /* x86-64 only */
  c->error_ppm = -1;
  if (source < LNUMA_CLOCK_AUTO || source > LNUMA_CLOCK_CNTVCT)
    return lnuma__fail(err, EINVAL, "unknown clock source %d", source);
  int want = source;
#if LNUMA_CLOCK_INLINE_COUNTER && defined(__x86_64__)
  if (want == LNUMA_CLOCK_CNTVCT)
    return lnuma__fail(err, ENOTSUP, "cntvct: not an arm64 machine");
  int ok = probe_tsc(c, flags); /* also for info() when monotonic_raw is requested */
  if (want == LNUMA_CLOCK_AUTO || want == LNUMA_CLOCK_TSC) {
    if (ok) {
      int method = LNUMA_FREQ_NONE;
      c->source = LNUMA_CLOCK_TSC;
      uint64_t hz = enumerated_tsc_hz(&method, &c->nominal_hz);
      if (hz != 0) {
        set_frequency(c, hz, method);
        align(c);
      } else {
        /* A first guess so that calibration can read pairs. */
        set_frequency(c, c->nominal_hz ? c->nominal_hz : 1000000000u, LNUMA_FREQ_NONE);
        if (lnuma_clock_calibrate(c, LNUMA_CLOCK_DEFAULT_CALIBRATION_NS, NULL, err) != 0)
          return -1;
      }
      measure_cost(c);
      return 0;
    }
    if (want == LNUMA_CLOCK_TSC) return lnuma__fail(err, ENOTSUP, "tsc: %s", c->reason);
  }
#elif LNUMA_CLOCK_INLINE_COUNTER && defined(__aarch64__)
  if (want == LNUMA_CLOCK_TSC) return lnuma__fail(err, ENOTSUP, "tsc: not an x86-64 machine");
  if (want == LNUMA_CLOCK_AUTO || want == LNUMA_CLOCK_CNTVCT) {
    uint64_t frq;
    __asm__ __volatile__("mrs %0, cntfrq_el0" : "=r"(frq));
    if (frq != 0) {
      c->source = LNUMA_CLOCK_CNTVCT;
      c->invariant = 1;
      c->invariant_from = "architecture";
      snprintf(c->reason, sizeof c->reason, "arm64 generic timer (cntvct_el0)");
      set_frequency(c, frq, LNUMA_FREQ_CNTFRQ);
      align(c);
      measure_cost(c);
      return 0;
    }
    snprintf(c->reason, sizeof c->reason, "cntfrq_el0 reads 0");
    if (want == LNUMA_CLOCK_CNTVCT) return lnuma__fail(err, ENOTSUP, "cntvct: %s", c->reason);
  }
#else
  if (want == LNUMA_CLOCK_TSC || want == LNUMA_CLOCK_CNTVCT)
    return lnuma__fail(err, ENOTSUP, "%s: no such counter on this machine or compiler",
                       lnuma_clock_source_name(want));
  snprintf(c->reason, sizeof c->reason, "no hardware counter supported on this machine");
#endif
  if (want == LNUMA_CLOCK_MONOTONIC_RAW) {
    snprintf(c->reason, sizeof c->reason, "CLOCK_MONOTONIC_RAW requested by the caller");
  } else {
    /* keep the reason the counter was refused, and say what we use instead */
    size_t n = strlen(c->reason);
    snprintf(c->reason + n, sizeof c->reason - n, "; using CLOCK_MONOTONIC_RAW");
  }
  use_monotonic_raw(c);
  measure_cost(c);
  return 0;
}

int lnuma_kernel_clocksource(char *out, size_t cap, lnuma_error *err) {
  static const char path[] = "/sys/devices/system/clocksource/clocksource0/current_clocksource";
  if (out == NULL || cap == 0)
    return lnuma__fail(err, EINVAL, "clocksource: no room for the name");
  int got = lnuma__read_line(path, out, cap);
  if (got < 0) return lnuma__fail_sys(err, errno, path);
  if (got == 0) return lnuma__fail(err, EIO, "%s: empty", path);
  return 0;
}
