/* Bandwidth kernels in portable C (the compiler vectorises them for the
 * baseline ISA) and, on x86-64, in SSE2 with non-temporal stores.  Arrays are
 * 64-byte aligned and a multiple of LNUMA_KERNEL_GRANULE bytes. */
#include "kernels_internal.h"

/* ---- portable C ----------------------------------------------------------- */

static uint64_t c_read(void *a, const void *b, const void *c, size_t bytes, double s) {
  (void)b, (void)c, (void)s;
  const uint64_t *x = a;
  size_t n = bytes / 8;
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  for (size_t i = 0; i < n; i += 8) {
    s0 += x[i];
    s1 += x[i + 1];
    s2 += x[i + 2];
    s3 += x[i + 3];
    s4 += x[i + 4];
    s5 += x[i + 5];
    s6 += x[i + 6];
    s7 += x[i + 7];
  }
  return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;
}

static uint64_t c_write(void *a, const void *b, const void *c, size_t bytes, double s) {
  (void)b, (void)c;
  double *x = a;
  size_t n = bytes / 8;
  for (size_t i = 0; i < n; i++) x[i] = s;
  return 0;
}

static uint64_t c_copy(void *a, const void *b, const void *c, size_t bytes, double s) {
  (void)c, (void)s;
  uint64_t *restrict x = a;
  const uint64_t *restrict y = b;
  size_t n = bytes / 8;
  for (size_t i = 0; i < n; i++) x[i] = y[i];
  return 0;
}

static uint64_t c_triad(void *a, const void *b, const void *c, size_t bytes, double s) {
  double *restrict x = a;
  const double *restrict y = b;
  const double *restrict z = c;
  size_t n = bytes / 8;
  for (size_t i = 0; i < n; i++) x[i] = y[i] + s * z[i];
  return 0;
}

/* Plain C has no portable non-temporal store: the _nt kernels store normally. */
const lnuma__kfn lnuma__kernels_c[LNUMA_KERNEL_COUNT] = {
    [LNUMA_KERNEL_READ] = c_read,   [LNUMA_KERNEL_WRITE] = c_write,
    [LNUMA_KERNEL_WRITE_NT] = c_write, [LNUMA_KERNEL_COPY] = c_copy,
    [LNUMA_KERNEL_COPY_NT] = c_copy, [LNUMA_KERNEL_TRIAD] = c_triad,
};

/* ---- SSE2 (x86-64 baseline) ----------------------------------------------- */

#if defined(__x86_64__)
#include <immintrin.h>

static uint64_t sse2_read(void *a, const void *b, const void *c, size_t bytes, double s) {
  (void)b, (void)c, (void)s;
  const __m128i *x = a;
  size_t n = bytes / 16;
  __m128i s0 = _mm_setzero_si128(), s1 = s0, s2 = s0, s3 = s0;
  for (size_t i = 0; i < n; i += 4) {
    s0 = _mm_add_epi64(s0, _mm_load_si128(x + i));
    s1 = _mm_add_epi64(s1, _mm_load_si128(x + i + 1));
    s2 = _mm_add_epi64(s2, _mm_load_si128(x + i + 2));
    s3 = _mm_add_epi64(s3, _mm_load_si128(x + i + 3));
  }
  __m128i t = _mm_add_epi64(_mm_add_epi64(s0, s1), _mm_add_epi64(s2, s3));
  return (uint64_t)_mm_cvtsi128_si64(t) + (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(t, t));
}

static uint64_t sse2_write(void *a, const void *b, const void *c, size_t bytes, double s) {
  (void)b, (void)c;
  __m128d *x = a;
  __m128d v = _mm_set1_pd(s);
  size_t n = bytes / 16;
  for (size_t i = 0; i < n; i += 4) {
    _mm_store_pd((double *)(x + i), v);
    _mm_store_pd((double *)(x + i + 1), v);
    _mm_store_pd((double *)(x + i + 2), v);
    _mm_store_pd((double *)(x + i + 3), v);
  }
  return 0;
}

