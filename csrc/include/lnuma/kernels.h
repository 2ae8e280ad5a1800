/** @file
 * lnuma/kernels.h -- memory benchmark kernels and the worker team that runs
 * them: a dependent pointer chase (latency), streaming kernels (bandwidth:
 * read, write, write_nt, copy, copy_nt, triad), a cache line bounced between
 * two CPUs (core-to-core latency) and a chaser under load (loaded latency).
 *
 * Kernels run on pthreads pinned to the CPUs the caller names; every thread
 * records where it actually ran.  The caller owns the memory (typically an
 * lnuma buffer with a verified placement) and passes it in; nothing here
 * allocates the memory that is measured.  Timed regions read the caller's
 * lnuma clock (lnuma/clock.h; NULL: CLOCK_MONOTONIC_RAW).  Vector variants (SSE2, AVX2,
 * AVX-512) are chosen at run time from the CPU's features, so one build runs
 * on any x86-64.  Included by lnuma.h.
 */
#ifndef LNUMA_KERNELS_H
#define LNUMA_KERNELS_H

#include "../lnuma.h"
#include "clock.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Instruction sets ------------------------------------------------------ */

/** Instruction-set variants of the bandwidth kernels. */
typedef enum lnuma_isa {
  LNUMA_ISA_AUTO = 0, /**< the best one this CPU supports */
  LNUMA_ISA_C,        /**< portable C (what the compiler makes of it) */
  LNUMA_ISA_SSE2,     /**< 128-bit, x86-64 baseline */
  LNUMA_ISA_AVX2,     /**< 256-bit */
  LNUMA_ISA_AVX512,   /**< 512-bit (AVX-512F) */
  LNUMA_ISA_COUNT
} lnuma_isa;

/** Name of an ISA ("auto", "c", "sse2", "avx2", "avx512"); NULL when out of
 *  range.  Any thread. */
LNUMA_API const char *lnuma_isa_name(int isa);
/** The ISA with this name, or -1.  Any thread. */
LNUMA_API int lnuma_isa_from_name(const char *name);
/** 1 when this CPU (and this build) can run the ISA.  Any thread. */
LNUMA_API int lnuma_isa_supported(int isa);
/** The ISA that LNUMA_ISA_AUTO resolves to on this CPU.  Any thread. */
LNUMA_API int lnuma_isa_best(void);

/* ---- Bandwidth kernels ------------------------------------------------------ */

/** The streaming kernels.  Bytes are counted as STREAM counts them: every
 *  array read or written once per pass, without write-allocate traffic. */
typedef enum lnuma_kernel {
  LNUMA_KERNEL_READ = 0, /**< sum of a (1 array read) */
  LNUMA_KERNEL_WRITE,    /**< a = constant (1 array written) */
  LNUMA_KERNEL_WRITE_NT, /**< the same with non-temporal stores */
  LNUMA_KERNEL_COPY,     /**< a = b (1 read, 1 written) */
  LNUMA_KERNEL_COPY_NT,  /**< the same with non-temporal stores */
  LNUMA_KERNEL_TRIAD,    /**< a = b + s * c over doubles (2 read, 1 written) */
  LNUMA_KERNEL_COUNT
} lnuma_kernel;

/** Name of a kernel ("read", "write", "write_nt", "copy", "copy_nt",
 *  "triad"); NULL when out of range.  Any thread. */
LNUMA_API const char *lnuma_kernel_name(int kernel);
/** The kernel with this name, or -1.  Any thread. */
LNUMA_API int lnuma_kernel_from_name(const char *name);
/** How many arrays a kernel streams (1, 2 or 3).  Any thread. */
LNUMA_API int lnuma_kernel_arrays(int kernel);

/** How a kernel walks its arrays.  Which is faster depends on the processor
 *  and the kernel; AUTO takes the choice measured for this CPU's vendor. */
