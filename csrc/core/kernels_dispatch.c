/* Names and run-time dispatch of the bandwidth kernels, and the small shared
 * helpers of the kernel files: the clock they time with, first touch, delay. */
#include "optimize.h" /* first: the loops below are built -O3 */

#include <errno.h>
#include <string.h>

#include "kernels_internal.h"
#include "kernels_loop.h"

static const char *const isa_names[LNUMA_ISA_COUNT] = {"auto", "c", "sse2", "avx2", "avx512"};
static const char *const kernel_names[LNUMA_KERNEL_COUNT] = {
    "read", "write", "write_nt", "copy", "copy_nt", "triad"};
static const char *const order_names[LNUMA_ORDER_COUNT] = {"auto", "linear", "split",
                                                                 "pages"};
static const int kernel_arrays[LNUMA_KERNEL_COUNT] = {1, 1, 1, 2, 2, 3};

static int name_index(const char *const *names, int n, const char *name) {
  if (name == NULL) return -1;
  for (int i = 0; i < n; i++)
    if (strcmp(names[i], name) == 0) return i;
  return -1;
}

const char *lnuma_isa_name(int isa) {
  return isa >= 0 && isa < LNUMA_ISA_COUNT ? isa_names[isa] : NULL;
}

int lnuma_isa_from_name(const char *name) { return name_index(isa_names, LNUMA_ISA_COUNT, name); }

int lnuma_isa_supported(int isa) {
  switch (isa) {
  case LNUMA_ISA_AUTO:
  case LNUMA_ISA_C:
    return 1;
#if defined(__x86_64__)
  case LNUMA_ISA_SSE2:
    return 1;
  case LNUMA_ISA_AVX2:
    return __builtin_cpu_supports("avx2");
  case LNUMA_ISA_AVX512:
    return __builtin_cpu_supports("avx512f");
#endif
  default:
    return 0;
  }
}

int lnuma_isa_best(void) {
  for (int isa = LNUMA_ISA_COUNT - 1; isa > LNUMA_ISA_C; isa--)
    if (lnuma_isa_supported(isa)) return isa;
  return LNUMA_ISA_C;
}

const char *lnuma_kernel_name(int kernel) {
  return kernel >= 0 && kernel < LNUMA_KERNEL_COUNT ? kernel_names[kernel] : NULL;
}

int lnuma_kernel_from_name(const char *name) {
  return name_index(kernel_names, LNUMA_KERNEL_COUNT, name);
}

int lnuma_kernel_arrays(int kernel) {
  return kernel >= 0 && kernel < LNUMA_KERNEL_COUNT ? kernel_arrays[kernel] : 0;
}

const char *lnuma_order_name(int order) {
  return order >= 0 && order < LNUMA_ORDER_COUNT ? order_names[order] : NULL;
}

int lnuma_order_from_name(const char *name) {
  return name_index(order_names, LNUMA_ORDER_COUNT, name);
}

/* The walk order each kernel runs in by default, by vendor, as measured
 * each order against the others and against likwid-bench in the same run
 * (make bench BENCH=bandwidth prints every order of every kernel):
 *  - AMD (EPYC Zen 5 VM, 2026-12, 1 GB, AVX-512 and AVX2, 1 and 2
 *    threads): SPLIT for read (+5-50% over LINEAR), write (+5-17%), copy_nt
 *    and triad (first or a close second in every run); PAGES for write_nt
 *    (+8-40% over SPLIT); LINEAR for copy (SPLIT -6 to -12%).  Differences
 *    under ~10% changed sign between runs on that shared machine.
 *  - Intel (Xeon, 2026-11): PAGES for all (+15% read, +25% copy_nt on one
 *    core over LINEAR), which is also the default for other vendors. */
static const signed char amd_order[LNUMA_KERNEL_COUNT] = {
    [LNUMA_KERNEL_READ] = LNUMA_ORDER_SPLIT,    [LNUMA_KERNEL_WRITE] = LNUMA_ORDER_SPLIT,
    [LNUMA_KERNEL_WRITE_NT] = LNUMA_ORDER_PAGES, [LNUMA_KERNEL_COPY] = LNUMA_ORDER_LINEAR,
    [LNUMA_KERNEL_COPY_NT] = LNUMA_ORDER_SPLIT,  [LNUMA_KERNEL_TRIAD] = LNUMA_ORDER_SPLIT,
};

