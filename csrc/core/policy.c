/* Memory policies: names, defaults, mbind() of a range, the calling thread's
 * policy, and explanations when the kernel says no. */
#include <errno.h>
#include <numaif.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "mem_internal.h"

#define SYS_NODE "/sys/devices/system/node"

/* The Linux release that brought each mode (lnuma_mempolicy = MPOL_*). */
static const char *const policy_since[] = {
    "Linux 2.6.7", "Linux 2.6.7", "Linux 2.6.7", "Linux 2.6.7", "Linux 3.8", "Linux 5.15",
    "Linux 6.9", "lnuma (any kernel)",
};

#define N_POLICIES ((int)(sizeof policy_since / sizeof policy_since[0]))

int lnuma_mempolicy_parse(const char *name, lnuma_mempolicy *out, lnuma_error *err) {
  for (int i = 0; i < N_POLICIES; i++)
    if (strcasecmp(name, lnuma_mempolicy_name((lnuma_mempolicy)i)) == 0) {
      *out = (lnuma_mempolicy)i;
      return 0;
    }
  return lnuma__fail(err, EINVAL,
                     "unknown policy '%s' (expected default, local, bind, preferred, "
                     "preferred_many, interleave, weighted_interleave or weighted)",
                     name);
}

/* The page-kind vocabulary, written once for the Lua face, plans, the CLI
 * and C hosts: each spelling and the kind it means (case-insensitive). */
static const struct {
  const char *word;
  lnuma_huge kind;
} huge_words[] = {
    {"default", LNUMA_HUGE_DEFAULT}, {"none", LNUMA_HUGE_NONE}, {"no", LNUMA_HUGE_NONE},
    {"4K", LNUMA_HUGE_NONE},         {"thp", LNUMA_HUGE_THP},   {"2M", LNUMA_HUGE_2M},
    {"1G", LNUMA_HUGE_1G},
};

int lnuma_huge_parse(const char *name, lnuma_huge *out, lnuma_error *err) {
  for (size_t i = 0; i < sizeof huge_words / sizeof huge_words[0]; i++)
    if (strcasecmp(name, huge_words[i].word) == 0) {
      *out = huge_words[i].kind;
      return 0;
    }
  return lnuma__fail(err, EINVAL,
                     "'%s' is not a page kind (expected \"thp\", \"2M\", \"1G\", \"none\", "
                     "\"4K\", \"no\" or \"default\", in any case)",
                     name);
}

const char *lnuma_huge_name(lnuma_huge huge) {
  static const char *const names[] = {"default", "none", "thp", "2M", "1G"};
  return ((int)huge >= 0 && (int)huge <= LNUMA_HUGE_1G) ? names[huge] : "?";
}

const char *lnuma_populate_name(lnuma_populate how) {
  static const char *const names[] = {"none", "madvise", "touch", "mlock"};
  return ((int)how >= 0 && (int)how <= LNUMA_POPULATE_MLOCK) ? names[how] : "?";
}

uint64_t lnuma__now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

size_t lnuma__page_size(void) {
  long ps = sysconf(_SC_PAGESIZE);
  return ps > 0 ? (size_t)ps : 4096;
}

int lnuma__check_policy(lnuma_mempolicy policy, const lnuma_set *nodes, lnuma_error *err) {
  if ((int)policy < 0 || (int)policy >= N_POLICIES)
    return lnuma__fail(err, EINVAL, "unknown policy %d", (int)policy);
  int n = lnuma_set_count(nodes);
  if (policy == LNUMA_MPOL_LOCAL && n > 0)
    return lnuma__fail(err, EINVAL,
                       "policy 'local' takes no nodes (it uses the node of the CPU that "
                       "touches the page)");
  if (policy == LNUMA_MPOL_WEIGHTED)
    return lnuma__fail(err, EINVAL,
                       "policy 'weighted' takes per-buffer weights (buffers, arenas, pools); "
                       "a thread's policy by weights is 'weighted_interleave'");
  if (policy == LNUMA_MPOL_PREFERRED && n > 1)
    return lnuma__fail(err, EINVAL,
                       "policy 'preferred' takes one node (use 'preferred_many' for several)");
  int beyond = lnuma_set_next(nodes, LNUMA_MAX_NODES - 1);
  if (beyond >= 0) return lnuma__fail(err, ENODEV, "nodes: node %d does not exist", beyond);
  return 0;
}

