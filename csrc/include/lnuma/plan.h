/** @file
 * lnuma/plan.h -- placement plans for C hosts.  A plan is a Lua file that
 * says which thread runs on which CPU and where each memory region and pool
 * lives (see lua/lnuma/plan.lua for the format).  lnuma_plan_load() runs it
 * in a private, sandboxed Lua state with an instruction and a memory limit
 * (the plan sees pure data and pure functions: no file, no environment
 * variable, no clock; see lua/lnuma/plan_sandbox.lua),
 * checks it against the target machine with the same checker Lua scripts use
 * (lnuma.plan), and hands the resolved plan over as plain C structures.  The
 * host never sees a lua_State (this header does not include lua.h).
 * Included by lnuma.h.
 *
 *   lnuma_error err;
 *   lnuma_plan *plan = lnuma_plan_load("engine.lua", NULL, &err);
 *   if (plan == NULL) { fprintf(stderr, "%s\n", err.msg); return 1; }
 *   for (size_t i = 0; i < lnuma_plan_warning_count(plan); i++)
 *     fprintf(stderr, "warning: %s\n", lnuma_plan_warning(plan, i));
 *   ... lnuma_plan_apply(), one lnuma_plan_apply_thread() per thread ...
 *   lnuma_plan_free(plan);
 *
 * Thread safety: lnuma_plan_load may be called from any number of threads
 * at once (each call has its own Lua state).  A loaded plan is immutable:
 * its getters may be called from any thread; lnuma_plan_free must not
 * overlap other calls on the same plan.
 */
#ifndef LNUMA_PLAN_H
#define LNUMA_PLAN_H

#include "../lnuma.h"
#include "memory.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A resolved, checked plan (opaque). */
typedef struct lnuma_plan lnuma_plan;

/** Options of lnuma_plan_load; zero-initialise, then set what you need.
 *  A NULL options pointer means all defaults. */
typedef struct lnuma_plan_options {
  /** Check against this hwloc XML file instead of this machine. */
  const char *topology_xml;
  /** Or against an hwloc synthetic description ("pack:2 numa:1 core:4 pu:2"). */
  const char *topology_synthetic;
  /** Instructions the plan file may execute; 0 = 50 million (~0.2 s). */
  int64_t max_instructions;
  /** Bytes the plan may keep live (allocated while it runs and not yet
   *  freed; garbage it drops does not count); 0 = 32 MiB.  The file itself
   *  must be a regular file of at most 1 MiB. */
  size_t max_memory;
} lnuma_plan_options;

/** A thread of the plan (the host starts it; see lnuma_plan_apply_thread). */
typedef struct lnuma_plan_thread {
  const char *name;        /**< its name in the plan (lives as long as the plan) */
  lnuma_set cpus;          /**< CPUs it is pinned to */
  int node;                /**< node of all its CPUs; -1 when they span several */
  int hot;                 /**< 1 unless the plan says hot = false */
  size_t nuses;            /**< regions and pools it says it touches */
  const char *const *uses; /**< [nuses] names of those regions and pools */
} lnuma_plan_thread;

/** A memory region of the plan. */
typedef struct lnuma_plan_region {
  const char *name;        /**< its name in the plan (lives as long as the plan) */
  size_t size;             /**< bytes */
  int node;                /**< its node; -1 for several nodes or policy "local" */
  lnuma_set nodes;         /**< all its nodes (empty for policy "local") */
  const char *policy;      /**< "bind", "preferred", "preferred_many", "interleave",
                                "weighted_interleave", "local" or "weighted" */
  const char *huge;        /**< "default" (the system's THP setting), "none" (base
                                pages only), "thp", "2M" or "1G" */
  lnuma_weights weights;   /**< policy "weighted": the region's weights (nodes: those
                                of positive weight); n 0 otherwise */
} lnuma_plan_region;

/** A pool of fixed-size objects of the plan. */
typedef struct lnuma_plan_pool {
  const char *name;        /**< its name in the plan (lives as long as the plan) */
  int node;                /**< the node its memory is bound to */
  size_t size;             /**< bytes per object */
  size_t count;            /**< objects */
} lnuma_plan_pool;

/**
 * Loads, runs and checks the plan file at path against this machine (or the
 * topology the options name).  Returns the plan, or NULL with err->msg such
 * as "engine.lua: threads[2].cpus: CPU 40 does not exist on this machine
 * (0-15)" or "engine.lua:7: instruction limit of 50000000 exceeded" and
 * err->code EINVAL (a bad plan), ENOENT (no file) or ENOMEM.  Any thread.
 */
LNUMA_API lnuma_plan *lnuma_plan_load(const char *path, const lnuma_plan_options *opts,
                                      lnuma_error *err);

/** Frees a plan (NULL is allowed).  Not concurrently with other calls on it. */
LNUMA_API void lnuma_plan_free(lnuma_plan *plan);

/** The path the plan was loaded from.  Any thread. */
LNUMA_API const char *lnuma_plan_file(const lnuma_plan *plan);
/** 1 when the plan was checked against this machine (so it can be applied). */
LNUMA_API int lnuma_plan_is_live(const lnuma_plan *plan);

/** Number of threads in the plan.  Any thread. */
LNUMA_API size_t lnuma_plan_thread_count(const lnuma_plan *plan);
/** Thread i (0..count-1) in plan order; NULL past the end.  Any thread. */
LNUMA_API const lnuma_plan_thread *lnuma_plan_thread_at(const lnuma_plan *plan, size_t i);
/** The thread with this name; NULL for an unknown name.  Any thread. */
LNUMA_API const lnuma_plan_thread *lnuma_plan_thread_named(const lnuma_plan *plan,
                                                           const char *name);
