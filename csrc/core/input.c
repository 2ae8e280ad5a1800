/* Reading an input file a caller names (an XML topology, a plan) with a cap
 * on what it may cost.  The file is opened without blocking and checked
 * before a byte is read: only a regular file no larger than the cap is read,
 * so /dev/zero, a FIFO with no writer or a 100 GiB file are refused at once,
 * with a message naming the file and the limit.  The bytes are read here
 * once and handed on, so what was checked is what is used. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

int lnuma__read_line(const char *path, char *out, size_t cap) {
  out[0] = '\0';
  FILE *f = fopen(path, "re");
  if (f == NULL) return -1;
  char *got = fgets(out, cap > INT_MAX ? INT_MAX : (int)cap, f);
  fclose(f);
  if (got == NULL) {
    out[0] = '\0';
    return 0;
  }
  out[strcspn(out, "\n")] = '\0';
  return 1;
}

void lnuma__format_bytes(uint64_t bytes, char *out, size_t cap) {
  static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  uint64_t whole = bytes, rest = 0;
  while (whole >= 1024 && u < 6) {
    rest = whole % 1024;
    whole /= 1024;
    u++;
  }
  if (u == 0 || rest == 0)
    snprintf(out, cap, "%llu %s", (unsigned long long)whole, units[u]);
  else
    snprintf(out, cap, "%.1f %s", (double)whole + (double)rest / 1024.0, units[u]);
}

static const char *kind_of(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

/* "XML file 'x' is 100 MiB, over the limit of 32 MiB"; size 0: not known (the file grew while it was read). */
static int too_large(const char *path, uint64_t size, size_t max, const char *what,
                     lnuma_error *err) {
  char have[40] = "", limit[32];
  if (size > 0) {
    have[0] = ' ';
    lnuma__format_bytes(size, have + 1, sizeof have - 2);
    strcat(have, ",");
  }
  lnuma__format_bytes(max, limit, sizeof limit);
  return lnuma__fail(err, EFBIG, "%s '%s' is%s over the limit of %s", what, path, have, limit);
}

int lnuma__read_input(const char *path, size_t max, const char *what, char **out,
                      size_t *len, lnuma_error *err) {
  *out = NULL;
  *len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    char msg[LNUMA_ERRMSG_MAX - 64];
    snprintf(msg, sizeof msg, "cannot read %s '%s'", what, path);
    return lnuma__fail_sys(err, errno, msg);
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return lnuma__fail_sys(err, e, path);
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    char msg[LNUMA_ERRMSG_MAX - 64];
    snprintf(msg, sizeof msg, "cannot read %s '%s'", what, path);
    return lnuma__fail_sys(err, EISDIR, msg);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return lnuma__fail(err, EINVAL, "%s '%s' is %s, not a regular file", what, path,
                       kind_of(st.st_mode));
  }
  if ((uint64_t)st.st_size > max) {
    close(fd);
    return too_large(path, (uint64_t)st.st_size, max, what, err);
  }
  /* One byte more than the cap tells a file that grew since fstat. */
  size_t cap = (size_t)st.st_size + 1, got = 0;
  char *buf = malloc(cap + 1);
  if (buf == NULL) {
    close(fd);
    return lnuma__fail(err, ENOMEM, "cannot read %s '%s': out of memory", what, path);
  }
  for (;;) {
    if (got == cap) {
      if (cap > max) break;
      size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
      char *nb = realloc(buf, ncap + 1);
      if (nb == NULL) {
        free(buf);
        close(fd);
        return lnuma__fail(err, ENOMEM, "cannot read %s '%s': out of memory", what, path);
      }
      buf = nb;
      cap = ncap;
    }
    ssize_t n = read(fd, buf + got, cap - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      free(buf);
      close(fd);
      char msg[LNUMA_ERRMSG_MAX - 64];
      snprintf(msg, sizeof msg, "cannot read %s '%s'", what, path);
      return lnuma__fail_sys(err, e, msg);
    }
    if (n == 0) break;
    got += (size_t)n;
  }
  close(fd);
  if (got > max) {
    free(buf);
    return too_large(path, 0, max, what, err);
  }
  buf[got] = '\0';
  *out = buf;
  *len = got;
  return 0;
}