typedef enum lnuma_order {
  LNUMA_ORDER_AUTO = 0, /**< the measured best for this vendor and kernel */
  LNUMA_ORDER_LINEAR,   /**< front to back, one stream per array (STREAM, likwid) */
  LNUMA_ORDER_SPLIT,    /**< the four quarters of each array side by side:
                             four long streams per array */
  LNUMA_ORDER_PAGES,    /**< four 4 KiB pages at a time, a line of each in turn:
                             four prefetch streams per array */
  LNUMA_ORDER_COUNT
} lnuma_order;

/** Name of an order ("auto", "linear", "split", "pages"); NULL when out of
 *  range. */
LNUMA_API const char *lnuma_order_name(int order);
/** The order with this name, or -1. */
LNUMA_API int lnuma_order_from_name(const char *name);
/** The order AUTO resolves to for a kernel on this CPU. */
LNUMA_API int lnuma_order_best(int kernel);

/** Granule of array lengths: every array passed to a kernel is a multiple of
 *  this many bytes and 64-byte aligned. */
#define LNUMA_KERNEL_GRANULE 512

/**
 * Runs one pass of a kernel over arrays of `bytes` bytes each (a multiple of
 * LNUMA_KERNEL_GRANULE, each 64-byte aligned): a is written (or read, for
 * "read"), b and c are read (b for copy, b and c for triad).  Returns a value
 * computed from the data (the sum for "read", 0 otherwise) so that the work
 * cannot be optimised away.  The bytes it moves are bytes *
 * lnuma_kernel_arrays(kernel).  isa must be supported (see
 * lnuma_isa_supported); AUTO picks the best.  Any thread.
 */
LNUMA_API uint64_t lnuma_kernel_pass(int kernel, int isa, void *a, const void *b,
                                     const void *c, size_t bytes, double scalar);

/* ---- The worker team ---------------------------------------------------------- */

/** Where one thread of a team was asked to run and where it did run. */
typedef struct lnuma_team_thread {
  int cpu_asked;  /**< the CPU it was pinned to */
  int cpu_start;  /**< getcpu() after pinning, before the work */
  int cpu_end;    /**< getcpu() after the work */
  int node;       /**< the node of cpu_end */
  int migrated;   /**< 1 when cpu_start or cpu_end differ from cpu_asked */
} lnuma_team_thread;

/** A running worker team (opaque): what each thread's lnuma_team_fn receives,
 *  for lnuma_team_sync() and lnuma_team_size(). */
typedef struct lnuma_team lnuma_team;

/** The work of one thread: index is 0..n-1, in the order of the CPUs. */
typedef void (*lnuma_team_fn)(lnuma_team *team, int index, void *arg);

/** Most threads a team can have. */
#define LNUMA_TEAM_MAX 4096

/**
 * Runs fn on n threads, thread i pinned to cpus[i] (lnuma_bind_cpus), and
 * waits for all of them.  If any thread cannot be pinned, none runs fn and
 * the call fails with that thread's error.  threads (n entries, may be NULL)
 * receives where each thread ran.  Any thread; blocks until the team is done.
 */
LNUMA_API int lnuma_team_run(int n, const int *cpus, lnuma_team_fn fn, void *arg,
                             lnuma_team_thread *threads, lnuma_error *err);

/** Waits until every thread of the team has called it (a barrier).  Only
 *  from inside a team function. */
LNUMA_API void lnuma_team_sync(lnuma_team *team);

/** The number of threads of the team.  Only from inside a team function. */
LNUMA_API int lnuma_team_size(const lnuma_team *team);

/* ---- Bandwidth measurement ------------------------------------------------------ */

