/** @file
 * lnuma/clock.h -- a cheap, honest nanosecond clock.
 *
 * The clock reads the fastest trustworthy counter of the machine:
 *  - x86-64: the TSC, when it is invariant (CPUID 0x80000007 EDX bit 8, or
 *    /proc/cpuinfo's constant_tsc + nonstop_tsc), with a frequency taken from
 *    CPUID leaf 0x15, the hypervisor's leaf 0x40000010, the kernel's
 *    tsc_freq_khz (where exposed), or calibrated against CLOCK_MONOTONIC_RAW;
 *  - arm64: the generic timer cntvct_el0 at cntfrq_el0 Hz;
 *  - elsewhere, or when the TSC is not invariant: clock_gettime(
 *    CLOCK_MONOTONIC_RAW), and lnuma_clock.reason says why.
 *
 * Ticks become nanoseconds with a fixed-point multiply and shift
 * (ns = ticks * mult >> LNUMA_CLOCK_SHIFT): no division and no floating point
 * on the hot path.  lnuma_clock_now() is aligned to CLOCK_MONOTONIC_RAW at the
 * last calibration, so the two can be compared directly.
 *
 * The core has no global clock: a host owns an lnuma_clock, fills it once
 * with lnuma_clock_init() and then reads it from any thread.  After init
 * only the conversion (mult, base_ticks, offset_ns) and the calibration
 * facts change,
 * and only under the clock's sequence lock (seq): lnuma_clock_calibrate()
 * and a background recalibrator (lnuma/clock_sync.h) publish new values
 * while other threads keep reading now() (which retries across a change).
 * Hosts read the changing fields through lnuma_clock_snapshot().  The Lua
 * module shares one such clock among all its lua_States (csrc/lua/clock.c
 * says why).  Included by lnuma.h.
 */
#ifndef LNUMA_CLOCK_H
#define LNUMA_CLOCK_H

#include "../lnuma.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The counter a clock reads. */
typedef enum lnuma_clock_source {
  LNUMA_CLOCK_AUTO = 0,          /**< request only: the best available */
  LNUMA_CLOCK_TSC = 1,           /**< x86-64 time stamp counter */
  LNUMA_CLOCK_MONOTONIC_RAW = 2, /**< clock_gettime(CLOCK_MONOTONIC_RAW), ticks are ns */
  LNUMA_CLOCK_CNTVCT = 3         /**< arm64 virtual counter cntvct_el0 */
} lnuma_clock_source;

/** How the tick frequency was obtained. */
typedef enum lnuma_clock_freq_method {
  LNUMA_FREQ_NONE = 0,        /**< not yet known */
  LNUMA_FREQ_DEFINITION = 1,  /**< ticks are nanoseconds (monotonic_raw) */
  LNUMA_FREQ_CPUID_15H = 2,   /**< CPUID leaf 0x15 (crystal clock and ratio) */
  LNUMA_FREQ_HYPERVISOR = 3,  /**< CPUID leaf 0x40000010 (TSC kHz from the hypervisor) */
  LNUMA_FREQ_KERNEL = 4,      /**< /sys/devices/system/cpu/cpu0/tsc_freq_khz */
  LNUMA_FREQ_CNTFRQ = 5,      /**< arm64 cntfrq_el0 */
  LNUMA_FREQ_CALIBRATION = 6  /**< measured against CLOCK_MONOTONIC_RAW */
} lnuma_clock_freq_method;

/** Fixed-point shift of the ticks-to-ns conversion. */
#define LNUMA_CLOCK_SHIFT 32

/** A clock.  Fill it with lnuma_clock_init(); read its fields, never write
 *  them.  The first four fields are the hot ones. */
