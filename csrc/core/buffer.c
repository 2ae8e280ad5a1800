/* Buffers: anonymous mappings with a memory policy set before the first
 * touch, populated without risking SIGBUS, optionally on huge pages, locked,
 * or first-touched from a chosen CPU. */
#include <errno.h>
#include <inttypes.h>
#include <linux/mman.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mem_internal.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << 26)
#endif
#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB (30 << 26)
#endif

#define THP_SIZE ((size_t)2 << 20)

struct lnuma_buffer {
  char *data;       /* first byte, aligned */
  size_t map_len;   /* bytes mapped at data */
  lnuma_buffer_info info;
};

void lnuma_alloc_opts_init(lnuma_alloc_opts *opts) {
  memset(opts, 0, sizeof *opts);
  opts->policy = LNUMA_MPOL_DEFAULT;
  opts->huge = LNUMA_HUGE_DEFAULT;
  opts->populate = 1;
  opts->touch_cpu = -1;
}

static size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

static int is_hugetlb(lnuma_huge huge) { return huge == LNUMA_HUGE_2M || huge == LNUMA_HUGE_1G; }

static size_t hugetlb_size(lnuma_huge huge) {
  return huge == LNUMA_HUGE_1G ? (size_t)1 << 30 : (size_t)2 << 20;
}

static uint64_t read_u64(const char *dir, const char *file) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  FILE *f = fopen(path, "re");
  if (f == NULL) return 0;
  unsigned long long v = 0;
  if (fscanf(f, "%llu", &v) != 1) v = 0;
  fclose(f);
  return (uint64_t)v;
}

/* Why hugetlb pages could not be had, and how to reserve them. */
static int hugetlb_failure(int e, lnuma_huge huge, size_t len, const char *what,
                           lnuma_error *err) {
  size_t kb = hugetlb_size(huge) >> 10;
  const char *name = lnuma_huge_name(huge);
  char dir[128];
  snprintf(dir, sizeof dir, "/sys/kernel/mm/hugepages/hugepages-%zukB", kb);
  if (access(dir, F_OK) != 0)
    return lnuma__fail(err, ENOSYS, "huge pages of %s are not supported here (no %s)", name,
                       dir);
  if (e != ENOMEM && e != EFAULT) return lnuma__fail_sys(err, e, what);
  return lnuma__fail(err, ENOMEM,
                     "huge='%s': %zu pages needed, %" PRIu64 " free of %" PRIu64
                     " reserved; reserve with: echo N > %s/nr_hugepages (per node: "
                     "/sys/devices/system/node/nodeN/hugepages/hugepages-%zukB/nr_hugepages)",
                     name, len / hugetlb_size(huge), read_u64(dir, "free_hugepages"),
                     read_u64(dir, "nr_hugepages"), dir, kb);
}

/* Maps len bytes for the page kind; sets b->data and b->map_len. */
static int map_memory(lnuma_buffer *b, size_t size, lnuma_huge huge, lnuma_error *err) {
  int prot = PROT_READ | PROT_WRITE;
  int flags = MAP_PRIVATE | MAP_ANONYMOUS;
  if (is_hugetlb(huge)) {
    size_t len = round_up(size, hugetlb_size(huge));
    flags |= MAP_HUGETLB | (huge == LNUMA_HUGE_1G ? MAP_HUGE_1GB : MAP_HUGE_2MB);
    void *p = mmap(NULL, len, prot, flags, -1, 0);
    if (p == MAP_FAILED) return hugetlb_failure(errno, huge, len, "mmap", err);
    b->data = p;
    b->map_len = len;
    return 0;
  }
  size_t len = round_up(size, lnuma__page_size());
  size_t align = 0;
  if (huge == LNUMA_HUGE_THP) {
    len = round_up(size, THP_SIZE);
    align = THP_SIZE;
  } else if (len >= THP_SIZE) {
    align = THP_SIZE;
  }
  char what[64] = "mmap of ";
  lnuma__format_bytes(size, what + 8, sizeof what - 8); /* the error names the size */
  if (len < size || len + align < len)
    return lnuma__fail(err, ENOMEM, "%s: too large", what);
  char *raw = mmap(NULL, len + align, prot, flags, -1, 0);
  if (raw == MAP_FAILED) return lnuma__fail_sys(err, errno, what);
  char *data = raw;
  if (align > 0) {
    data = (char *)round_up((uintptr_t)raw, align);
    size_t head = (size_t)(data - raw), tail = align - head;
    if (head > 0) munmap(raw, head);
    if (tail > 0) munmap(data + len, tail);
  }
  b->data = data;
  b->map_len = len;
  return 0;
}

