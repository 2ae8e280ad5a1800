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

/* input.c: "64 MiB", "1.5 GiB", "100 bytes". */
void lnuma__format_bytes(uint64_t bytes, char *out, size_t cap);

/* Reads the regular file path, of at most max bytes, into a malloc'd,
 * NUL-terminated buffer (*out, *len bytes).  Refuses anything else before
 * reading a byte (a FIFO, a device, a larger file) with a message naming the
 * file, the limit and what (e.g. "XML file").  0, or -1 with err. */
int lnuma__read_input(const char *path, size_t max, const char *what, char **out,
                      size_t *len, lnuma_error *err);

#endif