typedef struct lnuma_clock {
  int source;            /**< lnuma_clock_source in use */
  int has_rdtscp;        /**< 1 when stop() uses RDTSCP: CPUID and the kernel's
                              cpuinfo flag both report it (x86-64) */
  uint64_t mult;         /**< ns = ticks * mult >> LNUMA_CLOCK_SHIFT (changes
                              under seq) */
  int64_t offset_ns;     /**< now() at base_ticks, on the CLOCK_MONOTONIC_RAW
                              time line: now() = offset_ns + to_ns(ticks -
                              base_ticks) (changes under seq) */
  uint64_t base_ticks;   /**< where the conversion starts (changes under seq):
                              a new conversion starts where the last one is,
                              so now() stays continuous to the ns */
  uint32_t seq;          /**< sequence lock: odd while a writer publishes */
  uint32_t recalibrations; /**< conversions published since init (calibrate
                              and background recalibration) */
  uint64_t hz;           /**< ticks per second (rounded) */
  int freq_method;       /**< lnuma_clock_freq_method */
  int invariant;         /**< 1 when the counter runs at a constant rate in every
                              C/P-state, 0 when not (or unknown) */
  const char *invariant_from; /**< "cpuid", "cpuinfo", "architecture", or NULL */
  uint64_t nominal_hz;   /**< CPUID 0x16 base frequency, 0 when not reported */
  double error_ppm;      /**< estimated error of hz from the last calibration;
                              negative when never calibrated */
  int64_t calibrated_ns; /**< length of the last calibration; 0 when none */
  double cost_ns;        /**< measured cost of one lnuma_clock_now() call */
  double resolution_ns;  /**< one tick, in ns */
  char reason[160];      /**< why this source was chosen (or the TSC refused) */
} lnuma_clock;

/** Default length of the calibration lnuma_clock_init() runs when the
 *  frequency is not enumerated by the hardware (10 ms). */
#define LNUMA_CLOCK_DEFAULT_CALIBRATION_NS 10000000

/**
 * Fills clock with the best available source (LNUMA_CLOCK_AUTO) or the one
 * requested.  May calibrate for LNUMA_CLOCK_DEFAULT_CALIBRATION_NS.  Returns
 * 0, or -1 with ENOTSUP when the requested source is missing or (TSC) not
 * invariant, or EINVAL for an unknown request.  Any thread; writes clock.
 */
LNUMA_API int lnuma_clock_init(lnuma_clock *clock, int source, lnuma_error *err);

/**
 * Re-measures the frequency against CLOCK_MONOTONIC_RAW for duration_ns
 * (sleeping most of it) and re-aligns now() to CLOCK_MONOTONIC_RAW, so a
 * value read before and one read after may differ by the correction.
 * Writes the estimated error of the new frequency in ppm (NULL allowed).
 * For the monotonic_raw source there is nothing to measure: error 0.
 * Returns 0, or -1 with EINVAL (duration_ns < 1 ms or > 60 s).
 * Any thread, also while others read the clock or calibrate it: the new
 * values are published under the clock's sequence lock.
 */
LNUMA_API int lnuma_clock_calibrate(lnuma_clock *clock, int64_t duration_ns,
                                    double *error_ppm, lnuma_error *err);

/** Copies clock into out with the fields that calibration changes read
 *  consistently (under the sequence lock).  Any thread. */
LNUMA_API void lnuma_clock_snapshot(const lnuma_clock *clock, lnuma_clock *out);

/** clock_gettime(CLOCK_MONOTONIC_RAW) in ns.  Any thread. */
LNUMA_API int64_t lnuma_monotonic_raw_ns(void);

/** CPU time the calling thread has used, in ns (CLOCK_THREAD_CPUTIME_ID; a
 *  system call, not a hot-path clock); -1 when the kernel has none.  Compared
 *  with elapsed time it tells how long a thread was off its CPU. */
LNUMA_API int64_t lnuma_thread_cpu_ns(void);

/** Sleeps ns nanoseconds (CLOCK_MONOTONIC, restarted after signals); ns <= 0
 *  returns at once.  Any thread. */
LNUMA_API void lnuma_sleep_ns(int64_t ns);

/** The kernel's current clocksource ("tsc", "kvm-clock", "hpet", ...) into
 *  out (cap bytes).  Returns 0, or -1 with errno when /sys does not say.
 *  Any thread. */