int lnuma__resolve_policy(lnuma_mempolicy *policy, lnuma_set *nodes, lnuma_error *err) {
  if (lnuma__check_policy(*policy, nodes, err) != 0) return -1;
  if (lnuma_set_count(nodes) > 0) {
    if (*policy == LNUMA_MPOL_DEFAULT) *policy = LNUMA_MPOL_BIND;
    return 0;
  }
  switch (*policy) {
  case LNUMA_MPOL_DEFAULT:
  case LNUMA_MPOL_LOCAL:
    return 0;
  case LNUMA_MPOL_PREFERRED: {
    int node;
    if (lnuma_current(NULL, &node, err) != 0) return -1;
    lnuma_set_add(nodes, node);
    return 0;
  }
  default:
    return lnuma_allowed(NULL, nodes, err);
  }
}

/* Reads a /sys node list; 0 when it exists and parsed. */
static int read_nodes(const char *path, lnuma_set *out) {
  char line[4096];
  if (lnuma__read_line(path, line, sizeof line) < 0) return -1;
  return lnuma_set_parse(out, line, NULL);
}

int lnuma__diagnose_nodes(const lnuma_set *nodes, const char *what, lnuma_error *err) {
  lnuma_set online, memory, allowed;
  char list[256];
  if (lnuma_nodes_online(&online, NULL) != 0) return 0;
  lnuma_set_format(&online, list, sizeof list);
  for (int n = lnuma_set_next(nodes, -1); n >= 0; n = lnuma_set_next(nodes, n))
    if (!lnuma_set_has(&online, n) || n >= LNUMA_MAX_NODES)
      return lnuma__fail(err, ENODEV, "%s: node %d does not exist (nodes %s)", what, n, list);
  if (read_nodes(SYS_NODE "/has_memory", &memory) == 0)
    for (int n = lnuma_set_next(nodes, -1); n >= 0; n = lnuma_set_next(nodes, n))
      if (!lnuma_set_has(&memory, n))
        return lnuma__fail(err, EINVAL, "%s: node %d has no memory", what, n);
  if (lnuma_allowed(NULL, &allowed, NULL) == 0) {
    lnuma_set_format(&allowed, list, sizeof list);
    for (int n = lnuma_set_next(nodes, -1); n >= 0; n = lnuma_set_next(nodes, n))
      if (!lnuma_set_has(&allowed, n))
        return lnuma__fail(err, EINVAL,
                           "%s: node %d is not allowed to this process (Mems_allowed %s)", what,
                           n, list);
  }
  return 0;
}

/* The error of a refused policy call: the nodes, then the mode, then errno. */
static int policy_failure(int e, const char *call, lnuma_mempolicy policy, const lnuma_set *nodes,
                          lnuma_error *err) {
  if (e == EINVAL) {
    if (lnuma__diagnose_nodes(nodes, "nodes", err) != 0) return -1;
    if (policy == LNUMA_MPOL_PREFERRED_MANY || policy == LNUMA_MPOL_WEIGHTED_INTERLEAVE)
      return lnuma__fail(err, ENOSYS, "policy '%s' is not supported by this kernel (needs %s)",
                         lnuma_mempolicy_name(policy), policy_since[policy]);
  }
  return lnuma__fail_sys(err, e, call);
}

/* Calls mbind (addr != NULL) or set_mempolicy; MPOL_LOCAL falls back to its
 * pre-3.8 spelling, MPOL_PREFERRED with an empty mask. */
static long policy_call(void *addr, size_t len, lnuma_mempolicy policy, const lnuma_set *nodes) {
  int mode = (int)policy; /* lnuma_mempolicy values are the kernel's modes */
  const unsigned long *mask = (const unsigned long *)nodes->bits;
  /* The kernel copies maxnode - 1 bits: pass no more words than the set
   * uses (a whole lnuma_set is 1 KiB to copy on every call). */
  int words = (int)(sizeof nodes->bits / sizeof nodes->bits[0]);
  while (words > 1 && nodes->bits[words - 1] == 0) words--;
  unsigned long maxnode = (unsigned long)words * 64 + 1;
  if (policy == LNUMA_MPOL_DEFAULT || policy == LNUMA_MPOL_LOCAL) {
    mask = NULL;
    maxnode = 0;
  }
  long rc = addr != NULL ? mbind(addr, len, mode, mask, maxnode, 0)
                         : set_mempolicy(mode, mask, maxnode);
  if (rc != 0 && errno == EINVAL && policy == LNUMA_MPOL_LOCAL)
    rc = addr != NULL ? mbind(addr, len, MPOL_PREFERRED, NULL, 0, 0)
                      : set_mempolicy(MPOL_PREFERRED, NULL, 0);
  return rc;
}

