/* C tests of the host API: loading placement plans (lnuma/plan.h), applying
 * them, and opening lnuma into a host's own lua_State (lnuma_lua.h). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lualib.h>

#include "lnuma.h"
#include "lnuma_lua.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* Two packages of one node each, 2 cores x 2 PUs per node: node 0 has CPUs
 * 0-3, node 1 CPUs 4-7; CPUs 2k and 2k+1 are SMT siblings. */
#define SYNTHETIC "pack:2 numa:1 core:2 pu:2"

static char dir[64];
static int under_valgrind;

static int make_dir(void **state) {
  (void)state;
  strcpy(dir, "/tmp/lnuma-plan-XXXXXX");
  under_valgrind = getenv("VALGRIND") != NULL && strcmp(getenv("VALGRIND"), "1") == 0;
  return mkdtemp(dir) == NULL ? -1 : 0;
}

static int remove_dir(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* Writes text to dir/name and returns the path (static storage, per name). */
static const char *write_plan(const char *name, const char *text) {
  static char paths[16][128];
  static int next;
  char *path = paths[next++ % 16];
  snprintf(path, 128, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  return path;
}

static const char *LOCAL_PLAN =
    "return {\n"
    "  threads = {\n"
    "    { name = 'feed', cpus = topology.allowed.cpus[1], uses = { 'ring', 'orders' } },\n"
    "    { name = 'strategy', cpus = topology.allowed.cpus[1], hot = false },\n"
    "  },\n"
    "  memory = {\n"
    "    { name = 'ring', size = '1M', node = topology.allowed.nodes[1] },\n"
    "    { name = 'book', size = 65536, node = topology.allowed.nodes[1], huge = false },\n"
    "  },\n"
    "  pools = { { name = 'orders', node = topology.allowed.nodes[1], size = 64, count = 100 } },\n"
    "}\n";

static void loads_iterates_and_frees(void **state) {
  (void)state;
  lnuma_error err;
  lnuma_plan *p = lnuma_plan_load(write_plan("local.lua", LOCAL_PLAN), NULL, &err);
  assert_non_null(p);
  assert_int_equal(err.code, 0);
  assert_true(lnuma_plan_is_live(p));
  assert_non_null(strstr(lnuma_plan_file(p), "local.lua"));
  assert_int_equal(lnuma_plan_thread_count(p), 2);
  const lnuma_plan_thread *t = lnuma_plan_thread_at(p, 0);
  assert_string_equal(t->name, "feed");
  assert_int_equal(lnuma_set_count(&t->cpus), 1);
  assert_true(t->hot);
  assert_int_equal(t->nuses, 2);
  assert_string_equal(t->uses[0], "ring");
  assert_string_equal(t->uses[1], "orders");
  assert_false(lnuma_plan_thread_named(p, "strategy")->hot);
  assert_null(lnuma_plan_thread_at(p, 2));
  assert_null(lnuma_plan_thread_named(p, "nobody"));
  assert_int_equal(lnuma_plan_region_count(p), 2);
  const lnuma_plan_region *r = lnuma_plan_region_named(p, "ring");
  assert_non_null(r);
  assert_int_equal(r->size, 1 << 20);
  assert_true(r->node >= 0);
  assert_true(lnuma_set_has(&r->nodes, r->node));
  assert_string_equal(r->policy, "bind");
  assert_string_equal(r->huge, "default");
  assert_string_equal(lnuma_plan_region_at(p, 1)->huge, "none");
  assert_int_equal(lnuma_plan_pool_count(p), 1);
  const lnuma_plan_pool *pool = lnuma_plan_pool_at(p, 0);
  assert_string_equal(pool->name, "orders");
  assert_int_equal(pool->size, 64);
  assert_int_equal(pool->count, 100);
  assert_int_equal(lnuma_plan_warning_count(p), 0);
  assert_null(lnuma_plan_warning(p, 0));
  lnuma_plan_free(p);
  lnuma_plan_free(NULL);
}

static void checks_against_a_synthetic_machine(void **state) {
  (void)state;
  lnuma_plan_options o = {0};
  o.topology_synthetic = SYNTHETIC;
  lnuma_error err;
  const char *path = write_plan("synthetic.lua",
      "local cpus = topology:cpus_of(1)\n"
      "return { threads = { { name = 'feed', cpus = cpus[1], uses = { 'book' } },\n"
      "                     { name = 'strategy', cpus = cpus[2] } },\n"
      "         memory = { { name = 'book', size = '2M', node = 0 } } }\n");
  lnuma_plan *p = lnuma_plan_load(path, &o, &err);
  assert_non_null(p);
  assert_false(lnuma_plan_is_live(p));
  const lnuma_plan_thread *feed = lnuma_plan_thread_named(p, "feed");
  assert_true(lnuma_set_has(&feed->cpus, 4));
  assert_int_equal(feed->node, 1);
  /* remote memory and SMT siblings, with their key paths */
  assert_int_equal(lnuma_plan_warning_count(p), 2);
  assert_non_null(strstr(lnuma_plan_warning(p, 0), "threads[1].uses[1]: memory \"book\" is on "
                                                   "node 0, remote from feed's node 1"));
  assert_non_null(strstr(lnuma_plan_warning(p, 1), "threads[2].cpus: CPU 5 of strategy and "
                                                   "CPU 4 of feed"));
  /* A plan checked for another machine is not applied here. */
  assert_null(lnuma_plan_apply(p, &err));
  assert_int_equal(err.code, EINVAL);
  lnuma_plan_thread_report rep;
  assert_int_equal(lnuma_plan_apply_thread(p, "feed", &rep, &err), -1);
  assert_int_equal(err.code, EINVAL);
  lnuma_plan_free(p);

  o.topology_synthetic = "pack:two";
  assert_null(lnuma_plan_load(path, &o, &err));
  assert_int_equal(err.code, EINVAL);
  assert_non_null(strstr(err.msg, "synthetic"));
  o.topology_xml = "/nonexistent.xml";
  assert_null(lnuma_plan_load(path, &o, &err));
  assert_int_equal(err.code, EINVAL);
}

/* Each bad plan and the message it must give after "<path>: ". */
static void every_error_names_the_key_path(void **state) {
  (void)state;
  static const struct {
    const char *plan, *msg;
  } cases[] = {
      {"return { threads = { { name = 'a', cpus = 1 }, { name = 'b', cpus = '2,40' } } }",
       "threads[2].cpus: CPU 40 does not exist on the target machine (0-7)"},
      {"return { memory = { { name = 'book', size = '1M', nod = 1 } } }",
       "memory[1].nod: unknown key (expected name, size, node, policy, huge, weights)"},
      {"return { memory = { { name = 'book', size = '64Q', node = 0 } } }",
       "memory[1].size: "},
      {"return { threads = { { name = 'a', cpus = 1 }, { name = 'a', cpus = 2 } } }",
       "threads[2].name: duplicate name \"a\" (also threads[1])"},
      {"return { memory = { { name = 'x', size = 64, node = 0 } },\n"
       "         pools = { { name = 'x', node = 0, size = 64, count = 1 } } }",
       "pools[1].name: duplicate name \"x\" (also memory[1])"},
      {"return { threads = { { name = 'a', cpus = 1, uses = { 'rnig' } } } }",
       "threads[1].uses[1]: no region or pool is named \"rnig\" (names: none)"},
      {"return { pools = { { name = 'p', node = 3, size = 64, count = 1 } } }",
       "pools[1].node: node 3 does not exist on the target machine (nodes 0-1)"},
      {"return 7", "a plan must return a table, got 7"},
      {"return { thread = {} }", "plan.thread: unknown key (expected threads, memory, pools)"},
  };
  lnuma_plan_options o = {0};
  o.topology_synthetic = SYNTHETIC;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char name[32];
    snprintf(name, sizeof name, "bad%zu.lua", i);
    const char *path = write_plan(name, cases[i].plan);
    lnuma_error err;
    assert_null(lnuma_plan_load(path, &o, &err));
    assert_int_equal(err.code, EINVAL);
    char want[512];
    snprintf(want, sizeof want, "%s: %s", path, cases[i].msg);
    if (strncmp(err.msg, want, strlen(want)) != 0) fail_msg("got '%s', want '%s'", err.msg, want);
  }
}

static void syntax_errors_name_the_line(void **state) {
  (void)state;
  lnuma_plan_options o = {0};
  o.topology_synthetic = SYNTHETIC;
  lnuma_error err;
  assert_null(lnuma_plan_load(write_plan("syntax.lua", "return {\n  threads = {{ name = 'x' cpus = 1 }}\n}"),
                              &o, &err));
  assert_int_equal(err.code, EINVAL);
  assert_non_null(strstr(err.msg, "syntax.lua:2: '}' expected"));
}

static void a_memory_only_node_without_room(void **state) {
  (void)state;
  const char *xml = "spec/fixtures/memory-only-node.xml";
  if (access(xml, R_OK) != 0) skip();
  lnuma_plan_options o = {0};
  o.topology_xml = xml;
  lnuma_error err;
  /* Find the memory-only node in the fixture and ask it for more than it has. */
  const char *path = write_plan("memonly.lua",
      "for _, n in ipairs(topology.nodes) do\n"
      "  if n.memory_only then\n"
      "    return { memory = { { name = 'far', size = n.memory + 4096, node = n.os_index,\n"
      "                          policy = 'bind' } } }\n"
      "  end\n"
      "end\n"
      "error('the fixture has no memory-only node')\n");
  assert_null(lnuma_plan_load(path, &o, &err));
  assert_non_null(strstr(err.msg, "memory[1].size: node "));
  assert_non_null(strstr(err.msg, "is memory-only with"));
  assert_non_null(strstr(err.msg, "policy \"bind\" cannot place"));
}

static void a_missing_file_is_enoent(void **state) {
  (void)state;
  lnuma_error err;
  assert_null(lnuma_plan_load("/nonexistent/plan.lua", NULL, &err));
  assert_int_equal(err.code, ENOENT);
  assert_non_null(strstr(err.msg, "/nonexistent/plan.lua"));
  assert_null(lnuma_plan_load(NULL, NULL, &err));
  assert_int_equal(err.code, EINVAL);
  assert_null(lnuma_plan_load("/nonexistent/plan.lua", NULL, NULL)); /* err may be NULL */
}

static double seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void an_endless_plan_ends_with_a_clear_error(void **state) {
  (void)state;
  lnuma_plan_options o = {0};
  o.topology_synthetic = SYNTHETIC;
  lnuma_error err;
  double t0 = seconds();
  assert_null(lnuma_plan_load(write_plan("loop.lua", "local x = 0\nwhile true do x = x + 1 end\n"),
                              &o, &err));
  double took = seconds() - t0;
  assert_non_null(strstr(err.msg, "loop.lua:2: instruction limit of 50000000 exceeded"));
  if (!under_valgrind) assert_true(took < 2.0);

  o.max_instructions = 100000;
  assert_null(lnuma_plan_load(write_plan("swallow.lua",
      "while true do pcall(function() while true do end end) end\n"), &o, &err));
  assert_non_null(strstr(err.msg, "instruction limit of 100000 exceeded"));
}

static void a_runaway_plan_hits_the_memory_limit(void **state) {
  (void)state;
  lnuma_plan_options o = {0};
  o.topology_synthetic = SYNTHETIC;
  o.max_memory = 4 << 20;
  lnuma_error err;
  assert_null(lnuma_plan_load(write_plan("grow.lua",
      "local t = {} for i = 1, 1e9 do t[i] = { i } end\n"), &o, &err));
  assert_non_null(strstr(err.msg, "memory limit of 4194304 bytes exceeded"));
  assert_null(lnuma_plan_load(write_plan("rep.lua", "return string.rep('x', 1 << 30)\n"), &o,
                              &err));
  assert_non_null(strstr(err.msg, "memory limit"));
}

static void the_sandbox_refuses_dangerous_calls(void **state) {
  (void)state;
  static const char *const calls[] = {
      "os.execute('touch /tmp/lnuma-owned')", "io.open('/tmp/lnuma-owned', 'w')",
      "require('os')", "dofile('/etc/passwd')", "debug.sethook()",
      "load('\\27Lua', 'x', 'b')", "collectgarbage()",
  };
  lnuma_plan_options o = {0};
  o.topology_synthetic = SYNTHETIC;
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
    lnuma_error err;
    assert_null(lnuma_plan_load(write_plan("evil.lua", calls[i]), &o, &err));
    assert_int_equal(err.code, EINVAL);
  }
  assert_int_equal(access("/tmp/lnuma-owned", F_OK), -1);
}

