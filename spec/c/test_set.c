/* C tests of the set, size and page-kind readers of the core. */
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

/* The one vocabulary of page kinds (issue 14): every spelling, any case. */
static void page_kinds_parse_in_any_case(void **state) {
  (void)state;
  static const struct {
    const char *word;
    lnuma_huge kind;
  } words[] = {
      {"default", LNUMA_HUGE_DEFAULT}, {"none", LNUMA_HUGE_NONE}, {"no", LNUMA_HUGE_NONE},
      {"4k", LNUMA_HUGE_NONE},         {"THP", LNUMA_HUGE_THP},   {"2m", LNUMA_HUGE_2M},
      {"1G", LNUMA_HUGE_1G},
  };
  lnuma_error err;
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
    lnuma_huge h = LNUMA_HUGE_THP;
    assert_int_equal(lnuma_huge_parse(words[i].word, &h, &err), 0);
    assert_int_equal(h, words[i].kind);
  }
  lnuma_huge h;
  assert_int_equal(lnuma_huge_parse("3M", &h, &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_non_null(strstr(err.msg, "'3M' is not a page kind"));
  assert_int_equal(lnuma_huge_parse("", &h, &err), -1);
  lnuma_mempolicy p;
  assert_int_equal(lnuma_mempolicy_parse("Interleave", &p, &err), 0);
  assert_int_equal(p, LNUMA_MPOL_INTERLEAVE);
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
      cmocka_unit_test(page_kinds_parse_in_any_case),
      cmocka_unit_test(version_matches_the_macro),
  };
  return cmocka_run_group_tests_name("set", tests, NULL, NULL);
}