/** What lnuma_bw_measure does. */
typedef struct lnuma_bw_params {
  int kernel;             /**< lnuma_kernel */
  int isa;                /**< lnuma_isa; AUTO for the best */
  void *mem;              /**< the memory, 64-byte aligned; each thread's arrays,
                               from 16 KiB each, are whole pages from its first
                               page boundary (the bytes before it, off a page,
                               are neither walked nor counted) */
  size_t size;            /**< its size in bytes */
  int nthreads;           /**< 1..LNUMA_TEAM_MAX */
  const int *cpus;        /**< nthreads CPUs, thread i pinned to cpus[i] */
  int repetitions;        /**< timed repetitions (>= 1) */
  uint64_t min_time_ns;   /**< each repetition lasts at least this long */
  int first_touch;        /**< 1: each thread writes its own part first */
  double scalar;          /**< s of triad */
  const lnuma_clock *clock; /**< times the work (NULL: CLOCK_MONOTONIC_RAW);
                                 read-only while the measurement runs */
  int order;              /**< lnuma_order; AUTO (0) for this CPU's best */
  int trials;             /**< order AUTO: rounds in which every walk order runs in
                               turn on these threads and this memory before the
                               timed repetitions, and the fastest (median over the
                               rounds) is then measured; 0: the vendor's table
                               (lnuma_order_best), no trial */
} lnuma_bw_params;

/** The walk orders a trial tries (LINEAR, SPLIT, PAGES). */
#define LNUMA_BW_WALKS 3
/** Most trial rounds (lnuma_bw_params.trials). */
#define LNUMA_BW_TRIALS_MAX 15

/** What lnuma_bw_measure found.  The arrays are the caller's. */
typedef struct lnuma_bw_result {
  int isa;                /**< the ISA that ran */
  int order;              /**< the walk order that ran (never AUTO) */
  uint64_t passes;        /**< kernel passes per repetition per thread */
  size_t thread_bytes;    /**< bytes one thread moves per pass (counted) */
  size_t bytes;           /**< bytes all threads move per repetition */
  uint64_t *rep_ns;       /**< [repetitions * nthreads]: thread t, repetition r
                               at rep_ns[r * nthreads + t] */
  uint64_t *span_ns;      /**< [repetitions] (may be NULL): from the first
                               thread's start to the last thread's end */
  lnuma_team_thread *threads; /**< [nthreads] */
  uint64_t *trial_ns;     /**< [trials * LNUMA_BW_WALKS] (may be NULL when trials is
                               0): the span of round t of order LINEAR + w at
                               trial_ns[t * LNUMA_BW_WALKS + w] */
  size_t trial_bytes;     /**< bytes all threads move in one trial */
} lnuma_bw_result;

/**
 * Measures the bandwidth of a kernel: nthreads pinned threads each take an
 * equal part of mem (rounded down to the granule per array), optionally
 * first-touch it, run one warm-up pass, then (order AUTO with trials) the
 * trial rounds, every walk order in turn for about a quarter of min_time in
 * all, and take the order with the shortest median span, then `repetitions`
 * timed rounds of `passes` passes (scaled so that a round lasts
 * min_time_ns), started together on a barrier.  The bandwidth of round r is result->bytes over
 * span_ns[r], the time from the first thread's start to the last thread's
 * end (the slowest thread's time when they start together; honest too when
 * the scheduler delays one).  -1 with EINVAL when the memory is too
 * small for the threads, ENOTSUP for an ISA this CPU lacks.
 */
LNUMA_API int lnuma_bw_measure(const lnuma_bw_params *p, lnuma_bw_result *r,
                               lnuma_error *err);

/* ---- Pointer chase (latency) ---------------------------------------------------- */

/** Bytes of the blocks (a 4 KiB page) the RANDOM pattern groups its loads by. */
#define LNUMA_CHASE_BLOCK 4096

