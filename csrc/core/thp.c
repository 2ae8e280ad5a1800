/* Transparent huge pages: the system's settings, this process's switch
 * (prctl), and the PMD size the page counters need. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "mem_internal.h"

#define THP_DIR "/sys/kernel/mm/transparent_hugepage"

#ifndef PR_SET_THP_DISABLE
#define PR_SET_THP_DISABLE 41
#endif

/* The selected word of a sysfs choice ("always [madvise] never" -> "madvise"). */
static void selected(const char *path, char *out, size_t cap) {
  char line[256];
  out[0] = '\0';
  if (lnuma__read_line(path, line, sizeof line) != 1) return;
  const char *open = strchr(line, '['), *close = open ? strchr(open, ']') : NULL;
  if (open == NULL || close == NULL) return;
  size_t n = (size_t)(close - open - 1);
  if (n >= cap) n = cap - 1;
  memcpy(out, open + 1, n);
  out[n] = '\0';
}

size_t lnuma__pmd_size(void) {
  char line[64];
  unsigned long long v = 0;
  if (lnuma__read_line(THP_DIR "/hpage_pmd_size", line, sizeof line) == 1 &&
      sscanf(line, "%llu", &v) == 1 && v > 0)
    return (size_t)v;
  /* A page table page holds page_size / 8 entries: 2 MiB with 4 KiB pages. */
  size_t base = lnuma__page_size();
  return base * (base / 8);
}

/* 1 when /proc/self/status says THP_enabled: 0 (prctl PR_SET_THP_DISABLE). */
static int process_disabled(void) {
  FILE *f = fopen("/proc/self/status", "re");
  if (f == NULL) return 0;
  char line[256];
  int off = 0, v;
  while (fgets(line, sizeof line, f) != NULL)
    if (sscanf(line, "THP_enabled: %d", &v) == 1) off = v == 0;
  fclose(f);
  return off;
}

int lnuma_thp_settings_read(lnuma_thp_settings *out, lnuma_error *err) {
  (void)err;
  memset(out, 0, sizeof *out);
  out->available = access(THP_DIR "/enabled", R_OK) == 0;
  out->pmd_size = lnuma__pmd_size();
  out->process_disabled = process_disabled();
  if (!out->available) return 0;
  selected(THP_DIR "/enabled", out->enabled, sizeof out->enabled);
  selected(THP_DIR "/defrag", out->defrag, sizeof out->defrag);
  /* Linux 6.8 added a mode per size; the PMD size's decides PMD pages. */
  char path[128];
  snprintf(path, sizeof path, THP_DIR "/hugepages-%zukB/enabled", out->pmd_size >> 10);
  selected(path, out->pmd_enabled, sizeof out->pmd_enabled);
  if (out->pmd_enabled[0] == '\0' || strcmp(out->pmd_enabled, "inherit") == 0)
    memcpy(out->pmd_enabled, out->enabled, sizeof out->enabled);
  return 0;
}

int lnuma_thp_set_process(int enabled, lnuma_error *err) {
  if (prctl(PR_SET_THP_DISABLE, enabled ? 0UL : 1UL, 0UL, 0UL, 0UL) != 0)
    return lnuma__fail_sys(err, errno, "prctl(PR_SET_THP_DISABLE)");
  return 0;
}
