/** @file
 * lnuma/memory.h -- memory placement: buffers on chosen nodes with verified
 * placement, huge pages, node-local arenas and object pools, the memory
 * policy of the calling thread, and the kernel's per-node counters.
 * Included by lnuma.h.
 *
 * Policies are applied with mbind() before the first touch, then the pages
 * are faulted in with MADV_POPULATE_WRITE (which reports ENOMEM/EFAULT where
 * touching would kill the process with SIGBUS).  Where the kernel refuses
 * memory policy (EPERM in containers without CAP_SYS_NICE, ENOSYS without
 * NUMA), allocation still succeeds and the buffer's info says the policy was
 * not applied and why.  Placement is always read back from the kernel
 * (move_pages), never assumed.
 */
#ifndef LNUMA_MEMORY_H
#define LNUMA_MEMORY_H

#include "../lnuma.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Node indexes a placement counts (Linux's MAX_NUMNODES on Debian). */
#define LNUMA_MAX_NODES 1024

/* ---- Policies and page sizes ---------------------------------------------- */

/* Policies are lnuma_mempolicy (lnuma/system.h): the kernel's MPOL_* modes,
 * named by lnuma_mempolicy_name().  With a buffer, LNUMA_MPOL_DEFAULT means
 * "no policy of its own" (the thread's policy, first touch). */

/** Parses a policy name (as lnuma_mempolicy_name writes it: "default",
 *  "local", "bind", "preferred", "preferred_many", "interleave",
 *  "weighted_interleave", in any case); -1 with EINVAL and a message listing the names
 *  otherwise.  Any thread. */
LNUMA_API int lnuma_mempolicy_parse(const char *name, lnuma_mempolicy *out, lnuma_error *err);

/** What backs a buffer. */
typedef enum lnuma_huge {
  LNUMA_HUGE_DEFAULT = 0, /**< whatever the system does (THP per its setting) */
  LNUMA_HUGE_NONE,        /**< base pages only (MADV_NOHUGEPAGE) */
  LNUMA_HUGE_THP,         /**< transparent huge pages (MADV_HUGEPAGE, 2 MiB aligned) */
  LNUMA_HUGE_2M,          /**< hugetlbfs 2 MiB pages (must be reserved) */
  LNUMA_HUGE_1G           /**< hugetlbfs 1 GiB pages (must be reserved) */
} lnuma_huge;

/** "default", "none", "thp", "2M", "1G". */
LNUMA_API const char *lnuma_huge_name(lnuma_huge huge);

/** Parses a page kind, ignoring case: "default"; "none", "no" or "4K" (base
 *  pages); "thp"; "2M"; "1G".  The one vocabulary of `huge` (the Lua options,
 *  plans and the CLI read it through here); -1 with EINVAL and a message
 *  listing the words otherwise.  Any thread. */
LNUMA_API int lnuma_huge_parse(const char *name, lnuma_huge *out, lnuma_error *err);

/** How the pages of a buffer were faulted in. */
typedef enum lnuma_populate {
  LNUMA_POPULATE_NONE = 0, /**< not populated (pages appear on first touch) */
  LNUMA_POPULATE_MADVISE,  /**< madvise(MADV_POPULATE_WRITE), Linux 5.14 */
  LNUMA_POPULATE_TOUCH,    /**< one write per page (older kernels, base pages only) */
  LNUMA_POPULATE_MLOCK     /**< faulted in by mlock() (lock without populate) */
} lnuma_populate;

/** "none", "madvise", "touch", "mlock". */
LNUMA_API const char *lnuma_populate_name(lnuma_populate how);

/* ---- Per-buffer weights (policy LNUMA_MPOL_WEIGHTED) --------------------- */

