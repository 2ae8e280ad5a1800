/*
 * engine -- a small trading-engine skeleton configured by an lnuma placement
 * plan: a template for your own C host.
 *
 *   engine PLAN [--messages N] [--window W] [--json]
 *
 * It loads PLAN (a Lua file, checked against this machine), applies it
 * (allocates its memory regions and pools with verified placement), and
 * starts one pthread per plan thread, each pinning itself with the plan.
 * `feed` passes N messages to `strategy` through a single-producer /
 * single-consumer ring in the plan's `ring` region; each message is an object
 * of the `orders` pool stamped with the lnuma clock, and `strategy` records
 * the one-way latency in an lnuma histogram (and touches the `book` region,
 * when the plan has one, as a real strategy would).  At most W messages are in
 * flight (default 1: latency without queueing).  At the end it prints the
 * latency percentiles and the proof of placement: each thread's requested and
 * observed CPU, each region's pages per node.
 *
 * Build: cc engine.c $(pkg-config --cflags --libs lnuma) -o engine
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lnuma.h>

#define RING_SLOTS 4096 /* a power of two */
#define CACHE_LINE 64

/* An order: what flows from feed to strategy (an object of the pool). */
typedef struct order {
  int64_t sent_ns; /* lnuma clock at the feed, just before publishing */
  uint64_t seq;
  int64_t price;
} order;

/* A single-producer / single-consumer ring of order pointers, laid out in
 * the plan's `ring` region: head and tail on their own cache lines. */
typedef struct spsc_ring {
  _Alignas(CACHE_LINE) _Atomic uint64_t head; /* next slot to write (producer) */
  _Alignas(CACHE_LINE) _Atomic uint64_t tail; /* next slot to read (consumer) */
  _Alignas(CACHE_LINE) order *slot[RING_SLOTS];
} spsc_ring;

static int ring_push(spsc_ring *r, order *o) {
  uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
  if (head - atomic_load_explicit(&r->tail, memory_order_acquire) == RING_SLOTS) return 0;
  r->slot[head & (RING_SLOTS - 1)] = o;
  atomic_store_explicit(&r->head, head + 1, memory_order_release);
  return 1;
}

static order *ring_pop(spsc_ring *r) {
  uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
  if (tail == atomic_load_explicit(&r->head, memory_order_acquire)) return NULL;
  order *o = r->slot[tail & (RING_SLOTS - 1)];
  atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
  return o;
}

/* Busy-wait politely: pause, and yield now and then (threads may share a CPU). */
static void relax(unsigned *spins) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
  if (++*spins % 256 == 0) sched_yield();
}

typedef struct engine {
  const lnuma_plan *plan;
  lnuma_clock clock;
  spsc_ring *to_strategy;  /* feed -> strategy: new orders */
  spsc_ring *to_feed;      /* strategy -> feed: orders to put back in the pool */
  lnuma_pool *orders;      /* used by feed only (a pool is one thread's) */
  int64_t *book;           /* touched by strategy; NULL when the plan has none */
  size_t book_len;
  lnuma_histogram *latency;
  uint64_t messages, window;
  _Atomic int failed;
  char error[LNUMA_ERRMSG_MAX + 64];
} engine;

typedef struct worker {
  engine *e;
  const char *name;
  lnuma_plan_thread_report report;
} worker;

static void fail(engine *e, const char *who, const char *msg) {
  int expected = 0;
  if (atomic_compare_exchange_strong(&e->failed, &expected, 1))
    snprintf(e->error, sizeof e->error, "%s: %s", who, msg);
}

/* Puts every order strategy has finished with back into the pool. */
static uint64_t recycle(engine *e) {
  uint64_t n = 0;
  order *o;
  while ((o = ring_pop(e->to_feed)) != NULL) {
    lnuma_pool_put(e->orders, o, NULL);
    n++;
  }
  return n;
}

static void run_feed(engine *e) {
  uint64_t in_flight = 0;
  unsigned spins = 0;
  for (uint64_t seq = 0; seq < e->messages && !atomic_load(&e->failed); seq++) {
    while (in_flight >= e->window) {
      in_flight -= recycle(e);
      if (in_flight >= e->window) relax(&spins);
    }
    order *o = lnuma_pool_get(e->orders);
    if (o == NULL) {
      fail(e, "feed", "the orders pool is empty (make count larger than --window)");
      return;
    }
    o->seq = seq;
    o->price = (int64_t)(seq % 1000) + 10000;
    o->sent_ns = lnuma_clock_now(&e->clock);
    while (!ring_push(e->to_strategy, o)) relax(&spins);
    in_flight++;
  }
  while (in_flight > 0 && !atomic_load(&e->failed)) {
    in_flight -= recycle(e);
    if (in_flight > 0) relax(&spins);
  }
}