/* A plan sees pure data and pure functions: topology:export_xml (which wrote
 * any path the host could) and os.getenv are refused, by name, for this
 * machine and for a synthetic one, even when the plan catches the error. */
static void a_plan_writes_no_file_and_reads_no_environment(void **state) {
  (void)state;
  char target[160], plan[512];
  snprintf(target, sizeof target, "%s/escaped.xml", dir);
  snprintf(plan, sizeof plan,
           "local ok, err = pcall(function() return topology:export_xml('%s') end)\n"
           "assert(not ok, 'export_xml ran')\n"
           "error(err, 0)\n", target);
  const char *path = write_plan("export.lua", plan);
  lnuma_plan_options synthetic = {0};
  synthetic.topology_synthetic = SYNTHETIC;
  const lnuma_plan_options *options[] = {NULL, &synthetic};
  for (size_t i = 0; i < 2; i++) {
    lnuma_error err;
    assert_null(lnuma_plan_load(path, options[i], &err));
    assert_int_equal(err.code, EINVAL);
    assert_non_null(strstr(err.msg, "topology:export_xml is not available in a plan "
                                    "(a plan writes no files"));
    assert_int_equal(access(target, F_OK), -1);

    assert_null(lnuma_plan_load(write_plan("getenv.lua", "local home = os.getenv('HOME')\n"
                                                         "return {}\n"), options[i], &err));
    assert_non_null(strstr(err.msg, "getenv.lua:1: os is not available in a plan"));
    assert_null(lnuma_plan_load(write_plan("strmeta.lua",
        "getmetatable('').__index.rep = nil\nreturn {}\n"), options[i], &err));
    assert_non_null(strstr(err.msg, "strmeta.lua:1: getmetatable: the string metatable is not "
                                    "available in a plan"));
  }
}

