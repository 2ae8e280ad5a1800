/* The typed-range loops (bulk_loops.h) for the baseline ISA: SSE2 on
 * x86-64, whatever the compiler targets elsewhere. */
#include "optimize.h" /* first: the loops below are built -O3 */

#include <math.h>

#define LNUMA_BULK_LOOPS
#include "bulk_loops.h"

LNUMA__BULK_OPS(lnuma__bulk_base);
