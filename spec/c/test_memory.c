/* C tests of the memory core: buffers, placement, migration, policies,
 * arenas, pools, counters -- as a C host uses them, without Lua. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lnuma.h"

static int first_node(void) {
  lnuma_set nodes;
  assert_int_equal(lnuma_nodes_online(&nodes, NULL), 0);
  return lnuma_set_next(&nodes, -1);
}

static uint64_t total_pages(const lnuma_placement *pl) {
  uint64_t n = 0;
  for (int i = 0; i < LNUMA_MAX_NODES; i++) n += pl->by_node[i];
  return n;
}

static void buffer_bound_to_a_node_has_every_page_there(void **state) {
  (void)state;
  int node = first_node();
  lnuma_alloc_opts o;
  lnuma_alloc_opts_init(&o);
  lnuma_set_add(&o.nodes, node);
  lnuma_error err;
  lnuma_buffer *b = lnuma_buffer_alloc(1 << 20, &o, &err);
  assert_non_null(b);
  assert_int_equal(lnuma_buffer_size(b), 1 << 20);
  const lnuma_buffer_info *in = lnuma_buffer_info_of(b);
  assert_int_equal(in->policy, LNUMA_MPOL_BIND); /* nodes alone mean bind */
  assert_true(lnuma_set_has(&in->nodes, node));
  assert_int_equal(in->populated, LNUMA_POPULATE_MADVISE);
  lnuma_placement pl;
  int page_nodes[256];
  assert_int_equal(lnuma_placement_of(lnuma_buffer_data(b), 1 << 20, 0, &pl, page_nodes, 256,
                                      &err),
                   0);
  assert_int_equal(pl.page_size, 4096);
  assert_int_equal(pl.pages, 256);
  assert_int_equal(pl.absent, 0);
  assert_int_equal(pl.by_node[node], 256);
  assert_int_equal(page_nodes[0], node);
  assert_int_equal(page_nodes[255], node);
  lnuma_mempolicy p;
  lnuma_set kn;
  assert_int_equal(lnuma_range_policy(lnuma_buffer_data(b), &p, &kn, &err), 0);
  if (in->policy_applied) {
    assert_int_equal(p, LNUMA_MPOL_BIND);
    assert_true(lnuma_set_equal(&kn, &in->nodes));
  }
  lnuma_buffer_free(b);
  lnuma_buffer_free(NULL);
}

static void unpopulated_pages_are_absent_until_touched(void **state) {
  (void)state;
  lnuma_alloc_opts o;
  lnuma_alloc_opts_init(&o);
  o.populate = 0;
  lnuma_buffer *b = lnuma_buffer_alloc(10 * 4096, &o, NULL);
  assert_non_null(b);
  lnuma_placement pl;
  assert_int_equal(lnuma_placement_of(lnuma_buffer_data(b), 10 * 4096, 0, &pl, NULL, 0, NULL), 0);
  assert_int_equal(pl.absent, 10);
  ((volatile char *)lnuma_buffer_data(b))[3 * 4096] = 1;
  assert_int_equal(lnuma_placement_of(lnuma_buffer_data(b), 10 * 4096, 0, &pl, NULL, 0, NULL), 0);
  assert_int_equal(pl.absent, 9);
  assert_int_equal(total_pages(&pl), 1);
  lnuma_buffer_free(b);
}

static void every_policy_is_accepted_or_explained(void **state) {
  (void)state;
  for (int p = LNUMA_MPOL_DEFAULT; p <= LNUMA_MPOL_WEIGHTED_INTERLEAVE; p++) {
    lnuma_alloc_opts o;
    lnuma_alloc_opts_init(&o);
    o.policy = (lnuma_mempolicy)p;
    lnuma_error err;
    lnuma_buffer *b = lnuma_buffer_alloc(64 * 1024, &o, &err);
    if (b == NULL) {
      assert_int_equal(err.code, ENOSYS);
      assert_non_null(strstr(err.msg, "needs Linux"));
      continue;
    }
    const lnuma_buffer_info *in = lnuma_buffer_info_of(b);
    assert_int_equal(in->policy, p);
    if (!in->policy_applied) assert_true(strlen(in->policy_note) > 0);
    lnuma_placement pl;
    assert_int_equal(lnuma_placement_of(lnuma_buffer_data(b), 64 * 1024, 0, &pl, NULL, 0, &err),
                     0);
    assert_int_equal(total_pages(&pl), 16);
    lnuma_buffer_free(b);
  }
}

