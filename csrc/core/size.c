/* Parsing sizes written the way people write them ("64K", "2M", "1G"). */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

static int suffix_shift(const char *s) {
  static const struct { const char *name; int shift; } table[] = {
      {"", 0},    {"b", 0},    {"k", 10},   {"kb", 10},  {"kib", 10},
      {"m", 20},  {"mb", 20},  {"mib", 20}, {"g", 30},   {"gb", 30},
      {"gib", 30}, {"t", 40},  {"tb", 40},  {"tib", 40},
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcasecmp(s, table[i].name) == 0) return table[i].shift;
  return -1;
}

int lnuma_parse_size(const char *text, size_t *out, lnuma_error *err) {
  const char *p = text;
  while (*p == ' ') p++;
  if (!isdigit((unsigned char)*p))
    return lnuma__fail(err, EINVAL, "'%s' is not a size (examples: 4096, \"64K\", \"2M\", \"1G\")",
                       text);
  uint64_t v = 0;
  while (isdigit((unsigned char)*p)) {
    uint64_t d = (uint64_t)(*p - '0');
    if (v > (UINT64_MAX - d) / 10)
      return lnuma__fail(err, ERANGE, "size '%s' is too large", text);
    v = v * 10 + d;
    p++;
  }
  char unit[8];
  size_t n = 0;
  while (*p != '\0' && *p != ' ' && n < sizeof unit - 1) unit[n++] = *p++;
  unit[n] = '\0';
  while (*p == ' ') p++;
  int shift = (*p == '\0') ? suffix_shift(unit) : -1;
  if (shift < 0)
    return lnuma__fail(err, EINVAL, "'%s' is not a size: unknown unit (use K, M, G or T)",
                       text);
  if (shift > 0 && v > (UINT64_MAX >> shift))
    return lnuma__fail(err, ERANGE, "size '%s' is too large", text);
  v <<= shift;
  if (v > SIZE_MAX) return lnuma__fail(err, ERANGE, "size '%s' is too large", text);
  *out = (size_t)v;
  return 0;
}