LNUMA_API int lnuma_kernel_clocksource(char *out, size_t cap, lnuma_error *err);

/** "tsc", "monotonic_raw", "cntvct" (or "auto"); NULL for an unknown value. */
LNUMA_API const char *lnuma_clock_source_name(int source);
/** "cpuid_15h", "hypervisor", "kernel", "cntfrq", "calibration", ... */
LNUMA_API const char *lnuma_clock_freq_method_name(int method);

/* ---- The hot path: inline, no call, no division, no floating point ------ */

#if (defined(__x86_64__) || defined(__aarch64__)) && defined(__GNUC__) &&         \
    defined(__SIZEOF_INT128__)
/** 1 where lnuma_clock_ticks() reads the counter (TSC, cntvct_el0) inline
 *  (x86-64 or arm64 with GCC or Clang); 0 where it falls back to
 *  lnuma_monotonic_raw_ns(). */
#define LNUMA_CLOCK_INLINE_COUNTER 1
#else
/** 1 where lnuma_clock_ticks() reads the counter (TSC, cntvct_el0) inline
 *  (x86-64 or arm64 with GCC or Clang); 0 where it falls back to
 *  lnuma_monotonic_raw_ns(). */
#define LNUMA_CLOCK_INLINE_COUNTER 0
#endif

/* The fields that change after init are read with atomic loads (plain
 * loads on x86-64; no fences, which ThreadSanitizer cannot follow) so that
 * a concurrent publisher is no data race; without GNU C's __atomic
 * builtins, plain loads. */
/** @cond internal (not part of the API: Doxygen leaves it out) */
#if defined(__GNUC__)
#define LNUMA__LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define LNUMA__LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#else
#define LNUMA__LOAD(p) (*(p))
#define LNUMA__LOAD_ACQ(p) (*(p))
#endif
/** @endcond */

/** The current ticks-to-ns multiplier (see lnuma_clock.mult).  Any thread. */
static inline uint64_t lnuma_clock_mult(const lnuma_clock *c) { return LNUMA__LOAD(&c->mult); }

static inline uint64_t lnuma__clock_scale(uint64_t mult, uint64_t ticks) {
#if defined(__SIZEOF_INT128__)
  return (uint64_t)(((unsigned __int128)ticks * mult) >> LNUMA_CLOCK_SHIFT);
#else
  /* Exact as long as mult < 2^32 (counters of 1 GHz or more, and ns). */
  return (ticks >> 32) * mult + (((ticks & 0xffffffffu) * mult) >> 32);
#endif
}

/** Ticks to nanoseconds (a duration: no offset).  Any thread. */
static inline uint64_t lnuma_clock_to_ns(const lnuma_clock *c, uint64_t ticks) {
  return lnuma__clock_scale(lnuma_clock_mult(c), ticks);
}

#if LNUMA_CLOCK_INLINE_COUNTER && defined(__x86_64__)
static inline uint64_t lnuma__rdtsc(void) {
  uint32_t lo, hi;
  __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}
#elif LNUMA_CLOCK_INLINE_COUNTER && defined(__aarch64__)
static inline uint64_t lnuma__cntvct(void) {
  uint64_t v;
  __asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(v));
  return v;
}
#endif

/** The raw counter (ticks at clock->hz).  Any thread. */
static inline uint64_t lnuma_clock_ticks(const lnuma_clock *c) {
#if LNUMA_CLOCK_INLINE_COUNTER && defined(__x86_64__)
  if (c->source == LNUMA_CLOCK_TSC) return lnuma__rdtsc();
#elif LNUMA_CLOCK_INLINE_COUNTER && defined(__aarch64__)
  if (c->source == LNUMA_CLOCK_CNTVCT) return lnuma__cntvct();
#else
  (void)c;
#endif
  return (uint64_t)lnuma_monotonic_raw_ns();
}