static void policy_names_round_trip(void **state) {
  (void)state;
  for (int p = LNUMA_MPOL_DEFAULT; p <= LNUMA_MPOL_WEIGHTED_INTERLEAVE; p++) {
    lnuma_mempolicy back;
    assert_int_equal(lnuma_mempolicy_parse(lnuma_mempolicy_name((lnuma_mempolicy)p), &back, NULL), 0);
    assert_int_equal(back, p);
  }
  lnuma_error err;
  lnuma_mempolicy back;
  assert_int_equal(lnuma_mempolicy_parse("bound", &back, &err), -1);
  assert_string_equal(lnuma_mempolicy_name(LNUMA_MPOL_WEIGHTED_INTERLEAVE), "weighted_interleave");
  assert_int_equal(err.code, EINVAL);
  assert_non_null(strstr(err.msg, "'bound'"));
  assert_string_equal(lnuma_huge_name(LNUMA_HUGE_2M), "2M");
  assert_string_equal(lnuma_populate_name(LNUMA_POPULATE_MADVISE), "madvise");
}

static void bad_requests_fail_with_a_reason(void **state) {
  (void)state;
  lnuma_error err;
  lnuma_alloc_opts o;
  assert_null(lnuma_buffer_alloc(0, NULL, &err));
  assert_int_equal(err.code, EINVAL);
  assert_non_null(strstr(err.msg, "size must be positive"));

  lnuma_alloc_opts_init(&o);
  lnuma_set_add(&o.nodes, 999);
  assert_null(lnuma_buffer_alloc(4096, &o, &err));
  assert_int_equal(err.code, ENODEV);
  assert_non_null(strstr(err.msg, "node 999 does not exist"));

  lnuma_alloc_opts_init(&o);
  o.policy = LNUMA_MPOL_LOCAL;
  lnuma_set_add(&o.nodes, 0);
  assert_null(lnuma_buffer_alloc(4096, &o, &err));
  assert_int_equal(err.code, EINVAL);
  assert_non_null(strstr(err.msg, "'local' takes no nodes"));

  lnuma_alloc_opts_init(&o);
  o.policy = LNUMA_MPOL_PREFERRED;
  lnuma_set_add(&o.nodes, 0);
  lnuma_set_add(&o.nodes, 1);
  assert_int_equal(lnuma_alloc_check(4096, &o, &err), -1);
  assert_non_null(strstr(err.msg, "takes one node"));

  lnuma_alloc_opts_init(&o);
  o.touch_cpu = 100000;
  assert_null(lnuma_buffer_alloc(4096, &o, &err));
  assert_int_equal(err.code, ENODEV);
  assert_non_null(strstr(err.msg, "touch_cpu: CPU 100000 does not exist"));

  lnuma_alloc_opts_init(&o);
  o.huge = LNUMA_HUGE_2M;
  o.populate = 0;
  assert_null(lnuma_buffer_alloc(4096, &o, &err));
  assert_int_equal(err.code, EINVAL);
}

static void hugetlb_without_reserved_pages_says_how_to_reserve(void **state) {
  (void)state;
  FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
  unsigned long free_pages = 0;
  if (f != NULL) {
    if (fscanf(f, "%lu", &free_pages) != 1) free_pages = 0;
    fclose(f);
  }
  if (free_pages > 0) skip();
  lnuma_alloc_opts o;
  lnuma_alloc_opts_init(&o);
  o.huge = LNUMA_HUGE_2M;
  lnuma_error err;
  assert_null(lnuma_buffer_alloc(4 << 20, &o, &err));
  assert_true(err.code == ENOMEM || err.code == ENOSYS);
  if (err.code == ENOMEM) assert_non_null(strstr(err.msg, "nr_hugepages"));
}

static void migrating_to_where_pages_are_moves_nothing(void **state) {
  (void)state;
  int node = first_node();
  lnuma_buffer *b = lnuma_buffer_alloc(64 * 1024, NULL, NULL);
  assert_non_null(b);
  lnuma_set target;
  lnuma_set_zero(&target);
  lnuma_set_add(&target, node);
  lnuma_migrate_result r;
  lnuma_error err;
  assert_int_equal(lnuma_migrate(lnuma_buffer_data(b), 64 * 1024, 0, &target, &r, &err), 0);
  assert_int_equal(r.pages, 16);
  assert_int_equal(r.already + r.moved, 16);
  assert_int_equal(r.failed, 0);
  lnuma_set_add(&target, 999);
  assert_int_equal(lnuma_migrate(lnuma_buffer_data(b), 64 * 1024, 0, &target, &r, &err), -1);
  assert_int_equal(err.code, ENODEV);
  lnuma_set_zero(&target);
  assert_int_equal(lnuma_migrate(lnuma_buffer_data(b), 64 * 1024, 0, &target, &r, &err), -1);
  assert_int_equal(err.code, EINVAL);
  lnuma_buffer_free(b);
}