/** Orders of the chase. */
typedef enum lnuma_chase_pattern {
  /** The buffer as LNUMA_CHASE_BLOCK-byte blocks of pairs of adjacent lines.
   *  The cycle passes through all blocks twice, each pass in its own random
   *  block order; a visit makes one load per pair (block / line / 2 loads,
   *  32 with 64-byte lines), one line of each pair, the pairs in random
   *  order, and the second visit takes the other line of each pair.  Every
   *  line once per cycle; one TLB miss per 32 loads at most; the two lines
   *  of a pair half a cycle apart (no help from adjacent-line prefetch).
   *  Bytes past the last whole block are not visited; with fewer than two
   *  blocks, or fewer than four lines a block, this is UNIFORM. */
  LNUMA_CHASE_RANDOM = 0,
  /** One random cycle (Sattolo) over all lines: a TLB miss per load once
   *  the buffer exceeds the TLB's reach (shows what huge pages save). */
  LNUMA_CHASE_UNIFORM,
  /** Line after line, what prefetchers make fast. */
  LNUMA_CHASE_SEQUENTIAL,
  /** Every stride-th line, then the next residue, until all are visited. */
  LNUMA_CHASE_STRIDE,
  LNUMA_CHASE_COUNT
} lnuma_chase_pattern;

/** Name of a pattern ("random", "uniform", "sequential", "stride"); NULL
 *  when out of range.  Any thread. */
LNUMA_API const char *lnuma_chase_pattern_name(int pattern);
/** The pattern with this name, or -1.  Any thread. */
LNUMA_API int lnuma_chase_pattern_from_name(const char *name);

/** How to lay out a chase. */
typedef struct lnuma_chase_params {
  size_t line;            /**< slot size, a power of two >= 8 (0: 64) */
  int pattern;            /**< lnuma_chase_pattern */
  size_t stride;          /**< bytes between visited slots (STRIDE only) */
  uint64_t seed;          /**< random orders are reproducible from it */
} lnuma_chase_params;

/**
 * Writes a chase into mem: every slot used holds the address of the next one,
 * and all of them form one cycle that starts and ends at mem.  Returns the
 * number of slots in the cycle, or 0 with EINVAL (mem smaller than two slots,
 * bad line or stride).  One thread per buffer.
 */
LNUMA_API size_t lnuma_chase_init(void *mem, size_t size, const lnuma_chase_params *p,
                                  lnuma_error *err);

/**
 * Follows the chase from mem and writes the slot index (offset / line) of
 * each step into order (at most cap entries), until it returns to mem.
 * Returns the length of the cycle, or 0 with EINVAL when the chase leaves the
 * buffer, is misaligned or visits a slot twice before closing.  For tests:
 * a correct chase visits every slot once per cycle.  One thread per buffer.
 */
LNUMA_API size_t lnuma_chase_walk(const void *mem, size_t size, size_t line,
                                  size_t *order, size_t cap, lnuma_error *err);

/**
 * Follows the chase for n dependent loads from *pos (mem at first) and stores
 * where it stopped back in *pos.  Any thread.
 */
LNUMA_API void lnuma_chase_run(void **pos, uint64_t n);

/** What lnuma_latency_measure does. */
typedef struct lnuma_latency_params {
  void *mem;              /**< the memory */
  size_t size;            /**< its size */
  lnuma_chase_params chase; /**< layout; the chase is written by the pinned
                                 thread (its first touch) */
  int cpu;                /**< the CPU of the chasing thread */
  int repetitions;        /**< timed repetitions (>= 1) */
  uint64_t min_time_ns;   /**< each repetition lasts at least this long */
  int chunks;             /**< timed chunks per repetition (>= 1) */
  const lnuma_clock *clock; /**< times the work (NULL: CLOCK_MONOTONIC_RAW);
                                 read-only while the measurement runs */
} lnuma_latency_params;

/** What lnuma_latency_measure found.  The arrays are the caller's. */
typedef struct lnuma_latency_result {
  size_t slots;           /**< slots in the cycle */
  uint64_t chunk_loads;   /**< loads per chunk */
  uint64_t *rep_ns;       /**< [repetitions] time of each repetition (its chunks') */
  uint64_t *chunk_ns;     /**< [repetitions * chunks] time of each chunk */
  unsigned char *chunk_switched; /**< [repetitions * chunks] or NULL: 1 where the
                                      thread was switched out (another task ran
                                      on its CPU) during the chunk */
  lnuma_team_thread thread; /**< where the chasing thread was asked to run and ran */
} lnuma_latency_result;