/** now() for ticks read from c's counter: the conversion read under the
 *  sequence lock, so a concurrent recalibration is seen whole or not at all
 *  (the loop repeats only while a writer publishes).  Ticks from before
 *  base_ticks -- read, then the thread preempted while a new conversion
 *  was published -- give offset_ns, the time of that publication: a moment
 *  within the call, and never earlier than what the old conversion gave
 *  (extrapolating back at the new rate could be).  Any thread. */
static inline int64_t lnuma_clock_ticks_to_now(const lnuma_clock *c, uint64_t ticks) {
  uint32_t s;
  uint64_t mult, base;
  int64_t off;
  /* Acquire loads keep the second read of seq after the fields. */
  do {
    s = LNUMA__LOAD_ACQ(&c->seq);
    mult = LNUMA__LOAD_ACQ(&c->mult);
    base = LNUMA__LOAD_ACQ(&c->base_ticks);
    off = LNUMA__LOAD_ACQ(&c->offset_ns);
  } while ((s & 1u) != 0 || s != LNUMA__LOAD(&c->seq));
  int64_t d = (int64_t)(ticks - base);
  return off + (d < 0 ? 0 : (int64_t)lnuma__clock_scale(mult, (uint64_t)d));
}

/** Nanoseconds on the CLOCK_MONOTONIC_RAW time line, from the counter.
 *  Monotonic, also across a background recalibration, which slews rather
 *  than steps (lnuma/clock_sync.h).  Any thread. */
static inline int64_t lnuma_clock_now(const lnuma_clock *c) {
  return lnuma_clock_ticks_to_now(c, lnuma_clock_ticks(c));
}

/** Ticks, read after every earlier instruction has completed (lfence;rdtsc
 *  on x86-64, isb;mrs on arm64): call it right before a timed region. */
static inline uint64_t lnuma_clock_start(const lnuma_clock *c) {
#if LNUMA_CLOCK_INLINE_COUNTER && defined(__x86_64__)
  if (c->source == LNUMA_CLOCK_TSC) {
    uint32_t lo, hi;
    __asm__ __volatile__("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
  }
#elif LNUMA_CLOCK_INLINE_COUNTER && defined(__aarch64__)
  if (c->source == LNUMA_CLOCK_CNTVCT) {
    uint64_t v;
    __asm__ __volatile__("isb\n\tmrs %0, cntvct_el0" : "=r"(v) : : "memory");
    return v;
  }
#endif
  return lnuma_clock_ticks(c);
}

/** Ticks, read after the timed region has completed and before anything
 *  later starts (rdtscp;lfence, or lfence;rdtsc;lfence without RDTSCP;
 *  isb;mrs;isb on arm64): call it right after a timed region. */
static inline uint64_t lnuma_clock_stop(const lnuma_clock *c) {
#if LNUMA_CLOCK_INLINE_COUNTER && defined(__x86_64__)
  if (c->source == LNUMA_CLOCK_TSC) {
    uint32_t lo, hi;
    /* RDTSCP reads once every earlier instruction has executed and earlier
     * loads are visible; LFENCE before RDTSC gives exactly that (Intel SDM,
     * RDTSC; on AMD, LFENCE is dispatch-serializing as start() also needs).
     * The trailing LFENCE keeps later work out of the region either way.
     * The branch is on a field fixed at init, so it is always predicted. */
    if (c->has_rdtscp) {
      uint32_t aux;
      __asm__ __volatile__("rdtscp\n\tlfence" : "=a"(lo), "=d"(hi), "=c"(aux) : : "memory");
      (void)aux;
    } else {
      __asm__ __volatile__("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi) : : "memory");
    }
    return ((uint64_t)hi << 32) | lo;
  }
#elif LNUMA_CLOCK_INLINE_COUNTER && defined(__aarch64__)
  if (c->source == LNUMA_CLOCK_CNTVCT) {
    uint64_t v;
    __asm__ __volatile__("isb\n\tmrs %0, cntvct_el0\n\tisb" : "=r"(v) : : "memory");
    return v;
  }
#endif
  return lnuma_clock_ticks(c);
}

#ifdef __cplusplus
}
#endif

#endif
