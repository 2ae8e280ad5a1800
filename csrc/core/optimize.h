/* optimize.h -- the measured loops are built at -O3 whoever builds them.
 *
 * Included first by the files whose loops are the figures lnuma reports
 * (kernels_*.c, bulk*.c), so their speed does not depend on the builder's
 * -O level: luarocks builds at -O2, where GCC 12 leaves the u32 and i64 sums
 * scalar (4.7 against 11 GB/s over 512 MiB on a Xeon). */
#ifndef LNUMA_OPTIMIZE_H
#define LNUMA_OPTIMIZE_H

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

#endif
