/* C tests of per-buffer weights: the weight table and the chunk pattern (a
 * pure function of the weights), and a weighted buffer on node 0. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lnuma.h"

static lnuma_weights make(int n, const int *nodes, const int *weights) {
  lnuma_weights w;
  lnuma_weights_init(&w);
  for (int i = 0; i < n; i++)
    assert_int_equal(lnuma_weights_add(&w, nodes[i], weights[i], NULL), 0);
  return w;
}

static void three_to_one_repeats_0_0_1_0(void **state) {
  (void)state;
  lnuma_weights w = make(2, (const int[]){0, 1}, (const int[]){3, 1});
  assert_int_equal(lnuma_weights_total(&w), 4);
  int nodes[12];
  assert_int_equal(lnuma_weights_pattern(&w, 0, 12, nodes, NULL), 0);
  const int want[12] = {0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0};
  assert_memory_equal(nodes, want, sizeof want);
  /* From a later chunk: the same sequence, shifted. */
  int later[4];
  assert_int_equal(lnuma_weights_pattern(&w, 6, 4, later, NULL), 0);
  assert_memory_equal(later, want + 6, sizeof later);
}

/* Every window of sum(weights) consecutive chunks holds the exact mix, and
 * the chunks of a node are spread (no run longer than its fair share). */
static void every_window_holds_the_exact_mix(void **state) {
  (void)state;
  const int nodes[] = {0, 2, 5, 7};
  const int weights[] = {5, 3, 1, 0};
  lnuma_weights w = make(4, nodes, weights);
  int total = lnuma_weights_total(&w);
  assert_int_equal(total, 9);
  enum { N = 200 };
  int out[N];
  assert_int_equal(lnuma_weights_pattern(&w, 3, N, out, NULL), 0);
  for (int start = 0; start + total <= N; start++) {
    int count[8] = {0};
    for (int k = start; k < start + total; k++) {
      assert_true(out[k] >= 0 && out[k] < 8);
      count[out[k]]++;
    }
    assert_int_equal(count[0], 5);
    assert_int_equal(count[2], 3);
    assert_int_equal(count[5], 1);
    assert_int_equal(count[7], 0); /* weight 0: no chunk */
  }
  /* 5 of 9 on node 0: never three node-0 chunks in a row. */
  for (int k = 0; k + 2 < N; k++) assert_false(out[k] == 0 && out[k + 1] == 0 && out[k + 2] == 0);
}

static void one_node_takes_every_chunk(void **state) {
  (void)state;
  lnuma_weights w = make(1, (const int[]){3}, (const int[]){7});
  int out[20];
  assert_int_equal(lnuma_weights_pattern(&w, 1000000007, 20, out, NULL), 0);
  for (int k = 0; k < 20; k++) assert_int_equal(out[k], 3);
}

