/* The loops every bandwidth kernel shares (private to the kernel files).
 *
 * A kernel is written as STEP(off, k): the work on the 64-byte line at byte
 * offset off of each array, with k (0..3) naming an independent accumulator.
 * Three walk orders (lnuma_order), chosen per call:
 *  - LINEAR walks each array front to back, four lines per iteration: one
 *    stream per array, as STREAM and likwid-bench walk;
 *  - SPLIT walks the four quarters of each array side by side, a line of
 *    each in turn: four long streams per array, so one core keeps more
 *    misses in flight than one stream's prefetcher asks for;
 *  - PAGES walks four 4 KiB pages at a time, one line of each page in turn
 *    (as glibc's large memcpy does): four streams per array that restart at
 *    every 16 KiB, since the hardware prefetchers stop at a 4 KiB page.
 * Which is faster depends on the processor and the kernel (spec/bench/
 * bandwidth.lua measures every order); lnuma_order_best holds the choice.
 * Arrays are a multiple of LNUMA_KERNEL_GRANULE (512 bytes): the PAGES tail
 * is walked linearly. */
#ifndef LNUMA_KERNELS_LOOP_H
#define LNUMA_KERNELS_LOOP_H

#define LNUMA__KPAGE 4096
#define LNUMA__KGROUP (4 * LNUMA__KPAGE)

#define LNUMA__KLOOP(order, bytes, STEP)                                                 \
  do {                                                                                   \
    size_t g_ = 0;                                                                       \
    if ((order) == LNUMA_ORDER_SPLIT) {                                                  \
      size_t q_ = (bytes) / 4; /* bytes is a multiple of 512: q_ of 128 */               \
      for (; g_ < q_; g_ += 64) {                                                        \
        STEP(g_, 0);                                                                     \
        STEP(q_ + g_, 1);                                                                \
        STEP(2 * q_ + g_, 2);                                                            \
        STEP(3 * q_ + g_, 3);                                                            \
      }                                                                                  \
      g_ = (bytes);                                                                      \
    }                                                                                    \
    if ((order) == LNUMA_ORDER_PAGES)                                                    \
      for (; g_ + LNUMA__KGROUP <= (bytes); g_ += LNUMA__KGROUP)                         \
        for (size_t i_ = 0; i_ < LNUMA__KPAGE; i_ += 64) {                               \
          STEP(g_ + i_, 0);                                                              \
          STEP(g_ + LNUMA__KPAGE + i_, 1);                                               \
          STEP(g_ + 2 * LNUMA__KPAGE + i_, 2);                                           \
          STEP(g_ + 3 * LNUMA__KPAGE + i_, 3);                                           \
        }                                                                                \
    for (; g_ < (bytes); g_ += 256) {                                                    \
      STEP(g_, 0);                                                                       \
      STEP(g_ + 64, 1);                                                                  \
      STEP(g_ + 128, 2);                                                                 \
      STEP(g_ + 192, 3);                                                                 \
    }                                                                                    \
  } while (0)

/* A kernel body is written once as `static inline ... NAME(int order, a, b,
 * c, bytes, s)`; this makes the three entry points the tables hold, each
 * with the order fixed so the compiler drops the other loops. */
#define LNUMA__KORDERS(ATTR, NAME)                                                       \
  ATTR static uint64_t NAME##_linear(void *a, const void *b, const void *c, size_t n,   \
                                     double s) {                                         \
    return NAME(LNUMA_ORDER_LINEAR, a, b, c, n, s);                                      \
  }                                                                                      \
  ATTR static uint64_t NAME##_split(void *a, const void *b, const void *c, size_t n,    \
                                    double s) {                                          \
    return NAME(LNUMA_ORDER_SPLIT, a, b, c, n, s);                                       \
  }                                                                                      \
  ATTR static uint64_t NAME##_pages(void *a, const void *b, const void *c, size_t n,    \
                                    double s) {                                          \
    return NAME(LNUMA_ORDER_PAGES, a, b, c, n, s);                                       \
  }

/* The table of one ISA: [order - 1][kernel]. */
#define LNUMA__KTABLE_ROW(SUF, R, W, WN, CP, CPN, TR)                                   \
  {                                                                                      \
    [LNUMA_KERNEL_READ] = R##SUF, [LNUMA_KERNEL_WRITE] = W##SUF,                         \
    [LNUMA_KERNEL_WRITE_NT] = WN##SUF, [LNUMA_KERNEL_COPY] = CP##SUF,                    \
    [LNUMA_KERNEL_COPY_NT] = CPN##SUF, [LNUMA_KERNEL_TRIAD] = TR##SUF                    \
  }
#define LNUMA__KTABLE(R, W, WN, CP, CPN, TR)                                             \
  {LNUMA__KTABLE_ROW(_linear, R, W, WN, CP, CPN, TR),                                    \
   LNUMA__KTABLE_ROW(_split, R, W, WN, CP, CPN, TR),                                     \
   LNUMA__KTABLE_ROW(_pages, R, W, WN, CP, CPN, TR)}

#endif