/* Where the kernel refuses memory policy (a container's seccomp profile
 * answers EPERM to mbind), the pages still land by first touch -- on one node,
 * as if the policy had held -- so the applied plan must say it was not
 * applied.  Run in a child with such a filter. */
static void apply_says_when_the_policy_was_refused(void **state) {
  (void)state;
  if (under_valgrind) skip();
  lnuma_error err;
  lnuma_plan *p = lnuma_plan_load(write_plan("refused.lua", LOCAL_PLAN), NULL, &err);
  assert_non_null(p);
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mbind, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {(unsigned short)(sizeof filter / sizeof filter[0]), filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
      _exit(77); /* no seccomp here */
    lnuma_plan_applied *a = lnuma_plan_apply(p, &err);
    if (a == NULL) _exit(2);
    const lnuma_plan_placed_region *ring = lnuma_plan_applied_region_named(a, "ring");
    const lnuma_buffer_info *in = lnuma_buffer_info_of(ring->buffer);
    const lnuma_plan_placed_pool *orders = lnuma_plan_applied_pool_named(a, "orders");
    const lnuma_buffer_info *pin = lnuma_buffer_info_of(lnuma_pool_buffer(orders->pool));
    int good = !in->policy_applied && strstr(in->policy_note, "mbind: Operation not permitted") &&
               !pin->policy_applied && ring->placement.pages > 0;
    lnuma_plan_applied_free(a);
    _exit(good ? 0 : 3);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  lnuma_plan_free(p);
  assert_true(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) skip();
  assert_int_equal(WEXITSTATUS(status), 0);
}

static void apply_places_regions_and_pools(void **state) {
  (void)state;
  lnuma_error err;
  lnuma_plan *p = lnuma_plan_load(write_plan("apply.lua", LOCAL_PLAN), NULL, &err);
  assert_non_null(p);
  lnuma_plan_applied *a = lnuma_plan_apply(p, &err);
  if (a == NULL) fail_msg("apply: %s", err.msg);
  assert_int_equal(lnuma_plan_applied_region_count(a), 2);
  const lnuma_plan_placed_region *ring = lnuma_plan_applied_region_named(a, "ring");
  assert_non_null(ring);
  assert_int_equal(ring->size, 1 << 20);
  memset(ring->data, 0x5a, ring->size); /* the memory is there and writable */
  assert_true(ring->placement.pages > 0);
  int node = lnuma_plan_region_named(p, "ring")->node;
  assert_int_equal(ring->placement.by_node[node], ring->placement.pages);
  assert_true(ring->ok);
  assert_non_null(ring->buffer);
  assert_ptr_equal(lnuma_buffer_data(ring->buffer), ring->data);
  assert_null(lnuma_plan_applied_region_named(a, "nothing"));
  assert_null(lnuma_plan_applied_region_at(a, 2));

  assert_int_equal(lnuma_plan_applied_pool_count(a), 1);
  const lnuma_plan_placed_pool *orders = lnuma_plan_applied_pool_named(a, "orders");
  assert_non_null(orders);
  assert_int_equal(lnuma_pool_count(orders->pool), 100);
  void *obj = lnuma_pool_get(orders->pool);
  assert_non_null(obj);
  assert_int_equal(lnuma_pool_put(orders->pool, obj, &err), 0);
  assert_true(orders->ok);
  assert_int_equal(orders->placement.by_node[node], orders->placement.pages);
  lnuma_plan_applied_free(a);
  lnuma_plan_applied_free(NULL);
  lnuma_plan_free(p);
}

typedef struct pin_job {
  const lnuma_plan *plan;
  const char *name;
  int rc;
  lnuma_plan_thread_report rep;
  lnuma_error err;
} pin_job;

static void *pin_main(void *arg) {
  pin_job *j = arg;
  j->rc = lnuma_plan_apply_thread(j->plan, j->name, &j->rep, &j->err);
  return NULL;
}

static void apply_thread_pins_the_calling_thread(void **state) {
  (void)state;
  lnuma_error err;
  lnuma_plan *p = lnuma_plan_load(write_plan("pin.lua", LOCAL_PLAN), NULL, &err);
  assert_non_null(p);
  pin_job j = {p, "feed", -1, {0}, {0, ""}};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, pin_main, &j), 0);
  pthread_join(t, NULL);
  if (j.rc != 0) fail_msg("apply_thread: %s", j.err.msg);
  const lnuma_plan_thread *feed = lnuma_plan_thread_named(p, "feed");
  assert_string_equal(j.rep.name, "feed");
  assert_true(lnuma_set_has(&feed->cpus, j.rep.cpu_seen));
  assert_int_equal(j.rep.node_seen, lnuma_cpu_node(j.rep.cpu_seen));
  assert_true(j.rep.ok);
  assert_int_equal(lnuma_plan_apply_thread(p, "nobody", &j.rep, &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_non_null(strstr(err.msg, "nobody"));
  lnuma_plan_free(p);
}

/* Resident set size in bytes (from /proc/self/statm). */
static long rss(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f == NULL) return 0;
  if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  fclose(f);
  return resident * sysconf(_SC_PAGESIZE);
}