static void bad_tables_are_refused_with_a_message(void **state) {
  (void)state;
  lnuma_weights w;
  lnuma_error err;
  lnuma_weights_init(&w);
  assert_int_equal(lnuma_weights_add(&w, -1, 1, &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_string_equal(err.msg, "weights: node -1 does not exist (nodes are 0..1023)");
  assert_int_equal(lnuma_weights_add(&w, 0, LNUMA_WEIGHT_MAX + 1, &err), -1);
  assert_string_equal(err.msg, "weights: node 0: weight 1001 is not in 0..1000");
  assert_int_equal(lnuma_weights_add(&w, 0, -2, &err), -1);
  assert_int_equal(lnuma_weights_add(&w, 1, 0, &err), 0);
  assert_int_equal(lnuma_weights_add(&w, 1, 2, &err), -1);
  assert_string_equal(err.msg, "weights: node 1 is named twice");
  int out[4];
  assert_int_equal(lnuma_weights_pattern(&w, 0, 4, out, &err), -1);
  assert_string_equal(err.msg,
                      "weights: the weights sum to 0 (give at least one node a positive weight)");
  lnuma_weights_init(&w);
  assert_int_equal(lnuma_weights_check(&w, &err), -1);
  assert_string_equal(err.msg, "weights: no node named");
  for (int n = 0; n < LNUMA_WEIGHTS_MAX; n++)
    assert_int_equal(lnuma_weights_add(&w, n, 1, NULL), 0);
  assert_int_equal(lnuma_weights_add(&w, 100, 1, &err), -1);
  assert_string_equal(err.msg, "weights: more than 64 nodes");
  /* Filled by hand, out of order. */
  lnuma_weights_init(&w);
  w.n = 2;
  w.node[0] = 1;
  w.node[1] = 0;
  w.weight[0] = w.weight[1] = 1;
  assert_int_equal(lnuma_weights_check(&w, &err), -1);
  assert_string_equal(err.msg, "weights: nodes must be distinct and ascending");
}

/* A weighted buffer on node 0 (every machine has it): every page there, the
 * info says the weights and the chunk. */
static void a_weighted_buffer_on_node_0(void **state) {
  (void)state;
  lnuma_alloc_opts o;
  lnuma_alloc_opts_init(&o);
  assert_int_equal(lnuma_weights_add(&o.weights, 0, 2, NULL), 0);
  lnuma_error err;
  lnuma_buffer *b = lnuma_buffer_alloc(256 * 1024, &o, &err);
  assert_non_null(b);
  const lnuma_buffer_info *in = lnuma_buffer_info_of(b);
  assert_int_equal(in->policy, LNUMA_MPOL_WEIGHTED);
  assert_string_equal(lnuma_mempolicy_name(in->policy), "weighted");
  assert_int_equal(in->weights.n, 1);
  assert_int_equal(in->chunk_size, in->page_size);
  lnuma_placement *pl = malloc(sizeof *pl);
  assert_non_null(pl);
  assert_int_equal(lnuma_placement_of(lnuma_buffer_data(b), 256 * 1024, 0, pl, NULL, 0, &err), 0);
  assert_int_equal(pl->absent, 0);
  assert_int_equal(pl->by_node[0], pl->pages);
  free(pl);
  lnuma_buffer_free(b);
  /* populate = 0 cannot place pages by weight. */
  o.populate = 0;
  assert_null(lnuma_buffer_alloc(4096, &o, &err));
  assert_int_equal(err.code, EINVAL);
  /* Neither can the thread take it as its policy. */
  assert_int_equal(lnuma_set_thread_policy(LNUMA_MPOL_WEIGHTED, NULL, &err), -1);
  assert_int_equal(err.code, EINVAL);
}

/* A C host's plan with weights: the region carries them, apply places and
 * checks it. */
static void a_plan_region_with_weights(void **state) {
  (void)state;
  char path[] = "/tmp/lnuma-weights-plan-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  assert_non_null(f);
  fputs("return { memory = { { name = 'w', size = '1M',\n"
        "  weights = { [topology.allowed.nodes[1]] = 3 } } } }\n",
        f);
  fclose(f);
  lnuma_error err;
  lnuma_plan *p = lnuma_plan_load(path, NULL, &err);
  remove(path);
  if (p == NULL) fail_msg("load: %s", err.msg);
  const lnuma_plan_region *r = lnuma_plan_region_named(p, "w");
  assert_non_null(r);
  assert_string_equal(r->policy, "weighted");
  assert_int_equal(r->weights.n, 1);
  assert_int_equal(r->weights.weight[0], 3);
  lnuma_plan_applied *a = lnuma_plan_apply(p, &err);
  if (a == NULL) fail_msg("apply: %s", err.msg);
  const lnuma_plan_placed_region *w = lnuma_plan_applied_region_named(a, "w");
  assert_non_null(w);
  assert_true(w->ok);
  assert_int_equal(w->placement.by_node[r->weights.node[0]], w->placement.pages);
  assert_int_equal(lnuma_buffer_info_of(w->buffer)->policy, LNUMA_MPOL_WEIGHTED);
  lnuma_plan_applied_free(a);
  lnuma_plan_free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(three_to_one_repeats_0_0_1_0),
      cmocka_unit_test(every_window_holds_the_exact_mix),
      cmocka_unit_test(one_node_takes_every_chunk),
      cmocka_unit_test(bad_tables_are_refused_with_a_message),
      cmocka_unit_test(a_weighted_buffer_on_node_0),
      cmocka_unit_test(a_plan_region_with_weights),
  };
  return cmocka_run_group_tests_name("weights", tests, NULL, NULL);
}
