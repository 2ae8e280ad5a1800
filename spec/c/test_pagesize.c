/* C tests of the page size counters (lnuma_pagesizes_of) and the THP
 * settings: base-page buffers count as base pages, THP buffers as huge pages
 * by every method this process may use, a THP request in a process with THP
 * switched off gets none, and hugetlb pages count at their size. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lnuma.h"

#define MiB ((size_t)1 << 20)

static const lnuma_pagesize_method methods[] = {
    LNUMA_PAGESIZE_KPAGEFLAGS, LNUMA_PAGESIZE_PAGEMAP_SCAN, LNUMA_PAGESIZE_SMAPS};
#define N_METHODS (sizeof methods / sizeof methods[0])

static lnuma_buffer *alloc(size_t size, lnuma_huge huge) {
  lnuma_alloc_opts o;
  lnuma_alloc_opts_init(&o);
  o.huge = huge;
  lnuma_error err;
  lnuma_buffer *b = lnuma_buffer_alloc(size, &o, &err);
  if (b == NULL) fail_msg("alloc %zu bytes (%s): %s", size, lnuma_huge_name(huge), err.msg);
  return b;
}

static uint64_t sum_bytes(const lnuma_pagesizes *ps) {
  uint64_t n = 0;
  for (int i = 0; i < ps->n; i++) n += ps->sizes[i].bytes;
  return n;
}

/* The count of one page size, or NULL. */
static const lnuma_pagesize_count *of_size(const lnuma_pagesizes *ps, size_t size) {
  for (int i = 0; i < ps->n; i++)
    if (ps->sizes[i].page_size == size) return &ps->sizes[i];
  return NULL;
}

/* Counts with method m; 0 when this process may not use it (said why). */
static int count(const void *p, size_t len, lnuma_pagesize_method m, lnuma_pagesizes *ps) {
  lnuma_error err;
  if (lnuma_pagesizes_of_method(p, len, m, ps, &err) == 0) {
    assert_int_equal(ps->method, m);
    return 1;
  }
  if (err.code != EACCES && err.code != ENOSYS)
    fail_msg("%s: %s", lnuma_pagesize_method_name(m), err.msg);
  print_message("# %s not usable here: %s\n", lnuma_pagesize_method_name(m), err.msg);
  return 0;
}

/* 1 when a THP request can be given THP here. */
static int thp_possible(void) {
  lnuma_thp_settings t;
  assert_int_equal(lnuma_thp_settings_read(&t, NULL), 0);
  return t.available && strcmp(t.pmd_enabled, "never") != 0 && !t.process_disabled;
}

static void base_pages_count_as_base_pages(void **state) {
  (void)state;
  lnuma_buffer *b = alloc(4 * MiB, LNUMA_HUGE_NONE);
  size_t base = (size_t)sysconf(_SC_PAGESIZE);
  for (size_t i = 0; i < N_METHODS; i++) {
    lnuma_pagesizes ps;
    if (!count(lnuma_buffer_data(b), 4 * MiB, methods[i], &ps)) continue;
    assert_int_equal(ps.huge_bytes, 0);
    assert_int_equal(ps.n, 1);
    assert_int_equal(ps.sizes[0].page_size, base);
    assert_int_equal(ps.sizes[0].pages * base, ps.sizes[0].bytes);
    assert_int_equal(sum_bytes(&ps), ps.present_bytes);
    if (methods[i] == LNUMA_PAGESIZE_SMAPS) {
      assert_int_equal(ps.whole_mapping, 1); /* the mapping may be merged with others */
      assert_true(ps.present_bytes >= 4 * MiB);
    } else {
      assert_int_equal(ps.whole_mapping, 0);
      assert_int_equal(ps.bytes, 4 * MiB);
      assert_int_equal(ps.present_bytes, 4 * MiB);
      assert_int_equal(ps.sizes[0].pages, 4 * MiB / base);
    }
  }
  lnuma_buffer_free(b);
}