/* The kernel's weighted interleave takes one system-wide weight table (sysfs,
 * root).  LNUMA_MPOL_WEIGHTED gives each buffer its own: the buffer is cut
 * into chunks (the base page, or the huge page when huge pages are asked) and
 * chunk k goes to the node that a smooth weighted round-robin picks k-th, so
 * that any sum(weights) consecutive chunks hold exactly weight[i] chunks of
 * node i (3:1 repeats 0 0 1 0).  Each run of chunks is faulted in by a thread
 * bound (set_mempolicy) to its node; then the range is bound (mbind) to the
 * weighted nodes, so that no later fault or NUMA balancing moves a page
 * outside them.  One mbind per chunk would split the mapping in one kernel
 * mapping per run of chunks, and a process may hold vm.max_map_count (65530
 * by default) of them.  Placement is read back page by page (move_pages). */

/** Most nodes a weight table names. */
#define LNUMA_WEIGHTS_MAX 64
/** Largest weight of one node (so a pattern repeats after at most
 *  LNUMA_WEIGHTS_MAX * LNUMA_WEIGHT_MAX chunks). */
#define LNUMA_WEIGHT_MAX 1000

/** A weight per node.  Fill with lnuma_weights_init and lnuma_weights_add. */
typedef struct lnuma_weights {
  int n;                          /**< entries used (0: no weights) */
  int node[LNUMA_WEIGHTS_MAX];    /**< the node of each entry, ascending, distinct */
  int weight[LNUMA_WEIGHTS_MAX];  /**< its weight, 0..LNUMA_WEIGHT_MAX (0: no pages) */
} lnuma_weights;

/** Empties a weight table.  Any thread. */
LNUMA_API void lnuma_weights_init(lnuma_weights *w);
/** Adds node with weight, keeping entries sorted by node: -1 with EINVAL for
 *  a node outside 0..LNUMA_MAX_NODES-1, a weight outside 0..LNUMA_WEIGHT_MAX,
 *  a node named twice or more than LNUMA_WEIGHTS_MAX nodes (messages start
 *  "weights: ").  Any thread. */
LNUMA_API int lnuma_weights_add(lnuma_weights *w, int node, int weight, lnuma_error *err);
/** Checks a table filled by hand as lnuma_weights_add would, and that the
 *  weights sum to more than 0: -1 with EINVAL otherwise.  Any thread. */
LNUMA_API int lnuma_weights_check(const lnuma_weights *w, lnuma_error *err);
/** The sum of the weights: the length of the repeating pattern, in chunks. */
LNUMA_API int lnuma_weights_total(const lnuma_weights *w);
/**
 * The node of each of count chunks, from chunk first on: nodes[i] receives
 * the node of chunk first + i.  A pure function of the weights (smooth
 * weighted round-robin, ties to the lower node): every window of
 * lnuma_weights_total() consecutive chunks holds exactly weight[i] chunks of
 * node[i], spread out rather than in blocks.  -1 with EINVAL for weights
 * lnuma_weights_check refuses, ENOMEM when no memory is left.  Any thread.
 */
LNUMA_API int lnuma_weights_pattern(const lnuma_weights *w, uint64_t first, size_t count,
                                    int *nodes, lnuma_error *err);

/* ---- Buffers ------------------------------------------------------------- */

/** How to allocate.  Fill with lnuma_alloc_opts_init(), then change fields. */
typedef struct lnuma_alloc_opts {
  lnuma_mempolicy policy; /**< LNUMA_MPOL_DEFAULT with nodes set means BIND */
  lnuma_set nodes;     /**< empty: every allowed node (PREFERRED: the node of
                            the calling CPU); must be empty for LOCAL */
  lnuma_huge huge;     /**< what backs the buffer (base pages, THP, 2M, 1G) */
  int populate;        /**< 1 (default): fault every page in before return;
                            required for 2M/1G (a later fault could SIGBUS) */
  int lock;            /**< 1: mlock() the pages */
  int touch_cpu;       /**< >= 0: populate from a thread pinned to this CPU
                            (first touch there); -1 (default): calling thread */
  lnuma_weights weights; /**< LNUMA_MPOL_WEIGHTED only (nodes empty then; with
                              LNUMA_MPOL_DEFAULT, weights mean WEIGHTED) */
} lnuma_alloc_opts;