int lnuma__populate_range(char *p, size_t len, int hugetlb, lnuma_populate *how,
                          lnuma_error *err) {
  int rc;
  do rc = madvise(p, len, MADV_POPULATE_WRITE);
  while (rc != 0 && errno == EINTR);
  if (rc == 0) {
    *how = LNUMA_POPULATE_MADVISE;
    return 0;
  }
  if (errno != EINVAL) return errno;
  /* No MADV_POPULATE_WRITE (Linux < 5.14).  Touching base pages cannot raise
   * SIGBUS (a full node is the OOM killer's business); huge pages can. */
  if (hugetlb)
    return lnuma__fail(err, ENOSYS,
                       "populate: huge pages are only populated with MADV_POPULATE_WRITE "
                       "(Linux 5.14), which this kernel lacks (a touch could SIGBUS)");
  size_t ps = lnuma__page_size();
  for (size_t off = 0; off < len; off += ps) ((volatile char *)p)[off] = 0;
  *how = LNUMA_POPULATE_TOUCH;
  return 0;
}

/* Populating from a thread pinned to one CPU (first touch there). */
typedef struct touch_job {
  char *p;
  size_t len;
  int hugetlb, cpu, rc;
  lnuma_populate how;
  uint64_t ns;
  lnuma_error err;
} touch_job;

static void *touch_main(void *arg) {
  touch_job *job = arg;
  lnuma_set cpus;
  lnuma_set_zero(&cpus);
  lnuma_set_add(&cpus, job->cpu);
  lnuma__clear(&job->err);
  if (lnuma_bind_cpus(&cpus, &job->err) != 0) {
    job->rc = -1;
    return NULL;
  }
  uint64_t t0 = lnuma__now_ns();
  job->rc = lnuma__populate_range(job->p, job->len, job->hugetlb, &job->how, &job->err);
  job->ns = lnuma__now_ns() - t0;
  return NULL;
}

/* The message of a failed populate, naming what could not hold the pages. */
static int populate_failure(int e, const lnuma_buffer *b, lnuma_error *err) {
  const lnuma_buffer_info *in = &b->info;
  if (is_hugetlb(in->huge) && (e == ENOMEM || e == EFAULT))
    return hugetlb_failure(e, in->huge, b->map_len, "populate", err);
  if (e == ENOMEM) {
    char list[128];
    lnuma_set_format(&in->nodes, list, sizeof list);
    return lnuma__fail(err, ENOMEM,
                       "populate: no room for %zu bytes (policy %s on nodes %s): %s",
                       b->map_len, lnuma_mempolicy_name(in->policy), list[0] ? list : "-",
                       "Cannot allocate memory");
  }
  return lnuma__fail_sys(err, e, "populate");
}

static int populate(lnuma_buffer *b, int cpu, lnuma_error *err) {
  int hugetlb = is_hugetlb(b->info.huge), rc;
  if (cpu < 0) {
    uint64_t t0 = lnuma__now_ns();
    rc = lnuma__populate_range(b->data, b->map_len, hugetlb, &b->info.populated, err);
    b->info.populate_ns = lnuma__now_ns() - t0;
  } else {
    touch_job job = {.p = b->data, .len = b->map_len, .hugetlb = hugetlb, .cpu = cpu};
    pthread_t t;
    int e = pthread_create(&t, NULL, touch_main, &job);
    if (e != 0) return lnuma__fail_sys(err, e, "pthread_create");
    pthread_join(t, NULL);
    rc = job.rc;
    if (rc < 0) {
      if (err != NULL) *err = job.err;
      errno = job.err.code;
    }
    b->info.populated = job.how;
    b->info.populate_ns = job.ns;
  }
  if (rc > 0) return populate_failure(rc, b, err);
  return rc;
}