/** Number of memory regions in the plan.  Any thread. */
LNUMA_API size_t lnuma_plan_region_count(const lnuma_plan *plan);
/** Region i (0..count-1) in plan order; NULL past the end.  Any thread. */
LNUMA_API const lnuma_plan_region *lnuma_plan_region_at(const lnuma_plan *plan, size_t i);
/** The region with this name; NULL for an unknown name.  Any thread. */
LNUMA_API const lnuma_plan_region *lnuma_plan_region_named(const lnuma_plan *plan,
                                                           const char *name);
/** Number of pools in the plan.  Any thread. */
LNUMA_API size_t lnuma_plan_pool_count(const lnuma_plan *plan);
/** Pool i (0..count-1) in plan order; NULL past the end.  Any thread. */
LNUMA_API const lnuma_plan_pool *lnuma_plan_pool_at(const lnuma_plan *plan, size_t i);
/** The pool with this name; NULL for an unknown name.  Any thread. */
LNUMA_API const lnuma_plan_pool *lnuma_plan_pool_named(const lnuma_plan *plan,
                                                       const char *name);

/** Number of warnings about a legal but probably wrong plan.  Any thread. */
LNUMA_API size_t lnuma_plan_warning_count(const lnuma_plan *plan);
/** Warning i (0..count-1), such as "threads[2].cpus: ..."; NULL past the end.
 *  Any thread. */
LNUMA_API const char *lnuma_plan_warning(const lnuma_plan *plan, size_t i);

/* ---- Applying a plan ------------------------------------------------------ */

/** A region of an applied plan: its memory and where its pages are. */
typedef struct lnuma_plan_placed_region {
  const char *name;          /**< the region's name in the plan */
  void *data;                /**< the first byte */
  size_t size;               /**< bytes, as the plan asked */
  lnuma_buffer *buffer;      /**< the core buffer; owned by the applied plan */
  lnuma_placement placement; /**< pages per node, read back from the kernel just
                                  after allocation */
  lnuma_pagesizes pagesizes; /**< the page sizes that back it (method AUTO: could
                                  not be read) */
  int ok;                    /**< 1 when every page is on a node the plan asked for */
} lnuma_plan_placed_region;

/** A pool of an applied plan. */
typedef struct lnuma_plan_placed_pool {
  const char *name;          /**< the pool's name in the plan */
  lnuma_pool *pool;          /**< the core pool; owned by the applied plan.  One
                                  thread at a time (see lnuma/memory.h). */
  lnuma_placement placement; /**< pages of its memory per node */
  lnuma_pagesizes pagesizes; /**< the page sizes that back it (as for regions) */
  int ok;                    /**< 1 when every page is on the plan's node */
} lnuma_plan_placed_pool;

/** The memory of an applied plan (opaque). */
typedef struct lnuma_plan_applied lnuma_plan_applied;

/**
 * Allocates the plan's regions (lnuma_buffer_alloc, populated, with the
 * plan's policy and pages) and pools (lnuma_pool_create), and reads back
 * where their pages landed.  All or nothing: on failure what was allocated
 * is freed and NULL is returned with the message of the failing region
 * ("memory[2] (book): ...") and its errno; EINVAL when the plan was checked
 * against another machine's topology.  Any thread; the plan may be freed
 * before the result.
 */
LNUMA_API lnuma_plan_applied *lnuma_plan_apply(const lnuma_plan *plan, lnuma_error *err);

/** Frees every region and pool of an applied plan (NULL is allowed).  No
 *  pointer into them may be used after. */
LNUMA_API void lnuma_plan_applied_free(lnuma_plan_applied *applied);

/** Number of regions of an applied plan.  Any thread. */
LNUMA_API size_t lnuma_plan_applied_region_count(const lnuma_plan_applied *applied);
/** Placed region i (0..count-1) in plan order; NULL past the end.  Any thread. */
LNUMA_API const lnuma_plan_placed_region *
lnuma_plan_applied_region_at(const lnuma_plan_applied *applied, size_t i);
/** The placed region with this name; NULL for an unknown name.  Any thread. */
LNUMA_API const lnuma_plan_placed_region *
lnuma_plan_applied_region_named(const lnuma_plan_applied *applied, const char *name);
/** Number of pools of an applied plan.  Any thread. */
LNUMA_API size_t lnuma_plan_applied_pool_count(const lnuma_plan_applied *applied);
/** Placed pool i (0..count-1) in plan order; NULL past the end.  Any thread. */
LNUMA_API const lnuma_plan_placed_pool *
lnuma_plan_applied_pool_at(const lnuma_plan_applied *applied, size_t i);
/** The placed pool with this name; NULL for an unknown name.  Any thread. */
LNUMA_API const lnuma_plan_placed_pool *
lnuma_plan_applied_pool_named(const lnuma_plan_applied *applied, const char *name);

/** What pinning a thread did. */
typedef struct lnuma_plan_thread_report {
  const char *name;          /**< the plan thread's name (points into the plan) */
  int cpu_seen;              /**< the CPU the thread ran on just after pinning */
  int node_seen;             /**< that CPU's node */
  int ok;                    /**< 1 when cpu_seen is one of the plan's CPUs */
} lnuma_plan_thread_report;

/**
 * Pins the calling thread to the CPUs of the plan's thread `name` and reports
 * where it then runs.  lnuma does not own the host's threads: call it first
 * thing in each thread.  -1 with EINVAL for an unknown name or a plan checked
 * against another machine, or the errno of sched_setaffinity.  Affects only
 * the calling thread; any number of threads may call it on one plan.
 */
LNUMA_API int lnuma_plan_apply_thread(const lnuma_plan *plan, const char *name,
                                      lnuma_plan_thread_report *out, lnuma_error *err);

#ifdef __cplusplus
}
#endif

#endif