static void a_thousand_cycles_do_not_grow(void **state) {
  (void)state;
  const char *path = write_plan("cycle.lua", LOCAL_PLAN);
  int cycles = under_valgrind ? 30 : 1000, warmup = under_valgrind ? 5 : 50;
  long before = 0;
  for (int i = 0; i < cycles; i++) {
    if (i == warmup) before = rss();
    lnuma_error err;
    lnuma_plan *p = lnuma_plan_load(path, NULL, &err);
    if (p == NULL) fail_msg("cycle %d: %s", i, err.msg);
    lnuma_plan_applied *a = lnuma_plan_apply(p, &err);
    if (a == NULL) fail_msg("cycle %d: %s", i, err.msg);
    lnuma_plan_applied_free(a);
    lnuma_plan_free(p);
  }
  long growth = rss() - before;
  /* ASan's quarantine holds freed memory on purpose; valgrind and LSan
   * check leaks there.  Natively, 950 cycles must not grow by 4 MiB. */
  if (!UNDER_ASAN && !under_valgrind && growth > (4L << 20))
    fail_msg("RSS grew by %ld bytes over %d cycles", growth, cycles - warmup);
}

typedef struct load_job {
  const char *good, *bad;
  int rounds, failures;
} load_job;

static void *load_main(void *arg) {
  load_job *j = arg;
  lnuma_plan_options o = {0};
  o.topology_synthetic = SYNTHETIC;
  for (int i = 0; i < j->rounds; i++) {
    lnuma_error err;
    lnuma_plan *p = lnuma_plan_load(j->good, NULL, &err);
    if (p == NULL || lnuma_plan_thread_count(p) != 2) j->failures++;
    lnuma_plan_free(p);
    p = lnuma_plan_load(j->bad, &o, &err);
    if (p != NULL || strstr(err.msg, "CPU 40 does not exist") == NULL) j->failures++;
    lnuma_plan_free(p);
  }
  return NULL;
}