/**
 * Measures load-to-use latency: a thread pinned to cpu writes the chase,
 * follows it once around (warm-up), then times repetitions of
 * chunks * chunk_loads dependent loads (chunk_loads scaled, from the fastest
 * of several short timed runs, so that an undisturbed repetition lasts
 * min_time_ns).  ns per load = rep_ns / (chunks * chunk_loads), or per chunk
 * chunk_ns / chunk_loads.
 */
LNUMA_API int lnuma_latency_measure(const lnuma_latency_params *p,
                                    lnuma_latency_result *r, lnuma_error *err);

/* ---- Loaded latency --------------------------------------------------------------- */

/** The traffic of a loaded-latency measurement (what MLC's -R and -W offer). */
typedef enum lnuma_traffic {
  LNUMA_TRAFFIC_READ = 0, /**< "read": sum of a (1 read) */
  LNUMA_TRAFFIC_RW2_1,    /**< "rw2:1": a += b in place (2 reads : 1 write) */
  LNUMA_TRAFFIC_RW1_1,    /**< "rw1:1": a += 1 in place (1 read : 1 write) */
  LNUMA_TRAFFIC_WRITE,    /**< "write": a = s (1 write; memory also reads each line
                               before it is written: write-allocate) */
  LNUMA_TRAFFIC_WRITE_NT, /**< "write_nt": a = s with non-temporal stores (1 write) */
  LNUMA_TRAFFIC_COPY,     /**< "copy": a = b (1 read, 1 write, plus write-allocate) */
  LNUMA_TRAFFIC_COUNT
} lnuma_traffic;

/** What a traffic type moves per pass over arrays of `bytes` bytes each:
 *  counted bytes are (reads + writes) * bytes, the loads and stores the
 *  program issues (STREAM's counting).  Stores to lines not read first
 *  (write_allocate) make memory read each line too, uncounted: memory moves
 *  (reads + 2 * writes) * bytes for those. */
typedef struct lnuma_traffic_info {
  const char *name;   /**< "read", "rw2:1", "rw1:1", "write", "write_nt", "copy" */
  int arrays;         /**< arrays streamed (1 or 2) */
  int reads;          /**< array reads per pass */
  int writes;         /**< array writes per pass */
  int write_allocate; /**< 1: its stores make the cache read the line first */
  int nontemporal;    /**< 1: non-temporal stores (where the ISA has them) */
} lnuma_traffic_info;

/** The facts of a traffic type; NULL when out of range.  Any thread. */
LNUMA_API const lnuma_traffic_info *lnuma_traffic_get(int traffic);
/** The traffic type with this name, or -1.  Any thread. */
LNUMA_API int lnuma_traffic_from_name(const char *name);

/** Bytes each traffic thread streams per array between two delays. */
#define LNUMA_LOADED_CHUNK 4096

/** Most chase chunks sampled per step for the percentiles. */
#define LNUMA_LOADED_SAMPLES 4096

/** What lnuma_loaded_measure does. */
typedef struct lnuma_loaded_params {
  void *chase_mem;        /**< the chaser's memory */
  size_t chase_size;      /**< bytes of chase_mem */
  lnuma_chase_params chase; /**< layout of the chase in chase_mem */
  void *traffic_mem;      /**< split among the traffic threads, 64-byte aligned */
  size_t traffic_size;    /**< bytes of traffic_mem */
  int nthreads;           /**< 2..LNUMA_TEAM_MAX: one chaser + traffic */
  const int *cpus;        /**< cpus[0] chases, the others make traffic */
  int traffic;            /**< lnuma_traffic */
  int isa;                /**< lnuma_isa of the traffic; AUTO for the best */
  int nsteps;             /**< steps, run in this order (1..1000000) */
  const uint64_t *delays_ns; /**< [nsteps] pause of each traffic thread after each
                                  chunk, in ns (0: none), each below step_ns */
  uint64_t step_ns;       /**< how long the chaser measures each step (>= 1 us) */
  const lnuma_clock *clock; /**< times the work and the delays (NULL:
                                 CLOCK_MONOTONIC_RAW); read-only meanwhile */
} lnuma_loaded_params;

