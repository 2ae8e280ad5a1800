/* The typed-range loops (bulk_loops.h) compiled for AVX2 by a target pragma;
 * bulk.c calls them only where the CPU has AVX2. */
#include "optimize.h" /* first: the loops below are built -O3 */

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
#pragma GCC target("avx2")
#define LNUMA_BULK_LOOPS
#include "bulk_loops.h"

LNUMA__BULK_OPS(lnuma__bulk_avx2);
#endif