/** Sets the defaults: no policy, system huge page setting, populate, no
 *  lock, populate from the calling thread.  Any thread. */
LNUMA_API void lnuma_alloc_opts_init(lnuma_alloc_opts *opts);

/** What a buffer was asked and what it got. */
typedef struct lnuma_buffer_info {
  size_t size;              /**< bytes asked */
  size_t mapped;            /**< bytes mapped (size rounded up to pages) */
  size_t page_size;         /**< base page size: 4096, 2 MiB or 1 GiB */
  lnuma_huge huge;          /**< as asked */
  lnuma_mempolicy policy;      /**< as asked, after defaults were resolved */
  lnuma_set nodes;          /**< as asked, after defaults were resolved */
  int policy_applied;       /**< 1 when mbind() took the policy (or none was asked) */
  char policy_note[LNUMA_ERRMSG_MAX]; /**< why not applied ("" when applied) */
  lnuma_populate populated; /**< how the pages were faulted in */
  uint64_t populate_ns;     /**< time spent faulting them in */
  int locked;               /**< 1 when mlock()ed */
  int touch_cpu;            /**< CPU that populated it, or -1 */
  lnuma_weights weights;    /**< the weights (WEIGHTED; n 0 otherwise) */
  size_t chunk_size;        /**< WEIGHTED: bytes per chunk (page_size, or the THP
                                 size with LNUMA_HUGE_THP); 0 otherwise */
} lnuma_buffer_info;

/** An anonymous memory mapping with a policy; opaque. */
typedef struct lnuma_buffer lnuma_buffer;

/**
 * Maps size bytes (> 0) with the options (NULL: defaults).  Returns NULL when
 * it fails: ENODEV names a node or CPU that does not exist; EINVAL a bad
 * combination or a node this process may not use; ENOMEM no room (node full,
 * no huge pages reserved: the message says how to reserve them); ENOSYS a
 * policy this kernel lacks (the message names the Linux version it needs).
 * Any thread; the buffer belongs to whoever frees it.
 */
LNUMA_API lnuma_buffer *lnuma_buffer_alloc(size_t size, const lnuma_alloc_opts *opts,
                                           lnuma_error *err);
/** Checks size and options without allocating or asking the system much:
 *  -1 with EINVAL (or ENODEV: a CPU that does not exist) for what can never
 *  work, such as size 0, 'local' with nodes, 'preferred' with several nodes,
 *  populate = 0 with hugetlb pages or with 'weighted', 'weighted' without
 *  weights or with nodes, weights with another policy (opts NULL: the
 *  defaults).
 *  lnuma_buffer_alloc checks the same.
 *  Any thread. */
LNUMA_API int lnuma_alloc_check(size_t size, const lnuma_alloc_opts *opts, lnuma_error *err);
/** Unmaps the buffer; NULL is ignored.  No other call may use it after. */
LNUMA_API void lnuma_buffer_free(lnuma_buffer *buf);
/** The first byte (aligned to the page size, 2 MiB for THP and large buffers). */
LNUMA_API void *lnuma_buffer_data(const lnuma_buffer *buf);
/** Bytes asked at allocation. */
LNUMA_API size_t lnuma_buffer_size(const lnuma_buffer *buf);
/** What was asked and what happened; valid while the buffer lives. */
LNUMA_API const lnuma_buffer_info *lnuma_buffer_info_of(const lnuma_buffer *buf);

/* ---- Placement, migration, range policy (any memory of this process) ----- */

/** Where the pages of a range are now. */
typedef struct lnuma_placement {
  size_t page_size;                  /**< the page size counted in */
  uint64_t pages;                    /**< pages the range covers */
  uint64_t absent;                   /**< pages not faulted in (no node yet) */
  uint64_t by_node[LNUMA_MAX_NODES]; /**< pages on each node */
} lnuma_placement;

