/* Bandwidth kernels in AVX2 (256-bit), compiled for that ISA by a target
 * attribute and only called when the CPU has it (lnuma__kernel_fn checks), so
 * the module itself still runs on any x86-64. */
#include "kernels_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2")))

AVX2 static uint64_t avx2_read(void *a, const void *b, const void *c, size_t bytes,
                               double s) {
  (void)b, (void)c, (void)s;
  const __m256i *x = a;
  size_t n = bytes / 32;
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
  for (size_t i = 0; i < n; i += 4) {
    s0 = _mm256_add_epi64(s0, _mm256_load_si256(x + i));
    s1 = _mm256_add_epi64(s1, _mm256_load_si256(x + i + 1));
    s2 = _mm256_add_epi64(s2, _mm256_load_si256(x + i + 2));
    s3 = _mm256_add_epi64(s3, _mm256_load_si256(x + i + 3));
  }
  __m256i t = _mm256_add_epi64(_mm256_add_epi64(s0, s1), _mm256_add_epi64(s2, s3));
  __m128i h = _mm_add_epi64(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
  return (uint64_t)_mm_cvtsi128_si64(h) + (uint64_t)_mm_extract_epi64(h, 1);
}

AVX2 static uint64_t avx2_write(void *a, const void *b, const void *c, size_t bytes,
                                double s) {
  (void)b, (void)c;
  double *x = a;
  __m256d v = _mm256_set1_pd(s);
  size_t n = bytes / 8;
  for (size_t i = 0; i < n; i += 16) {
    _mm256_store_pd(x + i, v);
    _mm256_store_pd(x + i + 4, v);
    _mm256_store_pd(x + i + 8, v);
    _mm256_store_pd(x + i + 12, v);
  }
  return 0;
}

AVX2 static uint64_t avx2_write_nt(void *a, const void *b, const void *c, size_t bytes,
                                   double s) {
  (void)b, (void)c;
  double *x = a;
  __m256d v = _mm256_set1_pd(s);
  size_t n = bytes / 8;
  for (size_t i = 0; i < n; i += 16) {
    _mm256_stream_pd(x + i, v);
    _mm256_stream_pd(x + i + 4, v);
    _mm256_stream_pd(x + i + 8, v);
    _mm256_stream_pd(x + i + 12, v);
  }
  _mm_sfence();
  return 0;
}

AVX2 static uint64_t avx2_copy(void *a, const void *b, const void *c, size_t bytes,
                               double s) {
  (void)c, (void)s;
  __m256i *x = a;
  const __m256i *y = b;
  size_t n = bytes / 32;
  for (size_t i = 0; i < n; i += 4) {
    __m256i v0 = _mm256_load_si256(y + i), v1 = _mm256_load_si256(y + i + 1);
    __m256i v2 = _mm256_load_si256(y + i + 2), v3 = _mm256_load_si256(y + i + 3);
    _mm256_store_si256(x + i, v0);
    _mm256_store_si256(x + i + 1, v1);
    _mm256_store_si256(x + i + 2, v2);
    _mm256_store_si256(x + i + 3, v3);
  }
  return 0;
}

AVX2 static uint64_t avx2_copy_nt(void *a, const void *b, const void *c, size_t bytes,
                                  double s) {
  (void)c, (void)s;
  __m256i *x = a;
  const __m256i *y = b;
  size_t n = bytes / 32;
  for (size_t i = 0; i < n; i += 4) {
    __m256i v0 = _mm256_load_si256(y + i), v1 = _mm256_load_si256(y + i + 1);
    __m256i v2 = _mm256_load_si256(y + i + 2), v3 = _mm256_load_si256(y + i + 3);
    _mm256_stream_si256(x + i, v0);
    _mm256_stream_si256(x + i + 1, v1);
    _mm256_stream_si256(x + i + 2, v2);
    _mm256_stream_si256(x + i + 3, v3);
  }
  _mm_sfence();
  return 0;
}

AVX2 static uint64_t avx2_triad(void *a, const void *b, const void *c, size_t bytes,
                                double s) {
  double *x = a;
  const double *y = b, *z = c;
  __m256d vs = _mm256_set1_pd(s);
  size_t n = bytes / 8;
  for (size_t i = 0; i < n; i += 16) {
    for (size_t k = 0; k < 16; k += 4)
      _mm256_store_pd(x + i + k, _mm256_add_pd(_mm256_load_pd(y + i + k),
                                               _mm256_mul_pd(vs, _mm256_load_pd(z + i + k))));
  }
  return 0;
}

const lnuma__kfn lnuma__kernels_avx2[LNUMA_KERNEL_COUNT] = {
    [LNUMA_KERNEL_READ] = avx2_read,         [LNUMA_KERNEL_WRITE] = avx2_write,
    [LNUMA_KERNEL_WRITE_NT] = avx2_write_nt, [LNUMA_KERNEL_COPY] = avx2_copy,
    [LNUMA_KERNEL_COPY_NT] = avx2_copy_nt,   [LNUMA_KERNEL_TRIAD] = avx2_triad,
};
#else
const lnuma__kfn lnuma__kernels_avx2[LNUMA_KERNEL_COUNT] = {0};
#endif