static void run_strategy(engine *e) {
  unsigned spins = 0;
  for (uint64_t n = 0; n < e->messages && !atomic_load(&e->failed); n++) {
    order *o;
    while ((o = ring_pop(e->to_strategy)) == NULL) {
      if (atomic_load(&e->failed)) return;
      relax(&spins);
    }
    int64_t now = lnuma_clock_now(&e->clock);
    lnuma_histogram_record(e->latency, now - o->sent_ns, 1);
    if (e->book != NULL) e->book[(o->seq * 8) % e->book_len] += o->price;
    while (!ring_push(e->to_feed, o)) relax(&spins);
  }
}

static void *thread_main(void *arg) {
  worker *w = arg;
  engine *e = w->e;
  lnuma_error err;
  /* Pin first: everything this thread touches from now on is local to it. */
  if (lnuma_plan_apply_thread(e->plan, w->name, &w->report, &err) != 0) {
    fail(e, w->name, err.msg);
    return NULL;
  }
  if (strcmp(w->name, "feed") == 0)
    run_feed(e);
  else if (strcmp(w->name, "strategy") == 0)
    run_strategy(e);
  return NULL; /* other plan threads: pinned, idle */
}

/* ------------------------------------------------------------- output -- */

static void print_set(FILE *f, const lnuma_set *s, int json) {
  if (json) {
    fputc('[', f);
    for (int i = lnuma_set_next(s, -1), first = 1; i >= 0; i = lnuma_set_next(s, i), first = 0)
      fprintf(f, first ? "%d" : ",%d", i);
    fputc(']', f);
  } else {
    char text[256];
    lnuma_set_format(s, text, sizeof text);
    fputs(text, f);
  }
}

static void print_by_node(FILE *f, const lnuma_placement *p, int json) {
  int first = 1;
  if (json) fputc('{', f);
  for (int n = 0; n < LNUMA_MAX_NODES; n++) {
    if (p->by_node[n] == 0) continue;
    fprintf(f, json ? "%s\"%d\":%llu" : "%snode %d: %llu", first ? "" : (json ? "," : ", "), n,
            (unsigned long long)p->by_node[n]);
    first = 0;
  }
  if (first && !json) fputs("no pages", f);
  if (json) fputc('}', f);
}

/* Whether the kernel took the memory policy: where it refused (EPERM in a
 * container), pages lie where first touch put them, which on one node looks
 * just like success, so the table says so. */