/**
 * Asks the kernel (move_pages without targets, in batches) where each page of
 * [addr, addr+len) is.  page_size 0 means the system's base page size.  When
 * page_nodes is not NULL, page_nodes[i] receives the node of page i (-1: not
 * present) for i < cap.  Any thread.
 */
LNUMA_API int lnuma_placement_of(const void *addr, size_t len, size_t page_size,
                                 lnuma_placement *out, int *page_nodes, size_t cap,
                                 lnuma_error *err);

/* ---- Page sizes: what backs a range -------------------------------------- */

/** How the page sizes of a range were read. */
typedef enum lnuma_pagesize_method {
  LNUMA_PAGESIZE_AUTO = 0,     /**< the first of the three below this process may use */
  LNUMA_PAGESIZE_KPAGEFLAGS,   /**< /proc/self/pagemap + /proc/kpageflags: exact, page by
                                    page, every folio size (multi-size THP included);
                                    needs CAP_SYS_ADMIN (page frame numbers) */
  LNUMA_PAGESIZE_PAGEMAP_SCAN, /**< the PAGEMAP_SCAN ioctl (Linux 6.7): exact, page by page,
                                    for PMD-mapped THP and hugetlb pages; any user; folios
                                    smaller than a PMD count as base pages */
  LNUMA_PAGESIZE_SMAPS         /**< /proc/self/smaps (AnonHugePages, *_Hugetlb): totals of
                                    the whole mapping(s) the range touches, not the range */
} lnuma_pagesize_method;

/** "auto", "kpageflags", "pagemap_scan", "smaps". */
LNUMA_API const char *lnuma_pagesize_method_name(lnuma_pagesize_method method);

/** Page sizes a count can hold (base, the multi-size THP sizes, PMD, PUD). */
#define LNUMA_PAGESIZES_MAX 16

/** The pages of one size in a range. */
typedef struct lnuma_pagesize_count {
  size_t page_size; /**< bytes */
  uint64_t pages;   /**< pages of this size that back part of the range */
  uint64_t bytes;   /**< bytes of the range they back */
} lnuma_pagesize_count;

/** What backs a range, by page size. */
typedef struct lnuma_pagesizes {
  lnuma_pagesize_method method; /**< the method that counted (never AUTO) */
  int whole_mapping;            /**< 1 when the counts are of the whole mapping(s) the
                                     range touches (smaps), not of the range alone */
  uint64_t bytes;               /**< bytes looked at: the range rounded out to base
                                     pages, or the whole mappings */
  uint64_t present_bytes;       /**< of those, backed by memory now */
  uint64_t huge_bytes;          /**< of those, on pages larger than the base page */
  int n;                        /**< entries used in sizes[] */
  lnuma_pagesize_count sizes[LNUMA_PAGESIZES_MAX]; /**< by page_size, smallest first;
                                                        only sizes with pages */
} lnuma_pagesizes;

/**
 * Counts the bytes and pages of [addr, addr+len) backed by each page size,
 * with the best method this process may use (LNUMA_PAGESIZE_AUTO).  Pages not
 * faulted in are in no count.  Any thread.
 */
LNUMA_API int lnuma_pagesizes_of(const void *addr, size_t len, lnuma_pagesizes *out,
                                 lnuma_error *err);
/** The same with a chosen method: EACCES when kpageflags is not readable (or
 *  page frame numbers are hidden), ENOSYS when the kernel lacks PAGEMAP_SCAN.
 *  Any thread. */
LNUMA_API int lnuma_pagesizes_of_method(const void *addr, size_t len,
                                        lnuma_pagesize_method method, lnuma_pagesizes *out,
                                        lnuma_error *err);

/** What a migration did. */
typedef struct lnuma_migrate_result {
  uint64_t pages;      /**< pages in the range */
  uint64_t moved;      /**< pages moved */
  uint64_t already;    /**< pages already where asked */
  uint64_t failed;     /**< pages the kernel would not move */
  uint64_t absent;     /**< pages not faulted in (nothing to move) */
  uint64_t elapsed_ns; /**< time spent in move_pages() moving */
  int first_error;     /**< errno of the first page that failed, 0 if none */
} lnuma_migrate_result;

