/* The loop every bandwidth kernel shares (private to the kernel files).
 *
 * A kernel is written as STEP(off, k): the work on the 64-byte line at byte
 * offset off of each array, with k (0..3) naming an independent accumulator.
 * The loop walks four 4 KiB pages at a time, one line of each page in turn
 * (as glibc's large memcpy does): the hardware prefetchers then follow four
 * streams instead of one, which a single core needs to keep enough misses in
 * flight (measured: +15% read, +25% non-temporal copy on one core).  The
 * tail (arrays are a multiple of LNUMA_KERNEL_GRANULE, 512 bytes) is walked
 * four lines at a time. */
#ifndef LNUMA_KERNELS_LOOP_H
#define LNUMA_KERNELS_LOOP_H

#define LNUMA__KPAGE 4096
#define LNUMA__KGROUP (4 * LNUMA__KPAGE)

#define LNUMA__KLOOP(bytes, STEP)                                                        \
  do {                                                                                   \
    size_t g_ = 0;                                                                       \
    for (; g_ + LNUMA__KGROUP <= (bytes); g_ += LNUMA__KGROUP)                           \
      for (size_t i_ = 0; i_ < LNUMA__KPAGE; i_ += 64) {                                 \
        STEP(g_ + i_, 0);                                                                \
        STEP(g_ + LNUMA__KPAGE + i_, 1);                                                 \
        STEP(g_ + 2 * LNUMA__KPAGE + i_, 2);                                             \
        STEP(g_ + 3 * LNUMA__KPAGE + i_, 3);                                             \
      }                                                                                  \
    for (; g_ < (bytes); g_ += 256) {                                                    \
      STEP(g_, 0);                                                                       \
      STEP(g_ + 64, 1);                                                                  \
      STEP(g_ + 128, 2);                                                                 \
      STEP(g_ + 192, 3);                                                                 \
    }                                                                                    \
  } while (0)

#endif