static void print_policy(FILE *f, const lnuma_buffer_info *in, int json) {
  if (json) {
    fprintf(f, ",\"policy_applied\":%s", in->policy_applied ? "true" : "false");
    if (!in->policy_applied) {
      fputs(",\"policy_note\":\"", f);
      for (const char *c = in->policy_note; *c != '\0'; c++)
        fprintf(f, *c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
      fputc('"', f);
    }
  } else if (!in->policy_applied) {
    fprintf(f, "  (policy %s NOT APPLIED: %s)", lnuma_mempolicy_name(in->policy),
            in->policy_note);
  }
}

static void print_results(const engine *e, const lnuma_plan_applied *a, const worker *w,
                          size_t nw, int json) {
  static const double ps[4] = {50, 99, 99.9, 100};
  int64_t q[4] = {0, 0, 0, 0};
  lnuma_histogram_percentiles(e->latency, ps, q, 4, NULL);
  FILE *f = stdout;
  if (json) {
    fputs("{\"threads\":[", f);
    for (size_t i = 0; i < nw; i++) {
      fprintf(f, "%s{\"name\":\"%s\",\"cpus\":", i ? "," : "", w[i].name);
      print_set(f, &lnuma_plan_thread_named(e->plan, w[i].name)->cpus, 1);
      fprintf(f, ",\"cpu_seen\":%d,\"node_seen\":%d,\"ok\":%s}", w[i].report.cpu_seen,
              w[i].report.node_seen, w[i].report.ok ? "true" : "false");
    }
    fputs("],\"regions\":[", f);
    for (size_t i = 0; i < lnuma_plan_applied_region_count(a); i++) {
      const lnuma_plan_placed_region *r = lnuma_plan_applied_region_at(a, i);
      const lnuma_plan_region *pr = lnuma_plan_region_named(e->plan, r->name);
      fprintf(f, "%s{\"name\":\"%s\",\"node\":%d,\"size\":%zu,\"page_size\":%zu,\"by_node\":",
              i ? "," : "", r->name, pr->node, r->size, r->placement.page_size);
      print_by_node(f, &r->placement, 1);
      print_policy(f, lnuma_buffer_info_of(r->buffer), 1);
      fprintf(f, ",\"ok\":%s}", r->ok ? "true" : "false");
    }
    fputs("],\"pools\":[", f);
    for (size_t i = 0; i < lnuma_plan_applied_pool_count(a); i++) {
      const lnuma_plan_placed_pool *p = lnuma_plan_applied_pool_at(a, i);
      fprintf(f, "%s{\"name\":\"%s\",\"node\":%d,\"by_node\":", i ? "," : "", p->name,
              lnuma_plan_pool_named(e->plan, p->name)->node);
      print_by_node(f, &p->placement, 1);
      print_policy(f, lnuma_buffer_info_of(lnuma_pool_buffer(p->pool)), 1);
      fprintf(f, ",\"ok\":%s}", p->ok ? "true" : "false");
    }
    fprintf(f, "],\"latency\":{\"unit\":\"ns\",\"p50\":%lld,\"p99\":%lld,\"p999\":%lld,"
               "\"max\":%lld,\"count\":%lld},\"clock\":\"%s\",\"window\":%llu}\n",
            (long long)q[0], (long long)q[1], (long long)q[2], (long long)q[3],
            (long long)lnuma_histogram_count(e->latency),
            lnuma_clock_source_name(e->clock.source), (unsigned long long)e->window);
    return;
  }
  fprintf(f, "one-way latency feed -> strategy, %lld messages (clock: %s)\n",
          (long long)lnuma_histogram_count(e->latency), lnuma_clock_source_name(e->clock.source));
  fprintf(f, "  p50 %lld ns  p99 %lld ns  p99.9 %lld ns  max %lld ns\n", (long long)q[0],
          (long long)q[1], (long long)q[2], (long long)q[3]);
  fputs("placement (asked -> seen):\n", f);
  for (size_t i = 0; i < nw; i++) {
    fprintf(f, "  thread %-10s CPUs ", w[i].name);
    print_set(f, &lnuma_plan_thread_named(e->plan, w[i].name)->cpus, 0);
    fprintf(f, " -> ran on CPU %d (node %d)%s\n", w[i].report.cpu_seen, w[i].report.node_seen,
            w[i].report.ok ? "" : "  NOT AS PLANNED");
  }
  for (size_t i = 0; i < lnuma_plan_applied_region_count(a); i++) {
    const lnuma_plan_placed_region *r = lnuma_plan_applied_region_at(a, i);
    const lnuma_plan_region *pr = lnuma_plan_region_named(e->plan, r->name);
    fprintf(f, "  memory %-10s node ", r->name);
    print_set(f, &pr->nodes, 0);
    fputs(" -> pages on ", f);
    print_by_node(f, &r->placement, 0);
    fputs(r->ok ? "" : "  NOT AS PLANNED", f);
    print_policy(f, lnuma_buffer_info_of(r->buffer), 0);
    fputc('\n', f);
  }
  for (size_t i = 0; i < lnuma_plan_applied_pool_count(a); i++) {
    const lnuma_plan_placed_pool *p = lnuma_plan_applied_pool_at(a, i);
    fprintf(f, "  pool   %-10s node %d -> pages on ", p->name,
            lnuma_plan_pool_named(e->plan, p->name)->node);
    print_by_node(f, &p->placement, 0);
    fputs(p->ok ? "" : "  NOT AS PLANNED", f);
    print_policy(f, lnuma_buffer_info_of(lnuma_pool_buffer(p->pool)), 0);
    fputc('\n', f);
  }
}

/* --------------------------------------------------------------- main -- */

static int usage(void) {
  fputs("usage: engine PLAN [--messages N] [--window W] [--json]\n", stderr);
  return 2;
}

int main(int argc, char **argv) {
  const char *path = NULL;
  uint64_t messages = 100000, window = 1;
  int json = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0)
      json = 1;
    else if (strcmp(argv[i], "--messages") == 0 && i + 1 < argc)
      messages = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--window") == 0 && i + 1 < argc)
      window = strtoull(argv[++i], NULL, 10);
    else if (argv[i][0] != '-' && path == NULL)
      path = argv[i];
    else
      return usage();
  }
  if (path == NULL || messages == 0 || window == 0 || window >= RING_SLOTS) return usage();

  lnuma_error err;
  lnuma_plan *plan = lnuma_plan_load(path, NULL, &err);
  if (plan == NULL) {
    fprintf(stderr, "engine: %s\n", err.msg);
    return 1;
  }
  for (size_t i = 0; i < lnuma_plan_warning_count(plan); i++)
    fprintf(stderr, "engine: warning: %s\n", lnuma_plan_warning(plan, i));

  static engine e; /* large (the clock, the error text): not on the stack */
  e.plan = plan;
  e.messages = messages;
  e.window = window;
  const char *missing = !lnuma_plan_thread_named(plan, "feed")       ? "a thread named feed"
                        : !lnuma_plan_thread_named(plan, "strategy") ? "a thread named strategy"
                        : !lnuma_plan_region_named(plan, "ring")     ? "a memory region named ring"
                        : !lnuma_plan_pool_named(plan, "orders")     ? "a pool named orders"
                                                                     : NULL;
  if (missing != NULL) {
    fprintf(stderr, "engine: %s: the engine needs %s\n", path, missing);
    lnuma_plan_free(plan);
    return 1;
  }
  if (lnuma_plan_region_named(plan, "ring")->size < 2 * sizeof(spsc_ring) ||
      lnuma_plan_pool_named(plan, "orders")->size < sizeof(order)) {
    fprintf(stderr, "engine: %s: ring needs %zu bytes and orders objects %zu bytes\n", path,
            2 * sizeof(spsc_ring), sizeof(order));
    lnuma_plan_free(plan);
    return 1;
  }
  lnuma_plan_applied *applied = lnuma_plan_apply(plan, &err);
  if (applied == NULL || lnuma_clock_init(&e.clock, LNUMA_CLOCK_AUTO, &err) != 0 ||
      (e.latency = lnuma_histogram_new(1, 10000000000LL, 3, &err)) == NULL) {
    fprintf(stderr, "engine: %s\n", err.msg);
    lnuma_plan_applied_free(applied);
    lnuma_plan_free(plan);
    return 1;
  }
  char *ring = lnuma_plan_applied_region_named(applied, "ring")->data;
  e.to_strategy = (spsc_ring *)ring;
  e.to_feed = (spsc_ring *)(ring + sizeof(spsc_ring));
  e.orders = lnuma_plan_applied_pool_named(applied, "orders")->pool;
  const lnuma_plan_placed_region *book = lnuma_plan_applied_region_named(applied, "book");
  if (book != NULL && book->size >= 64 * sizeof(int64_t)) {
    e.book = book->data;
    e.book_len = book->size / sizeof(int64_t);
  }

  size_t nw = lnuma_plan_thread_count(plan);
  worker *w = calloc(nw, sizeof *w);
  pthread_t *tid = calloc(nw, sizeof *tid);
  size_t started = 0;
  for (size_t i = 0; w != NULL && tid != NULL && i < nw; i++, started++) {
    w[i].e = &e;
    w[i].name = lnuma_plan_thread_at(plan, i)->name;
    int rc = pthread_create(&tid[i], NULL, thread_main, &w[i]);
    if (rc != 0) {
      fail(&e, "pthread_create", strerror(rc));
      break;
    }
  }
  for (size_t i = 0; i < started; i++) pthread_join(tid[i], NULL);
  int status = 0;
  if (w == NULL || tid == NULL) {
    fprintf(stderr, "engine: out of memory\n");
    status = 1;
  } else if (atomic_load(&e.failed)) {
    fprintf(stderr, "engine: %s\n", e.error);
    status = 1;
  } else {
    print_results(&e, applied, w, nw, json);
  }
  free(w);
  free(tid);
  lnuma_histogram_free(e.latency);
  lnuma_plan_applied_free(applied);
  lnuma_plan_free(plan);
  return status;
}