static uint64_t sse2_write_nt(void *a, const void *b, const void *c, size_t bytes, double s) {
  (void)b, (void)c;
  __m128d *x = a;
  __m128d v = _mm_set1_pd(s);
  size_t n = bytes / 16;
  for (size_t i = 0; i < n; i += 4) {
    _mm_stream_pd((double *)(x + i), v);
    _mm_stream_pd((double *)(x + i + 1), v);
    _mm_stream_pd((double *)(x + i + 2), v);
    _mm_stream_pd((double *)(x + i + 3), v);
  }
  _mm_sfence();
  return 0;
}

static uint64_t sse2_copy(void *a, const void *b, const void *c, size_t bytes, double s) {
  (void)c, (void)s;
  __m128i *x = a;
  const __m128i *y = b;
  size_t n = bytes / 16;
  for (size_t i = 0; i < n; i += 4) {
    __m128i v0 = _mm_load_si128(y + i), v1 = _mm_load_si128(y + i + 1);
    __m128i v2 = _mm_load_si128(y + i + 2), v3 = _mm_load_si128(y + i + 3);
    _mm_store_si128(x + i, v0);
    _mm_store_si128(x + i + 1, v1);
    _mm_store_si128(x + i + 2, v2);
    _mm_store_si128(x + i + 3, v3);
  }
  return 0;
}

static uint64_t sse2_copy_nt(void *a, const void *b, const void *c, size_t bytes, double s) {
  (void)c, (void)s;
  __m128i *x = a;
  const __m128i *y = b;
  size_t n = bytes / 16;
  for (size_t i = 0; i < n; i += 4) {
    __m128i v0 = _mm_load_si128(y + i), v1 = _mm_load_si128(y + i + 1);
    __m128i v2 = _mm_load_si128(y + i + 2), v3 = _mm_load_si128(y + i + 3);
    _mm_stream_si128(x + i, v0);
    _mm_stream_si128(x + i + 1, v1);
    _mm_stream_si128(x + i + 2, v2);
    _mm_stream_si128(x + i + 3, v3);
  }
  _mm_sfence();
  return 0;
}

static uint64_t sse2_triad(void *a, const void *b, const void *c, size_t bytes, double s) {
  double *x = a;
  const double *y = b, *z = c;
  __m128d vs = _mm_set1_pd(s);
  size_t n = bytes / 8;
  for (size_t i = 0; i < n; i += 8) {
    _mm_store_pd(x + i, _mm_add_pd(_mm_load_pd(y + i), _mm_mul_pd(vs, _mm_load_pd(z + i))));
    _mm_store_pd(x + i + 2,
                 _mm_add_pd(_mm_load_pd(y + i + 2), _mm_mul_pd(vs, _mm_load_pd(z + i + 2))));
    _mm_store_pd(x + i + 4,
                 _mm_add_pd(_mm_load_pd(y + i + 4), _mm_mul_pd(vs, _mm_load_pd(z + i + 4))));
    _mm_store_pd(x + i + 6,
                 _mm_add_pd(_mm_load_pd(y + i + 6), _mm_mul_pd(vs, _mm_load_pd(z + i + 6))));
  }
  return 0;
}

const lnuma__kfn lnuma__kernels_sse2[LNUMA_KERNEL_COUNT] = {
    [LNUMA_KERNEL_READ] = sse2_read,         [LNUMA_KERNEL_WRITE] = sse2_write,
    [LNUMA_KERNEL_WRITE_NT] = sse2_write_nt, [LNUMA_KERNEL_COPY] = sse2_copy,
    [LNUMA_KERNEL_COPY_NT] = sse2_copy_nt,   [LNUMA_KERNEL_TRIAD] = sse2_triad,
};
#else
const lnuma__kfn lnuma__kernels_sse2[LNUMA_KERNEL_COUNT] = {0};
#endif
