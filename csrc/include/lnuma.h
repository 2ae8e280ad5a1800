/** @file
 * lnuma.h -- the public C API of lnuma: NUMA topology, placement, clocks and
 * memory benchmarks for C hosts.  This header never includes lua.h; hosts that
 * own a lua_State also include lnuma_lua.h.
 *
 * Conventions (stated once, as hwloc does):
 *  - Every function is prefixed lnuma_; types are lnuma_*.
 *  - Functions that can fail return 0 on success and -1 on error, or a pointer
 *    that is NULL on error.  The reason is written into the caller's
 *    lnuma_error (which may be NULL when the caller does not care): an errno
 *    value and a message that names what failed ("mbind: Operation not
 *    permitted").  Nothing is printed, nothing calls exit() or abort().
 *  - Nodes and CPUs are OS indexes (as in /sys, numactl and hwloc), 0-based.
 *  - Sizes are bytes (size_t), times are nanoseconds (int64_t / uint64_t).
 *  - Thread safety is stated per function: "any thread" means it may be called
 *    concurrently from several threads; "one thread per object" means calls on
 *    one object must not overlap, while distinct objects are independent.
 */
#ifndef LNUMA_H
#define LNUMA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Major version: changes when the API breaks. */
#define LNUMA_VERSION_MAJOR 0
/** Minor version: changes when the API grows. */
#define LNUMA_VERSION_MINOR 1
/** Patch version: changes for fixes only. */
#define LNUMA_VERSION_PATCH 0
/** The version as one comparable number, MAJOR * 10000 + MINOR * 100 + PATCH. */
#define LNUMA_VERSION_NUM                                                     \
  (LNUMA_VERSION_MAJOR * 10000 + LNUMA_VERSION_MINOR * 100 + LNUMA_VERSION_PATCH)
/** The version as "MAJOR.MINOR.PATCH" (what lnuma_version() returns). */
#define LNUMA_VERSION_STRING "0.1.0"

#if defined(LNUMA_BUILDING) && defined(__GNUC__)
/** Marks a function exported from liblnuma (default visibility when building it). */
#define LNUMA_API __attribute__((visibility("default")))
#else
/** Marks a function exported from liblnuma (empty for the library's users). */
#define LNUMA_API
#endif

/** Room for an error message; long enough for a path plus strerror. */
#define LNUMA_ERRMSG_MAX 256

/** Why a call failed: an errno value and a message that names the failure. */
typedef struct lnuma_error {
  int code;                    /**< errno value (EINVAL, ENOMEM, ENOSYS, ...) */
  char msg[LNUMA_ERRMSG_MAX];  /**< "what: why", never ends with a newline */
} lnuma_error;

/** The library's version, "MAJOR.MINOR.PATCH"; equals lnuma._VERSION in Lua.
 *  Any thread. */
LNUMA_API const char *lnuma_version(void);

/* ---- Sets of CPUs or nodes ------------------------------------------------ */

/** Largest CPU or node index + 1 that a set can hold (Debian's NR_CPUS). */
#define LNUMA_SET_BITS 8192

/** A fixed-size bit set of CPU or node OS indexes; plain data, copyable. */
typedef struct lnuma_set {
  uint64_t bits[LNUMA_SET_BITS / 64]; /**< bit i % 64 of word i / 64 is index i */
} lnuma_set;

/** Empties a set.  Any thread. */
LNUMA_API void lnuma_set_zero(lnuma_set *set);
/** Adds index i; returns -1 (EINVAL) when i is outside 0..LNUMA_SET_BITS-1. */
LNUMA_API int lnuma_set_add(lnuma_set *set, int i);
/** 1 when i is in the set, 0 otherwise (also for i out of range). */
LNUMA_API int lnuma_set_has(const lnuma_set *set, int i);
/** Number of members. */
LNUMA_API int lnuma_set_count(const lnuma_set *set);
/** Smallest member greater than prev (pass -1 to start); -1 when none. */
LNUMA_API int lnuma_set_next(const lnuma_set *set, int prev);
/** 1 when both sets have the same members. */
LNUMA_API int lnuma_set_equal(const lnuma_set *a, const lnuma_set *b);

/**
 * Parses a kernel-style list ("0-3,8,10-14:2" with an optional stride after
 * ':') into set.  Whitespace around items is allowed; an empty string is the
 * empty set.  Returns 0, or -1 with EINVAL and a message naming the bad part.
 */
LNUMA_API int lnuma_set_parse(lnuma_set *set, const char *list, lnuma_error *err);

/**
 * Writes the set as the kernel prints cpulists ("0-3,8"; empty set -> "").
 * Returns the length the full text needs (excluding the NUL), like snprintf;
 * the output is truncated when it does not fit in cap bytes.
 */
LNUMA_API size_t lnuma_set_format(const lnuma_set *set, char *out, size_t cap);

/* ---- Sizes ---------------------------------------------------------------- */

/**
 * Parses a size: a decimal integer with an optional binary suffix K, M, G, T
 * (also KB/KiB, case-insensitive), so "64K" = 65536 and "2M" = 2097152.
 * Returns 0, or -1 with EINVAL (malformed) or ERANGE (does not fit) and a
 * message that quotes the text.
 */
LNUMA_API int lnuma_parse_size(const char *text, size_t *out, lnuma_error *err);

#ifdef __cplusplus
}
#endif

/* The areas of the API, one header each (all included by lnuma.h). */
#include "lnuma/system.h"
#include "lnuma/plan.h"
#include "lnuma/memory.h"
#include "lnuma/topology.h"
#include "lnuma/clock.h"
#include "lnuma/histogram.h"
#include "lnuma/kernels.h"
#include "lnuma/exec.h"
#include "lnuma/sysinfo.h"
#include "lnuma/bulk.h"
#include "lnuma/clock_sync.h"
/* (one #include line per area, above this line) */

#endif /* LNUMA_H */