/** One step: the chaser's latency while the traffic threads streamed with
 *  one delay.  Both sides are measured over the same window: the traffic
 *  threads count from the moment they see the chaser start to the moment
 *  they see it stop. */
typedef struct lnuma_loaded_step {
  uint64_t delay_ns;        /**< the delay asked */
  uint64_t chase_loads;     /**< dependent loads in the window */
  uint64_t chase_ns;        /**< the chaser's window */
  uint64_t chase_offcpu_ns; /**< of it, time the chaser was not running (0 when
                                 the thread CPU clock is missing) */
  double latency_ns;        /**< chase_ns / chase_loads */
  double chunk_p50_ns;      /**< median ns per load of the timed chunks */
  double chunk_p99_ns;      /**< 99th percentile of the same */
  uint64_t chunks;          /**< chunks timed (at most LNUMA_LOADED_SAMPLES
                                 sampled evenly for the percentiles) */
  uint64_t traffic_bytes;   /**< counted bytes of all traffic threads */
  double traffic_gbps;      /**< sum over traffic threads of bytes / their window */
  uint64_t traffic_chunks;  /**< chunks all traffic threads streamed */
  uint64_t delay_total_ns;  /**< time all traffic threads spent pausing (over
                                 traffic_chunks: the mean pause, preemptions
                                 included) */
  uint64_t delay_p50_ns;    /**< the median pause of a chunk (the largest of the
                                 traffic threads' medians); never below the
                                 delay asked */
  uint64_t traffic_offcpu_ns; /**< time the traffic thread that was off its CPU
                                   the largest part of its window was off it */
  uint64_t traffic_ns;      /**< that thread's window */
} lnuma_loaded_step;

/** What lnuma_loaded_measure found.  The arrays are the caller's. */
typedef struct lnuma_loaded_result {
  int isa;                    /**< the ISA the traffic ran with */
  size_t slots;               /**< slots in the chase */
  size_t chunk_bytes;         /**< counted bytes one traffic chunk moves */
  lnuma_loaded_step *steps;   /**< [nsteps] */
  lnuma_team_thread *threads; /**< [nthreads], may be NULL */
} lnuma_loaded_result;

/**
 * Latency under load (MLC's loaded-latency curve): thread 0 writes the chase
 * into chase_mem and follows it, the others first touch their part of
 * traffic_mem and stream it with the traffic type, LNUMA_LOADED_CHUNK bytes
 * per array at a time, pausing delays_ns[s] after each chunk (a spin on the
 * clock, so the pause is a time, whatever the CPU's frequency).  For each
 * step, in order, the chaser waits until every traffic thread streams, then
 * times chunks of dependent loads for step_ns.  -1 with EINVAL for bad
 * parameters (named in the message), ENOTSUP for an ISA this CPU lacks.
 */
LNUMA_API int lnuma_loaded_measure(const lnuma_loaded_params *p, lnuma_loaded_result *r,
                                   lnuma_error *err);

/* ---- Core to core ------------------------------------------------------------------- */

/** How the line changes hands. */
typedef enum lnuma_c2c_mode {
  LNUMA_C2C_PINGPONG = 0, /**< load until the partner's store shows, then store */
  LNUMA_C2C_CAS,          /**< compare-and-swap from the partner's value to ours, spinning
                               until it succeeds (what a lock handoff costs) */
  LNUMA_C2C_MODE_COUNT
} lnuma_c2c_mode;

/** Name of a mode ("pingpong", "cas"); NULL when out of range.  Any thread. */
LNUMA_API const char *lnuma_c2c_mode_name(int mode);
/** The mode with this name, or -1.  Any thread. */
LNUMA_API int lnuma_c2c_mode_from_name(const char *name);

/** Bytes from one line to the next: each 64-byte line sits alone on its own
 *  128-byte pair, so the adjacent-line prefetcher never couples two. */
#define LNUMA_C2C_LINE_STRIDE 128

