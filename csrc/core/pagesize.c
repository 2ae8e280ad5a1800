/* What backs a range, by page size: the proof that huge pages were given.
 * Three readers, best first: page frames and their flags (pagemap +
 * kpageflags, root), the PAGEMAP_SCAN ioctl (Linux 6.7, any user), and the
 * per-mapping totals of /proc/self/smaps (any kernel, any user). */
#include <errno.h>
#include <fcntl.h>
#include <linux/kernel-page-flags.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "mem_internal.h"

const char *lnuma_pagesize_method_name(lnuma_pagesize_method method) {
  static const char *const names[] = {"auto", "kpageflags", "pagemap_scan", "smaps"};
  if ((int)method < 0 || (size_t)method >= sizeof names / sizeof names[0]) return "unknown";
  return names[method];
}

/* Adds pages and bytes to the count of page_size, kept sorted by size. */
static void add(lnuma_pagesizes *out, size_t page_size, uint64_t pages, uint64_t bytes) {
  if (bytes == 0) return;
  int i = 0;
  while (i < out->n && out->sizes[i].page_size < page_size) i++;
  if (i == out->n || out->sizes[i].page_size != page_size) {
    if (out->n == LNUMA_PAGESIZES_MAX) return; /* more sizes than any kernel has */
    memmove(&out->sizes[i + 1], &out->sizes[i], (size_t)(out->n - i) * sizeof out->sizes[0]);
    out->sizes[i] = (lnuma_pagesize_count){.page_size = page_size};
    out->n++;
  }
  out->sizes[i].pages += pages;
  out->sizes[i].bytes += bytes;
}

/* ---- /proc/self/smaps ------------------------------------------------------ */

/* The fields of one mapping that say what backs it, in bytes. */
typedef struct vma_stats {
  uintptr_t start, end;
  size_t kernel_page_size;
  uint64_t rss, pmd_mapped, hugetlb;
} vma_stats;

typedef void (*vma_fn)(const vma_stats *v, void *ctx);

/* Calls fn for each mapping of /proc/self/smaps that overlaps [a, b), then
 * stops reading (the kernel walks a mapping's pages only when it is read). */
static int smaps_walk(uintptr_t a, uintptr_t b, vma_fn fn, void *ctx, lnuma_error *err) {
  FILE *f = fopen("/proc/self/smaps", "re");
  if (f == NULL) return lnuma__fail_sys(err, errno, "/proc/self/smaps");
  char line[512];
  int whole = 1, have = 0; /* whole: line starts a line, not a long one's rest */
  vma_stats v;
  memset(&v, 0, sizeof v);
  while (fgets(line, sizeof line, f) != NULL) {
    int starts = whole;
    whole = strchr(line, '\n') != NULL;
    if (!starts) continue;
    unsigned long s, e, kb;
    char key[32];
    /* "start-end perms ..." opens a mapping; "Key: value kB" describes it. */
    if (sscanf(line, "%lx-%lx ", &s, &e) == 2) {
      if (have) fn(&v, ctx);
      if ((uintptr_t)s >= b) {
        have = 0;
        break;
      }
      memset(&v, 0, sizeof v);
      v.start = (uintptr_t)s;
      v.end = (uintptr_t)e;
      have = (uintptr_t)e > a;
    } else if (have && sscanf(line, "%31[^:]: %lu kB", key, &kb) == 2) {
      uint64_t bytes = (uint64_t)kb << 10;
      if (strcmp(key, "KernelPageSize") == 0)
        v.kernel_page_size = (size_t)bytes;
      else if (strcmp(key, "Rss") == 0)
        v.rss = bytes;
      else if (strcmp(key, "AnonHugePages") == 0 || strcmp(key, "ShmemPmdMapped") == 0 ||
               strcmp(key, "FilePmdMapped") == 0)
        v.pmd_mapped += bytes;
      else if (strcmp(key, "Shared_Hugetlb") == 0 || strcmp(key, "Private_Hugetlb") == 0)
        v.hugetlb += bytes;
    }
  }
  if (have) fn(&v, ctx);
  fclose(f);
  return 0;
}

typedef struct smaps_ctx {
  lnuma_pagesizes *out;
  size_t base, pmd;
} smaps_ctx;

