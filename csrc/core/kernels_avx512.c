/* Bandwidth kernels in AVX-512F (512-bit), compiled for that ISA by a target
 * attribute and only called when the CPU has it (lnuma__kernel_fn checks), so
 * the module itself still runs on any x86-64. */
#include "kernels_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))

AVX512 static uint64_t avx512_read(void *a, const void *b, const void *c, size_t bytes,
                                   double s) {
  (void)b, (void)c, (void)s;
  const __m512i *x = a;
  size_t n = bytes / 64;
  __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
  for (size_t i = 0; i < n; i += 4) {
    s0 = _mm512_add_epi64(s0, _mm512_load_si512(x + i));
    s1 = _mm512_add_epi64(s1, _mm512_load_si512(x + i + 1));
    s2 = _mm512_add_epi64(s2, _mm512_load_si512(x + i + 2));
    s3 = _mm512_add_epi64(s3, _mm512_load_si512(x + i + 3));
  }
  __m512i t = _mm512_add_epi64(_mm512_add_epi64(s0, s1), _mm512_add_epi64(s2, s3));
  /* Not _mm512_reduce_add_epi64: GCC adds signed lanes there, which wraps. */
  uint64_t lanes[8], sum = 0;
  _mm512_storeu_si512(lanes, t);
  for (int k = 0; k < 8; k++) sum += lanes[k];
  return sum;
}

AVX512 static uint64_t avx512_write(void *a, const void *b, const void *c, size_t bytes,
                                    double s) {
  (void)b, (void)c;
  double *x = a;
  __m512d v = _mm512_set1_pd(s);
  size_t n = bytes / 8;
  for (size_t i = 0; i < n; i += 32) {
    _mm512_store_pd(x + i, v);
    _mm512_store_pd(x + i + 8, v);
    _mm512_store_pd(x + i + 16, v);
    _mm512_store_pd(x + i + 24, v);
  }
  return 0;
}

AVX512 static uint64_t avx512_write_nt(void *a, const void *b, const void *c, size_t bytes,
                                       double s) {
  (void)b, (void)c;
  double *x = a;
  __m512d v = _mm512_set1_pd(s);
  size_t n = bytes / 8;
  for (size_t i = 0; i < n; i += 32) {
    _mm512_stream_pd(x + i, v);
    _mm512_stream_pd(x + i + 8, v);
    _mm512_stream_pd(x + i + 16, v);
    _mm512_stream_pd(x + i + 24, v);
  }
  _mm_sfence();
  return 0;
}

AVX512 static uint64_t avx512_copy(void *a, const void *b, const void *c, size_t bytes,
                                   double s) {
  (void)c, (void)s;
  __m512i *x = a;
  const __m512i *y = b;
  size_t n = bytes / 64;
  for (size_t i = 0; i < n; i += 4) {
    __m512i v0 = _mm512_load_si512(y + i), v1 = _mm512_load_si512(y + i + 1);
    __m512i v2 = _mm512_load_si512(y + i + 2), v3 = _mm512_load_si512(y + i + 3);
    _mm512_store_si512(x + i, v0);
    _mm512_store_si512(x + i + 1, v1);
    _mm512_store_si512(x + i + 2, v2);
    _mm512_store_si512(x + i + 3, v3);
  }
  return 0;
}

AVX512 static uint64_t avx512_copy_nt(void *a, const void *b, const void *c, size_t bytes,
                                      double s) {
  (void)c, (void)s;
  __m512i *x = a;
  const __m512i *y = b;
  size_t n = bytes / 64;
  for (size_t i = 0; i < n; i += 4) {
    __m512i v0 = _mm512_load_si512(y + i), v1 = _mm512_load_si512(y + i + 1);
    __m512i v2 = _mm512_load_si512(y + i + 2), v3 = _mm512_load_si512(y + i + 3);
    _mm512_stream_si512(x + i, v0);
    _mm512_stream_si512(x + i + 1, v1);
    _mm512_stream_si512(x + i + 2, v2);
    _mm512_stream_si512(x + i + 3, v3);
  }
  _mm_sfence();
  return 0;
}

AVX512 static uint64_t avx512_triad(void *a, const void *b, const void *c, size_t bytes,
                                    double s) {
  double *x = a;
  const double *y = b, *z = c;
  __m512d vs = _mm512_set1_pd(s);
  size_t n = bytes / 8;
  for (size_t i = 0; i < n; i += 32) {
    for (size_t k = 0; k < 32; k += 8)
      _mm512_store_pd(x + i + k, _mm512_fmadd_pd(vs, _mm512_load_pd(z + i + k),
                                                 _mm512_load_pd(y + i + k)));
  }
  return 0;
}

const lnuma__kfn lnuma__kernels_avx512[LNUMA_KERNEL_COUNT] = {
    [LNUMA_KERNEL_READ] = avx512_read,         [LNUMA_KERNEL_WRITE] = avx512_write,
    [LNUMA_KERNEL_WRITE_NT] = avx512_write_nt, [LNUMA_KERNEL_COPY] = avx512_copy,
    [LNUMA_KERNEL_COPY_NT] = avx512_copy_nt,   [LNUMA_KERNEL_TRIAD] = avx512_triad,
};
#else
const lnuma__kfn lnuma__kernels_avx512[LNUMA_KERNEL_COUNT] = {0};
#endif