/**
 * Moves the pages of [addr, addr+len) to the nodes (page i to the i-th node of
 * the set, round-robin; a single node takes them all) with move_pages().  The
 * range's policy is left as it was.  ENODEV names a node that does not exist.
 * Any thread.
 */
LNUMA_API int lnuma_migrate(void *addr, size_t len, size_t page_size, const lnuma_set *nodes,
                            lnuma_migrate_result *out, lnuma_error *err);

/** The policy the kernel holds for the mapping at addr (get_mempolicy with
 *  MPOL_F_ADDR).  Any thread. */
LNUMA_API int lnuma_range_policy(const void *addr, lnuma_mempolicy *policy, lnuma_set *nodes,
                                 lnuma_error *err);

/* ---- The calling thread's policy ---------------------------------------- */

/** Sets the calling thread's memory policy (set_mempolicy); nodes may be NULL
 *  or empty with the same defaults as lnuma_alloc_opts.  EPERM where the
 *  kernel refuses it (containers).  Read it back with lnuma_mem_binding()
 *  (lnuma/system.h).  Affects only the calling thread. */
LNUMA_API int lnuma_set_thread_policy(lnuma_mempolicy policy, const lnuma_set *nodes,
                                      lnuma_error *err);

/* ---- Node-local arenas (bump allocators) --------------------------------- */

/** A bump allocator over one buffer; one thread per arena. */
typedef struct lnuma_arena lnuma_arena;

/** Creates an arena of capacity bytes allocated with opts (NULL: defaults;
 *  populate is forced on so that alloc never faults).  Errors as
 *  lnuma_buffer_alloc.  Any thread. */
LNUMA_API lnuma_arena *lnuma_arena_create(size_t capacity, const lnuma_alloc_opts *opts,
                                          lnuma_error *err);
/** Unmaps the arena and everything allocated from it; NULL is ignored. */
LNUMA_API void lnuma_arena_destroy(lnuma_arena *arena);
/** n bytes aligned to align (a power of two; 0 means 16), or NULL with errno
 *  ENOMEM when the arena is full, EINVAL for a bad align or n == 0.  No
 *  system call. */
LNUMA_API void *lnuma_arena_alloc(lnuma_arena *arena, size_t n, size_t align);
/** Makes the whole capacity free again (earlier pointers are reused). */
LNUMA_API void lnuma_arena_reset(lnuma_arena *arena);
/** Bytes handed out since creation or the last reset (padding included). */
LNUMA_API size_t lnuma_arena_used(const lnuma_arena *arena);
/** Bytes the arena can hand out. */
LNUMA_API size_t lnuma_arena_capacity(const lnuma_arena *arena);
/** The buffer under the arena (for placement and info); owned by the arena. */
LNUMA_API lnuma_buffer *lnuma_arena_buffer(const lnuma_arena *arena);

/* ---- Node-local pools of fixed-size objects ------------------------------ */

/** count objects of one size with O(1) get/put; one thread per pool. */
typedef struct lnuma_pool lnuma_pool;

/**
 * Creates a pool of count objects of object_size bytes, each aligned to align
 * (a power of two >= 8; 0 picks the smallest power of two >= object_size, at
 * least 8 and at most 64, so small objects never straddle a cache line).
 * Memory is allocated with opts (populate forced on).  Any thread.
 */
LNUMA_API lnuma_pool *lnuma_pool_create(size_t object_size, size_t count, size_t align,
                                        const lnuma_alloc_opts *opts, lnuma_error *err);
/** Unmaps the pool and all its objects; NULL is ignored. */
LNUMA_API void lnuma_pool_destroy(lnuma_pool *pool);
/** A free object, or NULL when none is left.  No system call. */
LNUMA_API void *lnuma_pool_get(lnuma_pool *pool);
/** Returns an object; -1 with EINVAL when obj is not an object of this pool,
 *  EALREADY when it is already free (double put).  No system call. */