static void thp_buffer_counts_huge_pages_by_every_method(void **state) {
  (void)state;
  if (!thp_possible()) skip();
  lnuma_thp_settings t;
  assert_int_equal(lnuma_thp_settings_read(&t, NULL), 0);
  lnuma_buffer *b = alloc(64 * MiB, LNUMA_HUGE_THP);
  for (size_t i = 0; i < N_METHODS; i++) {
    lnuma_pagesizes ps;
    if (!count(lnuma_buffer_data(b), 64 * MiB, methods[i], &ps)) continue;
    const lnuma_pagesize_count *pmd = of_size(&ps, t.pmd_size);
    assert_non_null(pmd);
    assert_true(pmd->pages > 0);
    assert_int_equal(pmd->bytes, pmd->pages * t.pmd_size);
    assert_true(ps.huge_bytes >= pmd->bytes);
    assert_int_equal(sum_bytes(&ps), ps.present_bytes);
    if (methods[i] != LNUMA_PAGESIZE_SMAPS) assert_int_equal(ps.present_bytes, 64 * MiB);
  }
  lnuma_buffer_free(b);
}

static void part_of_a_huge_page_counts_that_page_once(void **state) {
  (void)state;
  if (!thp_possible()) skip();
  lnuma_thp_settings t;
  assert_int_equal(lnuma_thp_settings_read(&t, NULL), 0);
  lnuma_buffer *b = alloc(8 * MiB, LNUMA_HUGE_THP);
  char *p = lnuma_buffer_data(b);
  for (size_t i = 0; i < 2; i++) { /* the methods that count the range itself */
    lnuma_pagesizes ps;
    /* A huge page's worth of bytes from three quarters into the first. */
    if (!count(p + t.pmd_size / 2 + t.pmd_size / 4, t.pmd_size, methods[i], &ps)) continue;
    const lnuma_pagesize_count *pmd = of_size(&ps, t.pmd_size);
    assert_non_null(pmd);
    assert_int_equal(pmd->pages, 2);
    assert_int_equal(pmd->bytes, t.pmd_size);
    assert_int_equal(ps.bytes, t.pmd_size);
  }
  lnuma_buffer_free(b);
}

static void thp_switched_off_for_the_process_gives_none(void **state) {
  (void)state;
  if (!thp_possible()) skip();
  lnuma_error err;
  assert_int_equal(lnuma_thp_set_process(0, &err), 0);
  lnuma_thp_settings t;
  assert_int_equal(lnuma_thp_settings_read(&t, NULL), 0);
  int off = t.process_disabled;
  lnuma_buffer *b = alloc(8 * MiB, LNUMA_HUGE_THP);
  assert_int_equal(lnuma_thp_set_process(1, &err), 0);
  assert_int_equal(off, 1);
  lnuma_pagesizes ps;
  assert_int_equal(lnuma_pagesizes_of(lnuma_buffer_data(b), 8 * MiB, &ps, &err), 0);
  assert_int_equal(ps.huge_bytes, 0);
  lnuma_buffer_free(b);
  assert_int_equal(lnuma_thp_settings_read(&t, NULL), 0);
  assert_int_equal(t.process_disabled, 0);
}

/* ---- hugetlb: reserved pages, or reserved here by root and given back ---- */

static long read_long(const char *path) {
  FILE *f = fopen(path, "r");
  long v = -1;
  if (f == NULL) return -1;
  if (fscanf(f, "%ld", &v) != 1) v = -1;
  fclose(f);
  return v;
}

static int write_long(const char *path, long v) {
  FILE *f = fopen(path, "w");
  if (f == NULL) return -1;
  int ok = fprintf(f, "%ld\n", v) > 0;
  return (fclose(f) == 0 && ok) ? 0 : -1;
}

#define NR_2M "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
#define FREE_2M "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
static long reserved_before = -1; /* what teardown puts back */

static int give_back_hugetlb(void **state) {
  (void)state;
  if (reserved_before >= 0) write_long(NR_2M, reserved_before);
  reserved_before = -1;
  return 0;
}

static void hugetlb_pages_count_at_their_size(void **state) {
  (void)state;
  if (read_long(FREE_2M) < 2) {
    long nr = read_long(NR_2M);
    if (geteuid() != 0 || nr < 0) skip();
    reserved_before = nr;
    if (write_long(NR_2M, nr + 2) != 0 || read_long(FREE_2M) < 2) skip();
  }
  lnuma_buffer *b = alloc(4 * MiB, LNUMA_HUGE_2M);
  for (size_t i = 0; i < N_METHODS; i++) {
    lnuma_pagesizes ps;
    if (!count(lnuma_buffer_data(b), 4 * MiB, methods[i], &ps)) continue;
    const lnuma_pagesize_count *h = of_size(&ps, 2 * MiB);
    assert_non_null(h);
    assert_int_equal(h->pages, 2);
    assert_int_equal(h->bytes, 4 * MiB);
    assert_int_equal(ps.huge_bytes, 4 * MiB);
    assert_int_equal(ps.present_bytes, 4 * MiB);
  }
  lnuma_buffer_free(b);
}