/** Rounds of a round-robin tournament over n players (n - 1 for even n, n
 *  for odd n); each round is a set of disjoint pairs.  Any thread. */
LNUMA_API int lnuma_c2c_rounds(int n);

/** The pair partner of player i in round r of the tournament, or -1 when
 *  i sits out that round (odd n).  Any thread. */
LNUMA_API int lnuma_c2c_partner(int n, int round, int i);

/** Pairs of n players: n (n - 1) / 2.  Any thread. */
LNUMA_API int64_t lnuma_c2c_pairs(int n);

/** Index of the pair {a, b} (either order) among the pairs of n players,
 *  ordered (0,1), (0,2) ... (0,n-1), (1,2) ...; -1 when a == b or either is
 *  out of range.  Any thread. */
LNUMA_API int64_t lnuma_c2c_pair_index(int n, int a, int b);

/** The line (index; its offset is line * LNUMA_C2C_LINE_STRIDE) that the pair
 *  {a, b} uses in sample s of a measurement with `samples` samples: a
 *  different one for every (pair, sample), never shared.  -1 when out of
 *  range.  Any thread. */
LNUMA_API int64_t lnuma_c2c_line(int n, int samples, int a, int b, int sample);

/** Bytes of memory lnuma_c2c_measure needs for n CPUs and `samples` samples
 *  (one line per pair and sample); 0 when n or samples is out of range or
 *  the size does not fit a size_t.  Any thread. */
LNUMA_API size_t lnuma_c2c_memory(int n, int samples);

/** What to measure. */
typedef struct lnuma_c2c_params {
  void *mem;              /**< the lines: LNUMA_C2C_LINE_STRIDE-aligned, written */
  size_t size;            /**< at least lnuma_c2c_memory(n, samples) bytes */
  int n;                  /**< CPUs, 2 to LNUMA_TEAM_MAX */
  const int *cpus;        /**< [n], all different */
  int mode;               /**< lnuma_c2c_mode */
  int samples;            /**< timed samples per pair, >= 1 */
  uint64_t roundtrips;    /**< round trips per sample, >= 1 */
  uint64_t warmup;        /**< untimed round trips on each line before the timed ones */
  const lnuma_clock *clock; /**< times the samples (NULL: CLOCK_MONOTONIC_RAW) */
} lnuma_c2c_params;

/** Where the measurement writes; the caller provides the arrays. */
typedef struct lnuma_c2c_result {
  uint64_t *sample_ns;    /**< [pairs * samples]: ns of `roundtrips` round trips of pair k
                               (lnuma_c2c_pair_index) in sample s, at k * samples + s */
  uint64_t *line_offset;  /**< [pairs * samples] or NULL: the byte offset in mem of the line
                               each (pair, sample) used, as its thread recorded it */
  lnuma_team_thread *threads; /**< [n]: where each thread ran */
  int flushed;            /**< 1 when the lines were flushed out of every cache first */
} lnuma_c2c_result;

/**
 * Core-to-core latency: for every pair of the n CPUs, a cache line in mem
 * changes hands between the two (mode) `warmup` + `roundtrips` times per
 * sample; the last `roundtrips` are timed.  Disjoint pairs run at the same
 * time (a round-robin tournament, lnuma_c2c_partner), and the tournament
 * runs once per sample, so the time grows with n, not with n squared.
 * Every (pair, sample) has a line of its own (lnuma_c2c_line) that no other
 * pair touches; the lines are zeroed and flushed from the caches before the
 * run, so the pair is the first to own its line.  One-way latency is
 * sample_ns / roundtrips / 2.
 */
LNUMA_API int lnuma_c2c_measure(const lnuma_c2c_params *p, lnuma_c2c_result *r,
                                lnuma_error *err);

/* ---- Reporting support ------------------------------------------------------------ */

/** 1 when fd is a terminal (benchmarks show progress only then).  Any thread. */
LNUMA_API int lnuma_is_terminal(int fd);

#ifdef __cplusplus
}
#endif

#endif