int lnuma_order_best(int kernel) {
  if (kernel < 0 || kernel >= LNUMA_KERNEL_COUNT) return LNUMA_ORDER_PAGES;
#if defined(__x86_64__)
  if (__builtin_cpu_is("amd")) return amd_order[kernel];
#endif
  return LNUMA_ORDER_PAGES;
}

lnuma__kfn lnuma__kernel_fn_order(int kernel, int isa, int order) {
  if (kernel < 0 || kernel >= LNUMA_KERNEL_COUNT) return NULL;
  if (order == LNUMA_ORDER_AUTO) order = lnuma_order_best(kernel);
  if (order <= LNUMA_ORDER_AUTO || order >= LNUMA_ORDER_COUNT) return NULL;
  if (isa == LNUMA_ISA_AUTO) isa = lnuma_isa_best();
  if (!lnuma_isa_supported(isa)) return NULL;
  int o = order - LNUMA_ORDER_LINEAR;
  switch (isa) {
  case LNUMA_ISA_C: return lnuma__kernels_c[o][kernel];
  case LNUMA_ISA_SSE2: return lnuma__kernels_sse2[o][kernel];
  case LNUMA_ISA_AVX2: return lnuma__kernels_avx2[o][kernel];
  case LNUMA_ISA_AVX512: return lnuma__kernels_avx512[o][kernel];
  default: return NULL;
  }
}

lnuma__kfn lnuma__kernel_fn(int kernel, int isa) {
  return lnuma__kernel_fn_order(kernel, isa, LNUMA_ORDER_AUTO);
}

uint64_t lnuma_kernel_pass(int kernel, int isa, void *a, const void *b, const void *c,
                           size_t bytes, double scalar) {
  lnuma__kfn fn = lnuma__kernel_fn(kernel, isa);
  if (fn == NULL) return 0;
  bytes -= bytes % LNUMA_KERNEL_GRANULE;
  return bytes > 0 ? fn(a, b, c, bytes, scalar) : 0;
}

/* ---- helpers ----------------------------------------------------------------- */

void lnuma__ktouch(void *p, size_t n, double value) {
  double *d = p;
  size_t words = n / sizeof(double);
  for (size_t i = 0; i < words; i++) d[i] = value;
  memset((char *)p + words * sizeof(double), 0, n - words * sizeof(double));
}

void lnuma__kdelay(uint64_t iterations) {
  for (uint64_t i = 0; i < iterations; i++) __asm__ volatile("" ::: "memory");
}

/* An array long enough for the PAGES walk (one group or more) is a whole
 * number of 4 KiB pages, so that on page-aligned memory every array of every
 * thread starts on a page and the walk's four pages are pages: 2560 bytes
 * off one, copy's pages walk ran 11.3-12.9 GB/s against 13.9-14.2 on a Xeon
 * (2 threads: 21.2 against 26.0-26.5). */
size_t lnuma__kshare(size_t size, int n, int arrays) {
  if (n <= 0 || arrays <= 0) return 0;
  size_t per = size / (size_t)n / (size_t)arrays;
  size_t unit = per >= LNUMA__KGROUP ? LNUMA__KPAGE : LNUMA_KERNEL_GRANULE;
  return per - per % unit;
}

/* Memory that is itself off a page (a buffer view at an odd offset) starts
 * its arrays at its first page boundary, where the rest still gives every
 * array a whole pages group, for the same reason; the bytes before it are
 * neither walked nor counted.  A 1 GiB view 2560 bytes off a page ran copy's
 * pages walk at 13.4-13.8 GB/s against 14.0-14.2 from a page on a Xeon, and
 * 14.1-14.3 from its first page (on 2 threads the runs overlapped). */
size_t lnuma__kskip(const void *mem, size_t size, int n, int arrays) {
  size_t skip = (size_t)(-(uintptr_t)mem & (LNUMA__KPAGE - 1));
  if (skip == 0 || skip >= size) return 0;
  return lnuma__kshare(size - skip, n, arrays) >= LNUMA__KGROUP ? skip : 0;
}
