/* Private helpers shared by the files of csrc/core; never installed. */
#ifndef LNUMA_INTERNAL_H
#define LNUMA_INTERNAL_H

#include "lnuma.h"

/* Fills err (when not NULL) with code and a printf-style message; returns -1
 * so that callers can write `return lnuma__fail(err, EINVAL, "...")`. */
int lnuma__fail(lnuma_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same, with ": strerror(code)" appended, for failed system calls. */
int lnuma__fail_sys(lnuma_error *err, int code, const char *what);

/* Clears err (code 0, empty message) when not NULL. */
void lnuma__clear(lnuma_error *err);

/* lnuma_clock_init() with flags: LNUMA__CLOCK_NO_RDTSCP makes the clock end
 * timed regions with the fenced RDTSC it uses where RDTSCP is missing (so
 * tests and benchmarks reach that path on any x86-64). */
#define LNUMA__CLOCK_NO_RDTSCP 1u
int lnuma__clock_init(lnuma_clock *c, int source, unsigned flags, lnuma_error *err);

/* clock.c, for clock_sync.c: one counter reading bracketed around one
 * CLOCK_MONOTONIC_RAW reading (the narrowest of a few tries). */
typedef struct lnuma__clock_pair {
  uint64_t ticks; /* midpoint of the bracket */
  uint64_t width; /* bracket width in ticks */
  int64_t raw_ns;
} lnuma__clock_pair;
lnuma__clock_pair lnuma__clock_read_pair(const lnuma_clock *c);

/* The multiplier for a counter that advanced ticks while ns went by. */
uint64_t lnuma__clock_mult_for(uint64_t ns, uint64_t ticks);

/* What a calibration found besides the conversion. */
typedef struct lnuma__clock_facts {
  uint64_t hz;
  int freq_method;
  double error_ppm;
  int64_t calibrated_ns;
} lnuma__clock_facts;

/* Publishes a new conversion (and facts, when not NULL) under the clock's
 * sequence lock; writers take turns.  Any thread.  lnuma__clock_publish
 * aligns now() with base_ns at base_ticks (a step); lnuma__clock_publish_rate
 * changes only the rate, from where now() is at the moment of publishing
 * (continuous). */
void lnuma__clock_publish(lnuma_clock *c, uint64_t mult, uint64_t base_ticks, int64_t base_ns,
                          const lnuma__clock_facts *facts);
void lnuma__clock_publish_rate(lnuma_clock *c, uint64_t mult, const lnuma__clock_facts *facts);

/* input.c: "64 MiB", "1.5 GiB", "100 bytes". */
void lnuma__format_bytes(uint64_t bytes, char *out, size_t cap);

/* The first line of a small file (a /proc or /sys value), without its
 * newline, into out (cap >= 1 bytes; a longer line is cut).  1 when a line
 * was read, 0 when the file is empty (out ""), -1 when it cannot be opened
 * (out "", errno from fopen). */
int lnuma__read_line(const char *path, char *out, size_t cap);

/* Reads the regular file path, of at most max bytes, into a malloc'd,
 * NUL-terminated buffer (*out, *len bytes).  Refuses anything else before
 * reading a byte (a FIFO, a device, a larger file) with a message naming the
 * file, the limit and what (e.g. "XML file").  0, or -1 with err. */
int lnuma__read_input(const char *path, size_t max, const char *what, char **out,
                      size_t *len, lnuma_error *err);

#endif