int lnuma__apply_policy(void *addr, size_t len, lnuma_mempolicy policy, const lnuma_set *nodes,
                        int *applied, char *note, size_t note_cap, lnuma_error *err) {
  *applied = 1;
  if (note_cap > 0) note[0] = '\0';
  if (policy == LNUMA_MPOL_DEFAULT) return 0;
  /* The kernel quietly drops nodes it cannot use as long as one is left:
   * check sets first, so that asking for {0, 7} never silently means {0}.
   * A single node is refused outright when unusable (and explained then). */
  if (lnuma_set_count(nodes) > 1 && lnuma__diagnose_nodes(nodes, "nodes", err) != 0) return -1;
  if (policy_call(addr, len, policy, nodes) == 0) return 0;
  int e = errno;
  if (e == EPERM || e == ENOSYS) {
    lnuma_error why;
    if (lnuma__diagnose_nodes(nodes, "nodes", &why) != 0 && why.code == ENODEV) {
      if (err != NULL) *err = why;
      errno = ENODEV;
      return -1;
    }
    *applied = 0;
    char buf[128];
    snprintf(note, note_cap, "mbind: %s (%s; pages follow first touch)",
             strerror_r(e, buf, sizeof buf),
             e == EPERM ? "the kernel refuses memory policy here, e.g. a container without "
                          "CAP_SYS_NICE"
                        : "this kernel has no NUMA support");
    return 0;
  }
  return policy_failure(e, "mbind", policy, nodes, err);
}

int lnuma__set_mempolicy_raw(lnuma_mempolicy policy, const lnuma_set *nodes) {
  return policy_call(NULL, 0, policy, nodes) == 0 ? 0 : errno;
}

int lnuma__policy_refused(int e, lnuma_mempolicy policy, const lnuma_set *nodes,
                          lnuma_error *err) {
  if (e == EPERM) {
    char buf[128];
    return lnuma__fail(err, e,
                       "set_mempolicy: %s (the kernel refuses memory policy here, e.g. a "
                       "container without CAP_SYS_NICE)",
                       strerror_r(e, buf, sizeof buf));
  }
  return policy_failure(e, "set_mempolicy", policy, nodes, err);
}

int lnuma_set_thread_policy(lnuma_mempolicy policy, const lnuma_set *nodes, lnuma_error *err) {
  lnuma_set resolved;
  if (nodes != NULL)
    resolved = *nodes;
  else
    lnuma_set_zero(&resolved);
  if (lnuma__resolve_policy(&policy, &resolved, err) != 0) return -1;
  if (lnuma__diagnose_nodes(&resolved, "nodes", err) != 0) return -1;
  int e = lnuma__set_mempolicy_raw(policy, &resolved);
  return e == 0 ? 0 : lnuma__policy_refused(e, policy, &resolved, err);
}

int lnuma_range_policy(const void *addr, lnuma_mempolicy *policy, lnuma_set *nodes,
                       lnuma_error *err) {
  if (addr == NULL) return lnuma__fail(err, EINVAL, "get_mempolicy: NULL address");
  lnuma_set mask;
  lnuma_set_zero(&mask);
  int mode = 0;
  if (get_mempolicy(&mode, (unsigned long *)mask.bits, LNUMA_SET_BITS, (void *)addr,
                    MPOL_F_ADDR) != 0)
    return lnuma__fail_sys(err, errno, "get_mempolicy");
  mode &= ~(int)((1 << 15) | (1 << 14) | (1 << 13)); /* STATIC, RELATIVE, BALANCING flags */
  /* Kernel modes only (LNUMA_MPOL_WEIGHTED is lnuma's own). */
  lnuma_mempolicy p =
      mode >= 0 && mode < LNUMA_MPOL_WEIGHTED ? (lnuma_mempolicy)mode : LNUMA_MPOL_DEFAULT;
  if (p == LNUMA_MPOL_PREFERRED && lnuma_set_count(&mask) == 0) p = LNUMA_MPOL_LOCAL;
  if (p == LNUMA_MPOL_DEFAULT || p == LNUMA_MPOL_LOCAL) lnuma_set_zero(&mask);
  if (policy != NULL) *policy = p;
  if (nodes != NULL) *nodes = mask;
  return 0;
}