static int lock_memory(lnuma_buffer *b, lnuma_error *err) {
  uint64_t t0 = lnuma__now_ns();
  /* The raw system call: sanitizers turn the libc mlock() into a no-op. */
  if (syscall(SYS_mlock, b->data, b->map_len) != 0) {
    int e = errno;
    struct rlimit rl;
    if ((e == ENOMEM || e == EPERM) && getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
      char buf[128];
      return lnuma__fail(err, e,
                         "mlock: %s (RLIMIT_MEMLOCK is %llu bytes for %zu asked; raise it "
                         "with ulimit -l or run with CAP_IPC_LOCK)",
                         strerror_r(e, buf, sizeof buf), (unsigned long long)rl.rlim_cur,
                         b->map_len);
    }
    return lnuma__fail_sys(err, e, "mlock");
  }
  b->info.locked = 1;
  if (b->info.populated == LNUMA_POPULATE_NONE) {
    b->info.populated = LNUMA_POPULATE_MLOCK;
    b->info.populate_ns = lnuma__now_ns() - t0;
  }
  return 0;
}

int lnuma_alloc_check(size_t size, const lnuma_alloc_opts *o, lnuma_error *err) {
  lnuma_alloc_opts defaults;
  if (o == NULL) {
    lnuma_alloc_opts_init(&defaults);
    o = &defaults;
  }
  if (size == 0) return lnuma__fail(err, EINVAL, "size must be positive");
  /* Rounding up to pages (and THP alignment) must not wrap around. */
  if (size > SIZE_MAX / 2)
    return lnuma__fail(err, ENOMEM, "size %zu is larger than any address space", size);
  if ((int)o->huge < 0 || (int)o->huge > LNUMA_HUGE_1G)
    return lnuma__fail(err, EINVAL, "unknown huge page kind %d", (int)o->huge);
  if (is_hugetlb(o->huge) && !o->populate)
    return lnuma__fail(err, EINVAL,
                       "populate=false is not possible with huge pages '%s' (a later first "
                       "touch could SIGBUS)",
                       lnuma_huge_name(o->huge));
  if (o->touch_cpu >= 0 && lnuma_cpu_node(o->touch_cpu) < 0) {
    lnuma_set cpus;
    char list[256] = "";
    if (lnuma_cpus_online(&cpus, NULL) == 0) lnuma_set_format(&cpus, list, sizeof list);
    return lnuma__fail(err, ENODEV, "touch_cpu: CPU %d does not exist (online CPUs %s)",
                       o->touch_cpu, list);
  }
  if (o->touch_cpu < -1)
    return lnuma__fail(err, EINVAL, "touch_cpu: CPU %d does not exist", o->touch_cpu);
  if (o->weights.n != 0 || o->policy == LNUMA_MPOL_WEIGHTED) {
    if (o->policy != LNUMA_MPOL_WEIGHTED && o->policy != LNUMA_MPOL_DEFAULT)
      return lnuma__fail(err, EINVAL,
                         "weights: only with policy 'weighted'%s, not '%s'",
                         o->policy == LNUMA_MPOL_WEIGHTED_INTERLEAVE
                             ? " ('weighted_interleave' takes the system-wide weights of "
                               "/sys/kernel/mm/mempolicy/weighted_interleave)"
                             : "",
                         lnuma_mempolicy_name(o->policy));
    if (o->weights.n == 0)
      return lnuma__fail(err, EINVAL,
                         "policy 'weighted' needs weights (e.g. weights = {[0] = 3, [1] = 1})");
    if (lnuma_set_count(&o->nodes) > 0)
      return lnuma__fail(err, EINVAL,
                         "weights: give weights or nodes, not both (the weights name the "
                         "nodes)");
    if (!o->populate)
      return lnuma__fail(err, EINVAL,
                         "populate=false is not possible with policy 'weighted' (pages are "
                         "placed on their nodes as they are faulted in)");
    return lnuma_weights_check(&o->weights, err);
  }
  return lnuma__check_policy(o->policy, &o->nodes, err);
}

