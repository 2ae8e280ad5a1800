/* Where pages are (move_pages without targets) and moving them
 * (move_pages with targets), in batches so any size works. */
#include <errno.h>
#include <sched.h>
#include <numaif.h>
#include <stdint.h>
#include <string.h>

#include "mem_internal.h"

#define BATCH 1024

/* The pages covering [addr, addr+len): first page and count. */
static uintptr_t first_page(const void *addr, size_t page_size) {
  return (uintptr_t)addr & ~(uintptr_t)(page_size - 1);
}

static uint64_t page_count(const void *addr, size_t len, size_t page_size) {
  uintptr_t start = first_page(addr, page_size);
  uintptr_t end = (uintptr_t)addr + len;
  return (end - start + page_size - 1) / page_size;
}

static int check_range(const void *addr, size_t len, size_t *page_size, lnuma_error *err) {
  if (*page_size == 0) *page_size = lnuma__page_size();
  if ((*page_size & (*page_size - 1)) != 0)
    return lnuma__fail(err, EINVAL, "page size %zu is not a power of two", *page_size);
  if (addr == NULL || len == 0) return lnuma__fail(err, EINVAL, "empty range");
  if ((uintptr_t)addr + len < (uintptr_t)addr)
    return lnuma__fail(err, EINVAL, "range wraps around the address space");
  return 0;
}

/* move_pages for count pages; -1 with err on a call-level failure. */
static int query(void **pages, unsigned long count, int *status, lnuma_error *err) {
  if (move_pages(0, count, pages, NULL, status, 0) < 0)
    return lnuma__fail_sys(err, errno, "move_pages");
  return 0;
}

int lnuma_placement_of(const void *addr, size_t len, size_t page_size, lnuma_placement *out,
                       int *page_nodes, size_t cap, lnuma_error *err) {
  if (check_range(addr, len, &page_size, err) != 0) return -1;
  memset(out, 0, sizeof *out);
  out->page_size = page_size;
  out->pages = page_count(addr, len, page_size);
  uintptr_t start = first_page(addr, page_size);
  void *pages[BATCH];
  int status[BATCH];
  for (uint64_t done = 0; done < out->pages;) {
    unsigned long k = out->pages - done < BATCH ? (unsigned long)(out->pages - done) : BATCH;
    for (unsigned long i = 0; i < k; i++)
      pages[i] = (void *)(start + (uintptr_t)(done + i) * page_size);
    if (query(pages, k, status, err) != 0) return -1;
    for (unsigned long i = 0; i < k; i++) {
      int s = status[i];
      if (s >= 0 && s < LNUMA_MAX_NODES)
        out->by_node[s]++;
      else
        out->absent++;
      if (page_nodes != NULL && done + i < cap) page_nodes[done + i] = s >= 0 ? s : -1;
    }
    done += k;
  }
  return 0;
}

/* How many more times a page that was transiently busy is offered to move_pages. */
#define MIGRATE_RETRIES 4

int lnuma_migrate(void *addr, size_t len, size_t page_size, const lnuma_set *nodes,
                  lnuma_migrate_result *out, lnuma_error *err) {
  if (check_range(addr, len, &page_size, err) != 0) return -1;
  int k_nodes = lnuma_set_count(nodes);
  if (k_nodes == 0) return lnuma__fail(err, EINVAL, "migrate: no target node");
  if (lnuma__diagnose_nodes(nodes, "migrate", err) != 0) return -1;
  int targets[LNUMA_MAX_NODES];
  int nt = 0;
  for (int n = lnuma_set_next(nodes, -1); n >= 0 && nt < LNUMA_MAX_NODES;
       n = lnuma_set_next(nodes, n))
    targets[nt++] = n;
  memset(out, 0, sizeof *out);
  out->pages = page_count(addr, len, page_size);
  uintptr_t start = first_page(addr, page_size);
  void *pages[BATCH], *todo[BATCH];
  int status[BATCH], want[BATCH];
  for (uint64_t done = 0; done < out->pages;) {
    unsigned long k = out->pages - done < BATCH ? (unsigned long)(out->pages - done) : BATCH;
    for (unsigned long i = 0; i < k; i++)
      pages[i] = (void *)(start + (uintptr_t)(done + i) * page_size);
    if (query(pages, k, status, err) != 0) return -1;
    unsigned long m = 0;
    for (unsigned long i = 0; i < k; i++) {
      int target = targets[(done + i) % (uint64_t)nt];
      if (status[i] < 0)
        out->absent++;
      else if (status[i] == target)
        out->already++;
      else {
        todo[m] = pages[i];
        want[m++] = target;
      }
    }
    /* A page can be briefly busy (still on a per-CPU LRU list, under I/O):
     * the kernel says EBUSY/EAGAIN for it, and a second try moves it. */
    for (int attempt = 0; m > 0; attempt++) {
      uint64_t t0 = lnuma__now_ns();
      long rc = move_pages(0, m, todo, want, status, MPOL_MF_MOVE);
      out->elapsed_ns += lnuma__now_ns() - t0;
      if (rc < 0) return lnuma__fail_sys(err, errno, "move_pages");
      unsigned long again = 0;
      for (unsigned long i = 0; i < m; i++) {
        int transient = status[i] == -EBUSY || status[i] == -EAGAIN;
        if (status[i] == want[i])
          out->moved++;
        else if (transient && attempt < MIGRATE_RETRIES) {
          todo[again] = todo[i];
          want[again++] = want[i];
        } else {
          out->failed++;
          if (out->first_error == 0) out->first_error = status[i] < 0 ? -status[i] : EBUSY;
        }
      }
      m = again;
      if (m > 0) sched_yield();
    }
    done += k;
  }
  return 0;
}