/* ---- plans applied by a C host carry the proof too --------------------------- */

static void applied_plan_regions_carry_their_page_sizes(void **state) {
  (void)state;
  char dir[] = "/tmp/lnuma-pagesize-XXXXXX", path[64];
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/plan.lua", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("return { memory = {\n"
        "  { name = 'book', size = '8M', node = topology.allowed.nodes[1], huge = 'thp' },\n"
        "  { name = 'ring', size = '1M', node = topology.allowed.nodes[1], huge = false },\n"
        "} }\n", f);
  fclose(f);
  lnuma_error err;
  lnuma_plan *p = lnuma_plan_load(path, NULL, &err);
  remove(path);
  rmdir(dir);
  if (p == NULL) fail_msg("load: %s", err.msg);
  lnuma_plan_applied *a = lnuma_plan_apply(p, &err);
  if (a == NULL) fail_msg("apply: %s", err.msg);
  const lnuma_plan_placed_region *book = lnuma_plan_applied_region_named(a, "book");
  const lnuma_plan_placed_region *ring = lnuma_plan_applied_region_named(a, "ring");
  assert_true(ring->pagesizes.method != LNUMA_PAGESIZE_AUTO);
  assert_int_equal(ring->pagesizes.huge_bytes, 0);
  assert_true(ring->pagesizes.present_bytes >= MiB);
  if (thp_possible()) {
    assert_true(book->pagesizes.method != LNUMA_PAGESIZE_AUTO);
    assert_true(book->pagesizes.huge_bytes > 0);
  }
  lnuma_plan_applied_free(a);
  lnuma_plan_free(p);
}

static void bad_requests_fail_and_names_round_trip(void **state) {
  (void)state;
  lnuma_pagesizes ps;
  lnuma_error err;
  char x = 0;
  assert_int_equal(lnuma_pagesizes_of(NULL, 4096, &ps, &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_int_equal(lnuma_pagesizes_of(&x, 0, &ps, &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_int_equal(lnuma_pagesizes_of_method(&x, 1, (lnuma_pagesize_method)9, &ps, &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_string_equal(lnuma_pagesize_method_name(LNUMA_PAGESIZE_KPAGEFLAGS), "kpageflags");
  assert_string_equal(lnuma_pagesize_method_name(LNUMA_PAGESIZE_PAGEMAP_SCAN), "pagemap_scan");
  assert_string_equal(lnuma_pagesize_method_name(LNUMA_PAGESIZE_SMAPS), "smaps");
  assert_string_equal(lnuma_pagesize_method_name((lnuma_pagesize_method)9), "unknown");
  /* A byte on the stack: present, on a base page, counted by AUTO. */
  assert_int_equal(lnuma_pagesizes_of(&x, 1, &ps, &err), 0);
  assert_true(ps.method != LNUMA_PAGESIZE_AUTO);
  assert_true(ps.present_bytes > 0);
}

static void thp_settings_are_the_kernels(void **state) {
  (void)state;
  lnuma_thp_settings t;
  assert_int_equal(lnuma_thp_settings_read(&t, NULL), 0);
  assert_true(t.pmd_size > (size_t)sysconf(_SC_PAGESIZE)); /* 2 MiB on x86-64 */
  if (!t.available) skip();
  FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  assert_non_null(f);
  char line[128];
  assert_non_null(fgets(line, sizeof line, f));
  fclose(f);
  char want[32];
  snprintf(want, sizeof want, "[%s]", t.enabled);
  assert_non_null(strstr(line, want));
  assert_true(t.defrag[0] != '\0');
  assert_true(t.pmd_enabled[0] != '\0');
  assert_string_not_equal(t.pmd_enabled, "inherit");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(base_pages_count_as_base_pages),
      cmocka_unit_test(thp_buffer_counts_huge_pages_by_every_method),
      cmocka_unit_test(part_of_a_huge_page_counts_that_page_once),
      cmocka_unit_test(thp_switched_off_for_the_process_gives_none),
      cmocka_unit_test_teardown(hugetlb_pages_count_at_their_size, give_back_hugetlb),
      cmocka_unit_test(applied_plan_regions_carry_their_page_sizes),
      cmocka_unit_test(bad_requests_fail_and_names_round_trip),
      cmocka_unit_test(thp_settings_are_the_kernels),
  };
  return cmocka_run_group_tests_name("pagesize", tests, NULL, NULL);
}