static void count_vma(const vma_stats *v, void *arg) {
  smaps_ctx *c = arg;
  lnuma_pagesizes *out = c->out;
  out->bytes += v->end - v->start;
  if (v->kernel_page_size > c->base) { /* hugetlb: Rss leaves these out */
    add(out, v->kernel_page_size, v->hugetlb / v->kernel_page_size, v->hugetlb);
    out->present_bytes += v->hugetlb;
    return;
  }
  uint64_t pmd = v->pmd_mapped < v->rss ? v->pmd_mapped : v->rss;
  add(out, c->pmd, pmd / c->pmd, pmd);
  add(out, c->base, (v->rss - pmd) / c->base, v->rss - pmd);
  out->present_bytes += v->rss;
}

static int by_smaps(uintptr_t a, uintptr_t b, size_t base, lnuma_pagesizes *out,
                    lnuma_error *err) {
  smaps_ctx c = {out, base, lnuma__pmd_size()};
  out->whole_mapping = 1;
  return smaps_walk(a, b, count_vma, &c, err);
}

/* ---- pagemap + kpageflags ------------------------------------------------ */

#define PM_PRESENT (UINT64_C(1) << 63)
#define PM_PFN(e) ((e) & ((UINT64_C(1) << 55) - 1))
#define BIT(n) (UINT64_C(1) << (n))
#define CHUNK 512
#define MAX_ORDER 24 /* a 16 GiB hugetlb page of 4 KiB pages is order 22 */

static uint64_t flags_at(int kf, uint64_t pfn) {
  uint64_t v = 0;
  if (pread(kf, &v, sizeof v, (off_t)(pfn * sizeof v)) != (ssize_t)sizeof v) return 0;
  return v;
}

/* The folio of a compound page frame: its head frame and order, found from
 * the flags (folios are naturally aligned: the head is pfn rounded down to
 * the first alignment that is a head; the folio ends where tails stop).
 * 0 when the flags do not describe a folio (it changed while read). */
static int folio_of(int kf, uint64_t pfn, uint64_t flags, uint64_t *head, unsigned *order) {
  uint64_t h = pfn;
  if (!(flags & BIT(KPF_COMPOUND_HEAD))) {
    int found = 0;
    for (unsigned j = 1; j <= MAX_ORDER && !found; j++) {
      h = pfn & ~((UINT64_C(1) << j) - 1);
      uint64_t f = flags_at(kf, h);
      if (f & BIT(KPF_COMPOUND_HEAD))
        found = 1;
      else if (!(f & BIT(KPF_COMPOUND_TAIL)))
        return 0;
    }
    if (!found) return 0;
  }
  for (unsigned j = 0; j <= MAX_ORDER; j++)
    if (!(flags_at(kf, h + (UINT64_C(1) << j)) & BIT(KPF_COMPOUND_TAIL))) {
      if (j == 0 || pfn >= h + (UINT64_C(1) << j)) return 0;
      *head = h;
      *order = j;
      return 1;
    }
  return 0;
}

/* Reads the flags of the present frames of ent[0..k) into fl, one pread per
 * run of consecutive frames.  EACCES when the frames are hidden (no
 * CAP_SYS_ADMIN: pagemap gives frame 0). */
static int read_flags(int kf, const uint64_t *ent, unsigned k, uint64_t *fl,
                      lnuma_error *err) {
  for (unsigned i = 0; i < k;) {
    if (!(ent[i] & PM_PRESENT)) {
      fl[i++] = 0;
      continue;
    }
    uint64_t pfn = PM_PFN(ent[i]);
    if (pfn == 0)
      return lnuma__fail(err, EACCES, "kpageflags: /proc/self/pagemap hides page frame "
                                      "numbers from this process (needs CAP_SYS_ADMIN)");
    unsigned j = i + 1;
    while (j < k && (ent[j] & PM_PRESENT) && PM_PFN(ent[j]) == pfn + (j - i)) j++;
    ssize_t want = (ssize_t)((j - i) * sizeof *fl);
    if (pread(kf, &fl[i], (size_t)want, (off_t)(pfn * sizeof *fl)) != want)
      memset(&fl[i], 0, (size_t)want);
    i = j;
  }
  return 0;
}

