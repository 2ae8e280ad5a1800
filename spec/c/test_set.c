/* C tests of the set and size helpers of the core. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lnuma.h"

static void parse_and_format_round_trip(void **state) {
  (void)state;
  lnuma_set s;
  lnuma_error err;
  assert_int_equal(lnuma_set_parse(&s, "0-3, 8,10-14:2", &err), 0);
  assert_int_equal(lnuma_set_count(&s), 8);
  assert_true(lnuma_set_has(&s, 12));
  assert_false(lnuma_set_has(&s, 11));
  char out[64];
  size_t n = lnuma_set_format(&s, out, sizeof out);
  assert_string_equal(out, "0-3,8,10,12,14");
  assert_int_equal(n, strlen("0-3,8,10,12,14"));
}

static void format_truncates_like_snprintf(void **state) {
  (void)state;
  lnuma_set s;
  assert_int_equal(lnuma_set_parse(&s, "0-3,8", NULL), 0);
  char out[4];
  assert_int_equal(lnuma_set_format(&s, out, sizeof out), 5);
  assert_int_equal(strlen(out) < sizeof out, 1);
}

static void malformed_lists_name_the_problem(void **state) {
  (void)state;
  lnuma_set s;
  lnuma_error err;
  const char *bad[] = {"1-", "a", "3-1", "1,,2", "0-4:0", "99999", "1;2"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(lnuma_set_parse(&s, bad[i], &err), -1);
    assert_int_equal(err.code, EINVAL);
    assert_non_null(strstr(err.msg, bad[i]));
  }
}

static void sizes_parse_with_binary_suffixes(void **state) {
  (void)state;
  size_t v;
  lnuma_error err;
  assert_int_equal(lnuma_parse_size("64K", &v, &err), 0);
  assert_int_equal(v, 65536);
  assert_int_equal(lnuma_parse_size("2mib", &v, &err), 0);
  assert_int_equal(v, 2 << 20);
  assert_int_equal(lnuma_parse_size("1G", &v, &err), 0);
  assert_int_equal(v, 1 << 30);
  assert_int_equal(lnuma_parse_size("12", &v, &err), 0);
  assert_int_equal(v, 12);
  assert_int_equal(lnuma_parse_size("2X", &v, &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_int_equal(lnuma_parse_size("-1", &v, &err), -1);
  assert_int_equal(lnuma_parse_size("99999999999999999999", &v, &err), -1);
  assert_int_equal(err.code, ERANGE);
  assert_int_equal(lnuma_parse_size("16777216T", &v, &err), -1);
  assert_int_equal(err.code, ERANGE);
}

static void version_matches_the_macro(void **state) {
  (void)state;
  assert_string_equal(lnuma_version(), LNUMA_VERSION_STRING);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parse_and_format_round_trip),
      cmocka_unit_test(format_truncates_like_snprintf),
      cmocka_unit_test(malformed_lists_name_the_problem),
      cmocka_unit_test(sizes_parse_with_binary_suffixes),
      cmocka_unit_test(version_matches_the_macro),
  };
  return cmocka_run_group_tests_name("set", tests, NULL, NULL);
}