static void arena_hands_out_aligned_memory_until_full(void **state) {
  (void)state;
  lnuma_alloc_opts o;
  lnuma_alloc_opts_init(&o);
  lnuma_set_add(&o.nodes, first_node());
  lnuma_error err;
  lnuma_arena *a = lnuma_arena_create(4096, &o, &err);
  assert_non_null(a);
  assert_int_equal(lnuma_arena_capacity(a), 4096);
  char *p1 = lnuma_arena_alloc(a, 10, 0);
  char *p2 = lnuma_arena_alloc(a, 1, 64);
  assert_non_null(p1);
  assert_non_null(p2);
  assert_int_equal((uintptr_t)p2 % 64, 0);
  assert_true(p2 >= p1 + 10);
  assert_int_equal(lnuma_arena_used(a), 65);
  memset(p1, 1, 10);
  assert_null(lnuma_arena_alloc(a, 4096, 0));
  assert_int_equal(errno, ENOMEM);
  assert_null(lnuma_arena_alloc(a, 8, 3));
  assert_int_equal(errno, EINVAL);
  assert_null(lnuma_arena_alloc(a, 0, 0));
  char *rest = lnuma_arena_alloc(a, 4096 - 80, 16);
  assert_non_null(rest);
  assert_int_equal(lnuma_arena_used(a), 4096);
  assert_null(lnuma_arena_alloc(a, 1, 1));
  lnuma_arena_reset(a);
  assert_int_equal(lnuma_arena_used(a), 0);
  assert_ptr_equal(lnuma_arena_alloc(a, 10, 0), p1);
  lnuma_placement pl;
  lnuma_buffer *buf = lnuma_arena_buffer(a);
  assert_int_equal(lnuma_placement_of(lnuma_buffer_data(buf), 4096, 0, &pl, NULL, 0, &err), 0);
  assert_int_equal(pl.by_node[first_node()], 1);
  lnuma_arena_destroy(a);
  lnuma_arena_destroy(NULL);
}