static int by_kpageflags(uintptr_t a, uintptr_t b, size_t base, lnuma_pagesizes *out,
                         lnuma_error *err) {
  int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (pm < 0) return lnuma__fail_sys(err, errno, "/proc/self/pagemap");
  int kf = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
  if (kf < 0) {
    int e = errno;
    close(pm);
    return lnuma__fail(err, e == EPERM ? EACCES : e, "/proc/kpageflags: %s%s", strerror(e),
                       e == EACCES || e == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
  }
  uint64_t ent[CHUNK], fl[CHUNK];
  uint64_t f_head = 0, f_pages = 0; /* the folio the last page was in */
  size_t f_size = 0;
  int rc = 0;
  uint64_t npages = (b - a) / base;
  out->bytes = b - a;
  for (uint64_t done = 0; done < npages && rc == 0;) {
    unsigned k = npages - done < CHUNK ? (unsigned)(npages - done) : CHUNK;
    ssize_t want = (ssize_t)(k * sizeof ent[0]);
    off_t at = (off_t)((a / base + done) * sizeof ent[0]);
    errno = 0;
    if (pread(pm, ent, (size_t)want, at) != want) {
      rc = lnuma__fail_sys(err, errno ? errno : EIO, "/proc/self/pagemap");
      break;
    }
    rc = read_flags(kf, ent, k, fl, err);
    for (unsigned i = 0; i < k && rc == 0; i++) {
      if (!(ent[i] & PM_PRESENT)) continue;
      uint64_t pfn = PM_PFN(ent[i]);
      out->present_bytes += base;
      if (f_pages > 0 && pfn >= f_head && pfn < f_head + f_pages) {
        add(out, f_size, 0, base); /* more of the same huge page */
        continue;
      }
      uint64_t head;
      unsigned order;
      int compound = fl[i] & (BIT(KPF_COMPOUND_HEAD) | BIT(KPF_COMPOUND_TAIL));
      if (compound && (fl[i] & (BIT(KPF_THP) | BIT(KPF_HUGE))) &&
          folio_of(kf, pfn, fl[i], &head, &order)) {
        f_head = head;
        f_pages = UINT64_C(1) << order;
        f_size = base << order;
        add(out, f_size, 1, base);
      } else {
        f_pages = 0;
        add(out, base, 1, base);
      }
    }
    done += k;
  }
  close(kf);
  close(pm);
  return rc;
}

/* ---- PAGEMAP_SCAN (Linux 6.7) -------------------------------------------- */

/* The kernel's ABI (uapi linux/fs.h), for headers older than 6.7. */
struct scan_region {
  uint64_t start, end, categories;
};
struct scan_arg { /* (the kernel reads the members cppcheck thinks unused) */
  // cppcheck-suppress unusedStructMember
  uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
  // cppcheck-suppress unusedStructMember
  uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define SCAN_IOCTL _IOWR('f', 16, struct scan_arg)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_HUGE (1 << 6)
#define REGIONS 64

/* The hugetlb mappings of a range (their page size), from smaps. */
typedef struct hugetlb_maps {
  int n;
  struct {
    uintptr_t start, end;
    size_t page_size;
  } map[32];
  size_t base;
} hugetlb_maps;

static void note_hugetlb(const vma_stats *v, void *arg) {
  hugetlb_maps *h = arg;
  if (v->kernel_page_size > h->base && h->n < 32) {
    h->map[h->n].start = v->start;
    h->map[h->n].end = v->end;
    h->map[h->n++].page_size = v->kernel_page_size;
  }
}

/* The size of the huge page at addr: its mapping's, or the PMD size (THP). */
static size_t huge_size_at(const hugetlb_maps *h, uintptr_t addr, size_t pmd) {
  for (int i = 0; i < h->n; i++)
    if (addr >= h->map[i].start && addr < h->map[i].end) return h->map[i].page_size;
  return pmd;
}

static int by_pagemap_scan(uintptr_t a, uintptr_t b, size_t base, lnuma_pagesizes *out,
                           lnuma_error *err) {
  int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return lnuma__fail_sys(err, errno, "/proc/self/pagemap");
  struct scan_region v[REGIONS];
  hugetlb_maps h = {.n = -1, .base = base};
  size_t pmd = lnuma__pmd_size();
  uintptr_t last_end = 0; /* end of the last huge page counted */
  int rc = 0;
  out->bytes = b - a;
  for (uintptr_t at = a; at < b && rc == 0;) {
    struct scan_arg arg = {.size = sizeof arg, .start = at, .end = b,
                           .vec = (uint64_t)(uintptr_t)v, .vec_len = REGIONS,
                           .category_anyof_mask = PAGE_IS_PRESENT,
                           .return_mask = PAGE_IS_PRESENT | PAGE_IS_HUGE};
    memset(v, 0, sizeof v); /* (valgrind does not know that the kernel fills it) */
    long n = ioctl(fd, SCAN_IOCTL, &arg);
    if (n < 0) {
      int e = errno;
      if (e == ENOTTY || e == EINVAL)
        rc = lnuma__fail(err, ENOSYS, "pagemap_scan: this kernel has no PAGEMAP_SCAN "
                                      "(Linux 6.7)");
      else
        rc = lnuma__fail_sys(err, e, "PAGEMAP_SCAN");
      break;
    }
    for (long i = 0; i < n; i++) {
      uint64_t len = v[i].end - v[i].start;
      out->present_bytes += len;
      if (!(v[i].categories & PAGE_IS_HUGE)) {
        add(out, base, len / base, len);
        continue;
      }
      if (h.n < 0) { /* only ranges with huge pages pay for smaps */
        h.n = 0;
        if (smaps_walk(a, b, note_hugetlb, &h, err) != 0) {
          rc = -1;
          break;
        }
      }
      size_t size = huge_size_at(&h, (uintptr_t)v[i].start, pmd);
      uintptr_t first = (uintptr_t)v[i].start & ~(uintptr_t)(size - 1);
      uintptr_t end = ((uintptr_t)v[i].end + size - 1) & ~(uintptr_t)(size - 1);
      if (first < last_end) first = last_end; /* a page split over two answers */
      add(out, size, first < end ? (end - first) / size : 0, len);
      last_end = end;
    }
    if (arg.walk_end <= at) break;
    at = (uintptr_t)arg.walk_end;
  }
  close(fd);
  return rc;
}

/* ---- the entry points ------------------------------------------------------ */

int lnuma_pagesizes_of_method(const void *addr, size_t len, lnuma_pagesize_method method,
                              lnuma_pagesizes *out, lnuma_error *err) {
  memset(out, 0, sizeof *out);
  if ((int)method < LNUMA_PAGESIZE_AUTO || method > LNUMA_PAGESIZE_SMAPS)
    return lnuma__fail(err, EINVAL, "unknown page size method %d", (int)method);
  if (addr == NULL || len == 0) return lnuma__fail(err, EINVAL, "empty range");
  size_t base = lnuma__page_size();
  uintptr_t a = (uintptr_t)addr & ~(uintptr_t)(base - 1);
  uintptr_t b = (uintptr_t)addr + len;
  if (b < (uintptr_t)addr || b + base - 1 < b)
    return lnuma__fail(err, EINVAL, "range wraps around the address space");
  b = (b + base - 1) & ~(uintptr_t)(base - 1);
  int rc = -1;
  static const lnuma_pagesize_method order[] = {
      LNUMA_PAGESIZE_KPAGEFLAGS, LNUMA_PAGESIZE_PAGEMAP_SCAN, LNUMA_PAGESIZE_SMAPS};
  for (size_t i = 0; i < sizeof order / sizeof order[0] && rc != 0; i++) {
    if (method != LNUMA_PAGESIZE_AUTO && method != order[i]) continue;
    lnuma_pagesize_method m = order[i];
    memset(out, 0, sizeof *out);
    out->method = m;
    if (m == LNUMA_PAGESIZE_KPAGEFLAGS)
      rc = by_kpageflags(a, b, base, out, err);
    else if (m == LNUMA_PAGESIZE_PAGEMAP_SCAN)
      rc = by_pagemap_scan(a, b, base, out, err);
    else
      rc = by_smaps(a, b, base, out, err);
  }
  if (rc != 0) return -1;
  for (int i = 0; i < out->n; i++)
    if (out->sizes[i].page_size > base) out->huge_bytes += out->sizes[i].bytes;
  lnuma__clear(err);
  return 0;
}

int lnuma_pagesizes_of(const void *addr, size_t len, lnuma_pagesizes *out, lnuma_error *err) {
  return lnuma_pagesizes_of_method(addr, len, LNUMA_PAGESIZE_AUTO, out, err);
}