static void plans_load_concurrently_from_threads(void **state) {
  (void)state;
  enum { THREADS = 8 };
  const char *good = write_plan("good.lua", LOCAL_PLAN);
  const char *bad = write_plan("bad.lua", "return { threads = { { name = 'a', cpus = 40 } } }");
  load_job jobs[THREADS];
  pthread_t t[THREADS];
  int n = under_valgrind ? 3 : THREADS;
  for (int i = 0; i < n; i++) {
    jobs[i] = (load_job){good, bad, under_valgrind ? 2 : 20, 0};
    assert_int_equal(pthread_create(&t[i], NULL, load_main, &jobs[i]), 0);
  }
  for (int i = 0; i < n; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(jobs[i].failures, 0);
  }
}

static void a_host_state_requires_lnuma_without_paths(void **state) {
  (void)state;
  lua_State *L = luaL_newstate();
  assert_non_null(L);
  luaL_openlibs(L);
  lnuma_lua_preload(L);
  /* No path to lnuma's files: lnuma comes from the library.  (Its one
   * dependency, dkjson, is found where Debian puts it.) */
  assert_int_equal(luaL_dostring(L, "package.path = '/usr/share/lua/5.4/?.lua'\n"
                                    "package.cpath = ''\n"
                                    "assert(not package.searchpath('lnuma.plan', package.path))\n"
                                    "local lnuma = require 'lnuma'\n"
                                    "assert(require('lnuma.core') == lnuma.core)\n"
                                    "assert(type(lnuma.plan.load) == 'function')\n"
                                    "return lnuma._VERSION"),
                   LUA_OK);
  assert_string_equal(lua_tostring(L, -1), lnuma_version());
  lua_close(L);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(loads_iterates_and_frees),
      cmocka_unit_test(checks_against_a_synthetic_machine),
      cmocka_unit_test(every_error_names_the_key_path),
      cmocka_unit_test(syntax_errors_name_the_line),
      cmocka_unit_test(a_memory_only_node_without_room),
      cmocka_unit_test(a_missing_file_is_enoent),
      cmocka_unit_test(an_endless_plan_ends_with_a_clear_error),
      cmocka_unit_test(a_runaway_plan_hits_the_memory_limit),
      cmocka_unit_test(the_sandbox_refuses_dangerous_calls),
      cmocka_unit_test(a_plan_writes_no_file_and_reads_no_environment),
      cmocka_unit_test(apply_places_regions_and_pools),
      cmocka_unit_test(apply_says_when_the_policy_was_refused),
      cmocka_unit_test(apply_thread_pins_the_calling_thread),
      cmocka_unit_test(a_thousand_cycles_do_not_grow),
      cmocka_unit_test(plans_load_concurrently_from_threads),
      cmocka_unit_test(a_host_state_requires_lnuma_without_paths),
  };
  return cmocka_run_group_tests_name("plan", tests, make_dir, remove_dir);
}