static void pool_gets_and_puts_in_constant_time_and_catches_misuse(void **state) {
  (void)state;
  lnuma_error err;
  lnuma_pool *p = lnuma_pool_create(24, 3, 0, NULL, &err);
  assert_non_null(p);
  assert_int_equal(lnuma_pool_stride(p), 32);
  assert_int_equal(lnuma_pool_object_size(p), 24);
  assert_int_equal(lnuma_pool_count(p), 3);
  assert_int_equal(lnuma_pool_available(p), 3);
  char *a = lnuma_pool_get(p), *b = lnuma_pool_get(p), *c = lnuma_pool_get(p);
  assert_non_null(a);
  assert_ptr_equal(b, a + 32); /* handed out in address order at first */
  assert_ptr_equal(c, a + 64);
  assert_null(lnuma_pool_get(p));
  assert_int_equal(lnuma_pool_available(p), 0);
  assert_int_equal(lnuma_pool_index(p, b), 1);
  assert_true(lnuma_pool_in_use(p, 1));
  memset(a, 0xff, 24);
  assert_int_equal(lnuma_pool_put(p, b, &err), 0);
  assert_false(lnuma_pool_in_use(p, 1));
  assert_int_equal(lnuma_pool_put(p, b, &err), -1);
  assert_int_equal(err.code, EALREADY);
  assert_int_equal(lnuma_pool_put(p, a + 1, &err), -1);
  assert_int_equal(err.code, EINVAL);
  int local;
  assert_int_equal(lnuma_pool_put(p, &local, &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_ptr_equal(lnuma_pool_get(p), b); /* last in, first out */
  lnuma_pool *other = lnuma_pool_create(24, 3, 0, NULL, &err);
  assert_non_null(other);
  assert_int_equal(lnuma_pool_put(other, a, &err), -1);
  assert_int_equal(err.code, EINVAL);
  lnuma_pool_destroy(other);
  lnuma_pool_destroy(p);

  assert_null(lnuma_pool_create(0, 3, 0, NULL, &err));
  assert_int_equal(err.code, EINVAL);
  assert_null(lnuma_pool_create(8, 0, 0, NULL, &err));
  assert_null(lnuma_pool_create(8, 4, 12, NULL, &err));
  assert_non_null(strstr(err.msg, "align 12"));
  p = lnuma_pool_create(100, 2, 0, NULL, &err);
  assert_int_equal(lnuma_pool_stride(p), 128); /* cache-line aligned */
  lnuma_pool_destroy(p);
  p = lnuma_pool_create(100, 2, 8, NULL, &err);
  assert_int_equal(lnuma_pool_stride(p), 104);
  assert_int_equal(lnuma_pool_index(p, (char *)lnuma_buffer_data(lnuma_pool_buffer(p)) + 104), 1);
  lnuma_pool_destroy(p);
}

static void thread_policy_can_be_set_and_read_back(void **state) {
  (void)state;
  lnuma_mempolicy p;
  lnuma_set nodes;
  lnuma_error err;
  lnuma_set want;
  lnuma_set_zero(&want);
  lnuma_set_add(&want, first_node());
  if (lnuma_set_thread_policy(LNUMA_MPOL_INTERLEAVE, &want, &err) != 0) {
    assert_int_equal(err.code, EPERM); /* refused here: a container */
    skip();
  }
  assert_int_equal(lnuma_mem_binding(&p, &nodes, &err), 0);
  assert_int_equal(p, LNUMA_MPOL_INTERLEAVE);
  assert_true(lnuma_set_equal(&nodes, &want));
  assert_int_equal(lnuma_set_thread_policy(LNUMA_MPOL_DEFAULT, NULL, &err), 0);
  assert_int_equal(lnuma_mem_binding(&p, &nodes, &err), 0);
  assert_int_equal(p, LNUMA_MPOL_DEFAULT);
  lnuma_set_add(&want, 999);
  assert_int_equal(lnuma_set_thread_policy(LNUMA_MPOL_BIND, &want, &err), -1);
  assert_int_equal(err.code, ENODEV);
}

static void counters_and_meminfo_read_from_sys(void **state) {
  (void)state;
  int node = first_node();
  lnuma_numastat s;
  lnuma_error err;
  assert_int_equal(lnuma_numastat_node(node, &s, &err), 0);
  assert_true(s.numa_hit > 0);
  assert_int_equal(lnuma_numastat_node(999, &s, &err), -1);
  assert_int_equal(err.code, ENODEV);
  lnuma_meminfo m;
  assert_int_equal(lnuma_meminfo_node(node, &m, &err), 0);
  assert_true(m.total > 0 && m.free > 0 && m.free <= m.total);
  assert_int_equal(m.used, m.total - m.free);
  assert_true(m.n_huge >= 1);
  assert_int_equal(m.huge[0].page_size, 2 << 20);
  assert_int_equal(lnuma_meminfo_node(-1, &m, &err), -1);
  lnuma_proc_usage u[LNUMA_MAX_NODES];
  lnuma_buffer *b = lnuma_buffer_alloc(4 << 20, NULL, NULL);
  assert_non_null(b);
  assert_int_equal(lnuma_numastat_process(0, u, LNUMA_MAX_NODES, &err), 0);
  uint64_t total = 0;
  for (int i = 0; i < LNUMA_MAX_NODES; i++) total += u[i].private_bytes;
  assert_true(total >= (4u << 20));
  lnuma_buffer_free(b);
  assert_int_equal(lnuma_numastat_process(999999999, u, LNUMA_MAX_NODES, &err), -1);
  assert_int_equal(err.code, ESRCH);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(buffer_bound_to_a_node_has_every_page_there),
      cmocka_unit_test(unpopulated_pages_are_absent_until_touched),
      cmocka_unit_test(every_policy_is_accepted_or_explained),
      cmocka_unit_test(policy_names_round_trip),
      cmocka_unit_test(bad_requests_fail_with_a_reason),
      cmocka_unit_test(hugetlb_without_reserved_pages_says_how_to_reserve),
      cmocka_unit_test(migrating_to_where_pages_are_moves_nothing),
      cmocka_unit_test(arena_hands_out_aligned_memory_until_full),
      cmocka_unit_test(pool_gets_and_puts_in_constant_time_and_catches_misuse),
      cmocka_unit_test(thread_policy_can_be_set_and_read_back),
      cmocka_unit_test(counters_and_meminfo_read_from_sys),
  };
  return cmocka_run_group_tests_name("memory", tests, NULL, NULL);
}
