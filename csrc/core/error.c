/* Error reporting of the core: fill the caller's lnuma_error, never print. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

int lnuma__fail(lnuma_error *err, int code, const char *fmt, ...) {
  if (err != NULL) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
  }
  errno = code;
  return -1;
}

int lnuma__fail_sys(lnuma_error *err, int code, const char *what) {
  char buf[128];
  /* GNU strerror_r may return a static string instead of filling buf. */
  const char *text = strerror_r(code, buf, sizeof buf);
  return lnuma__fail(err, code, "%s: %s", what, text);
}

void lnuma__clear(lnuma_error *err) {
  if (err != NULL) {
    err->code = 0;
    err->msg[0] = '\0';
  }
}

const char *lnuma_version(void) { return LNUMA_VERSION_STRING; }
