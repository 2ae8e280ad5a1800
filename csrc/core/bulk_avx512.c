/* The typed-range loops (bulk_loops.h) compiled for AVX-512 (F, BW, CD, DQ,
 * VL: byte, word and 64-bit min/max, lane-wise leading zeros) in 512-bit
 * vectors by a target pragma; bulk.c calls them only where the CPU has all
 * five. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512cd,avx512dq,avx512vl,prefer-vector-width=512")
#define LNUMA_BULK_LOOPS
#include "bulk_loops.h"

LNUMA__BULK_OPS(lnuma__bulk_avx512);
#endif