LNUMA_API int lnuma_pool_put(lnuma_pool *pool, void *obj, lnuma_error *err);
/** Objects free now. */
LNUMA_API size_t lnuma_pool_available(const lnuma_pool *pool);
/** Objects in the pool. */
LNUMA_API size_t lnuma_pool_count(const lnuma_pool *pool);
/** The object size asked, in bytes. */
LNUMA_API size_t lnuma_pool_object_size(const lnuma_pool *pool);
/** The distance between objects in bytes (the object size, rounded up to the
 *  pool's alignment). */
LNUMA_API size_t lnuma_pool_stride(const lnuma_pool *pool);
/** The index of obj in the pool (0..count-1), or -1 when it is not an object
 *  of this pool. */
LNUMA_API long lnuma_pool_index(const lnuma_pool *pool, const void *obj);
/** 1 when the object at index is handed out, 0 when free or out of range. */
LNUMA_API int lnuma_pool_in_use(const lnuma_pool *pool, size_t index);
/** The buffer under the pool (for placement and info); owned by the pool. */
LNUMA_API lnuma_buffer *lnuma_pool_buffer(const lnuma_pool *pool);

/* ---- Kernel counters and per-node memory --------------------------------- */

/** The counters of /sys/devices/system/node/nodeN/numastat, in pages. */
typedef struct lnuma_numastat {
  uint64_t numa_hit;       /**< pages allocated here that were meant for this node */
  uint64_t numa_miss;      /**< pages allocated here though meant for another node */
  uint64_t numa_foreign;   /**< pages meant for this node but allocated on another */
  uint64_t interleave_hit; /**< interleaved pages that landed here as meant */
  uint64_t local_node;     /**< pages allocated here by a process running on this node */
  uint64_t other_node;     /**< pages allocated here by a process running on another node */
} lnuma_numastat;

/** Reads the counters of one node.  ENODEV: no such node.  Any thread. */
LNUMA_API int lnuma_numastat_node(int node, lnuma_numastat *out, lnuma_error *err);

/** A process's memory on one node, by kind, as `numastat -p` sorts it. */
typedef struct lnuma_proc_usage {
  uint64_t huge_bytes;    /**< hugetlbfs mappings */
  uint64_t heap_bytes;    /**< the [heap] */
  uint64_t stack_bytes;   /**< the [stack] */
  uint64_t private_bytes; /**< everything else */
} lnuma_proc_usage;

/** Sums /proc/PID/numa_maps (pid 0: this process) into by_node[0..max_nodes-1]
 *  (zeroed first).  ESRCH when the process does not exist.  Any thread. */
LNUMA_API int lnuma_numastat_process(int pid, lnuma_proc_usage *by_node, int max_nodes,
                                     lnuma_error *err);

/** Huge pages of one size on a node. */
typedef struct lnuma_hugepages {
  size_t page_size;  /**< bytes */
  uint64_t total;    /**< nr_hugepages */
  uint64_t free;     /**< free_hugepages */
  uint64_t surplus;  /**< surplus_hugepages */
} lnuma_hugepages;

/** Memory of one node (/sys/devices/system/node/nodeN/meminfo, hugepages). */
typedef struct lnuma_meminfo {
  uint64_t total;             /**< bytes of memory the node has (MemTotal) */
  uint64_t free;              /**< bytes free (MemFree) */
  uint64_t used;              /**< bytes in use (total - free) */
  int n_huge;                 /**< entries used in huge[] */
  lnuma_hugepages huge[4];    /**< by size, smallest first */
} lnuma_meminfo;

/** Reads the memory of one node.  ENODEV: no such node.  Any thread. */
LNUMA_API int lnuma_meminfo_node(int node, lnuma_meminfo *out, lnuma_error *err);

#ifdef __cplusplus
}
#endif

#endif
