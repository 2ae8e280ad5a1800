/* C tests of lnuma_exec: exit statuses, launch failures, captured output,
 * and the placement of a program bound to node 0 from its numa_maps. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lnuma.h"

static int run(char *const *argv, lnuma_exec_options *o, lnuma_exec_result *r,
               lnuma_error *err) {
  o->argv = argv;
  return lnuma_exec(o, r, err);
}

static void exit_statuses_come_back(void **state) {
  (void)state;
  lnuma_exec_options o;
  lnuma_exec_result r;
  lnuma_error err;
  lnuma_exec_options_init(&o);
  char *t[] = {"true", NULL};
  assert_int_equal(run(t, &o, &r, &err), 0);
  assert_int_equal(r.exit_code, 0);
  assert_int_equal(r.failed_step, LNUMA_EXEC_STEP_NONE);
  assert_true(r.wall_ns > 0);
  assert_true(r.pid > 0);
  lnuma_exec_result_free(&r);
  char *three[] = {"sh", "-c", "exit 3", NULL};
  assert_int_equal(run(three, &o, &r, &err), 0);
  assert_int_equal(r.exit_code, 3);
  assert_int_equal(r.signal, 0);
  lnuma_exec_result_free(&r);
  char *killed[] = {"sh", "-c", "kill -KILL $$", NULL};
  assert_int_equal(run(killed, &o, &r, &err), 0);
  assert_int_equal(r.signal, 9);
  assert_int_equal(r.exit_code, 137);
  lnuma_exec_result_free(&r);
  lnuma_exec_result_free(&r); /* twice is harmless */
}

static void a_missing_program_is_exit_127(void **state) {
  (void)state;
  lnuma_exec_options o;
  lnuma_exec_result r;
  lnuma_error err;
  lnuma_exec_options_init(&o);
  char *argv[] = {"lnuma-no-such-program", NULL};
  assert_int_equal(run(argv, &o, &r, &err), -1);
  assert_int_equal(err.code, ENOENT);
  assert_string_equal(err.msg, "exec: lnuma-no-such-program: command not found (not in PATH)");
  assert_int_equal(r.failed_step, LNUMA_EXEC_STEP_EXEC);
  assert_string_equal(lnuma_exec_step_name(r.failed_step), "exec");
  assert_int_equal(r.exit_code, 127);
  lnuma_exec_result_free(&r);
  char *none[] = {NULL};
  assert_int_equal(run(none, &o, &r, &err), -1);
  assert_int_equal(err.code, EINVAL);
  lnuma_exec_result_free(&r);
}

static void output_is_captured_and_its_tail_kept(void **state) {
  (void)state;
  lnuma_exec_options o;
  lnuma_exec_result r;
  lnuma_error err;
  lnuma_exec_options_init(&o);
  o.out_fd = o.err_fd = -1;
  o.capture_out = o.capture_err = 8;
  char *argv[] = {"sh", "-c", "printf 0123456789abc; printf oops >&2", NULL};
  assert_int_equal(run(argv, &o, &r, &err), 0);
  assert_int_equal(r.out_len, 8);
  assert_memory_equal(r.out, "56789abc", 8);
  assert_true(r.out_truncated);
  assert_string_equal(r.err, "oops");
  assert_false(r.err_truncated);
  lnuma_exec_result_free(&r);
}

static void a_program_bound_to_node_0_has_its_pages_there(void **state) {
  (void)state;
  lnuma_exec_options o;
  lnuma_exec_result r;
  lnuma_error err;
  lnuma_exec_options_init(&o);
  o.has_policy = 1;
  o.policy = LNUMA_MPOL_BIND;
  lnuma_set_add(&o.nodes, 0);
  char *argv[] = {"sleep", "0.3", NULL};
  assert_int_equal(run(argv, &o, &r, &err), 0);
  assert_int_equal(r.exit_code, 0);
  assert_true(r.samples > 0);
  assert_true(r.n_mappings > 0);
  uint64_t pages = 0;
  for (size_t i = 0; i < r.n_mappings; i++)
    for (int n = 0; n < r.mappings[i].n_nodes; n++) {
      if (n != 0) assert_int_equal(r.mappings[i].by_node[n], 0);
      pages += r.mappings[i].by_node[n];
    }
  assert_true(pages > 0);
  assert_true(lnuma_set_count(&r.cpus_ran) > 0);
  lnuma_exec_result_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(exit_statuses_come_back),
      cmocka_unit_test(a_missing_program_is_exit_127),
      cmocka_unit_test(output_is_captured_and_its_tail_kept),
      cmocka_unit_test(a_program_bound_to_node_0_has_its_pages_there),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