/* The chunk of a weighted buffer: its page, or the THP size for THP. */
static size_t chunk_size(lnuma_huge huge) {
  if (is_hugetlb(huge)) return hugetlb_size(huge);
  return huge == LNUMA_HUGE_THP ? lnuma__pmd_size() : lnuma__page_size();
}

/* Places a weighted buffer (policy and populate at once). */
static int place_weighted(lnuma_buffer *b, const lnuma_alloc_opts *o, lnuma_error *err) {
  lnuma_buffer_info *in = &b->info;
  in->weights = o->weights;
  in->chunk_size = chunk_size(o->huge);
  lnuma_set_zero(&in->nodes);
  for (int i = 0; i < o->weights.n; i++)
    if (o->weights.weight[i] > 0) lnuma_set_add(&in->nodes, o->weights.node[i]);
  /* Base-page chunks: a THP would put 512 chunks on one node. */
  if (o->huge == LNUMA_HUGE_DEFAULT) (void)madvise(b->data, b->map_len, MADV_NOHUGEPAGE);
  int rc = lnuma__weighted_populate(b->data, b->map_len, in->chunk_size, &o->weights,
                                    o->touch_cpu, is_hugetlb(o->huge), in, err);
  if (rc > 0) return populate_failure(rc, b, err);
  return rc;
}

lnuma_buffer *lnuma_buffer_alloc(size_t size, const lnuma_alloc_opts *opts, lnuma_error *err) {
  lnuma_alloc_opts o;
  if (opts != NULL)
    o = *opts;
  else
    lnuma_alloc_opts_init(&o);
  if (lnuma_alloc_check(size, &o, err) != 0) return NULL;
  if (o.weights.n > 0)
    o.policy = LNUMA_MPOL_WEIGHTED;
  else if (lnuma__resolve_policy(&o.policy, &o.nodes, err) != 0)
    return NULL;
  lnuma_buffer *b = calloc(1, sizeof *b);
  if (b == NULL) {
    lnuma__fail_sys(err, ENOMEM, "calloc");
    return NULL;
  }
  lnuma_buffer_info *in = &b->info;
  in->size = size;
  in->huge = o.huge;
  in->policy = o.policy;
  in->nodes = o.nodes;
  in->touch_cpu = o.touch_cpu;
  in->page_size = is_hugetlb(o.huge) ? hugetlb_size(o.huge) : lnuma__page_size();
  if (map_memory(b, size, o.huge, err) != 0) {
    free(b);
    return NULL;
  }
  in->mapped = b->map_len;
  if (o.huge == LNUMA_HUGE_THP && madvise(b->data, b->map_len, MADV_HUGEPAGE) != 0) {
    lnuma__fail(err, ENOSYS,
                "huge='thp': transparent huge pages are not available in this kernel (%s)",
                "madvise MADV_HUGEPAGE failed");
    goto fail;
  }
  if (o.huge == LNUMA_HUGE_NONE) (void)madvise(b->data, b->map_len, MADV_NOHUGEPAGE);
  if (o.policy == LNUMA_MPOL_WEIGHTED) {
    if (place_weighted(b, &o, err) != 0) goto fail;
  } else {
    if (lnuma__apply_policy(b->data, b->map_len, o.policy, &o.nodes, &in->policy_applied,
                            in->policy_note, sizeof in->policy_note, err) != 0)
      goto fail;
    if (o.populate && populate(b, o.touch_cpu, err) != 0) goto fail;
  }
  if (o.lock && lock_memory(b, err) != 0) goto fail;
  return b;
fail: {
  int e = errno;
  munmap(b->data, b->map_len);
  free(b);
  errno = e;
  return NULL;
}
}

void lnuma_buffer_free(lnuma_buffer *buf) {
  if (buf == NULL) return;
  munmap(buf->data, buf->map_len);
  free(buf);
}

void *lnuma_buffer_data(const lnuma_buffer *buf) { return buf->data; }

size_t lnuma_buffer_size(const lnuma_buffer *buf) { return buf->info.size; }

const lnuma_buffer_info *lnuma_buffer_info_of(const lnuma_buffer *buf) { return &buf->info; }
