/* The conditions a measurement ran under (lnuma/sysinfo.h): uname, CPUID,
 * /proc and /sys, read once per call and never cached here (the Lua face
 * caches what a process records).  Also mkdir -p for result folders. */
#include <errno.h>
#include <inttypes.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "internal.h"

#define SYS_CPU "/sys/devices/system/cpu"
#define CGROUP "/sys/fs/cgroup"

/* Copies src into out (cap bytes), cut short when it does not fit. */
static void copy_text(char *out, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (n >= cap) n = cap - 1;
  memcpy(out, src, n);
  out[n] = '\0';
}

/* The first line of a file without its newline; 0 when one was read. */
static int first_line(const char *path, char *out, size_t cap) {
  return lnuma__read_line(path, out, cap) == 1 ? 0 : -1;
}

/* A file holding one integer ("max" reads as LNUMA_CGROUP_NO_LIMIT). */
static int64_t read_int(const char *path) {
  char line[64];
  if (first_line(path, line, sizeof line) != 0) return LNUMA_UNKNOWN;
  if (strcmp(line, "max") == 0) return LNUMA_CGROUP_NO_LIMIT;
  char *end;
  errno = 0;
  long long v = strtoll(line, &end, 10);
  if (end == line || errno != 0) return LNUMA_UNKNOWN;
  return (int64_t)v;
}

static void read_uname(lnuma_sysinfo *out) {
  struct utsname u;
  if (uname(&u) != 0) return;
  copy_text(out->kernel_release, sizeof out->kernel_release, u.release);
  copy_text(out->kernel_version, sizeof out->kernel_version, u.version);
  copy_text(out->machine, sizeof out->machine, u.machine);
  copy_text(out->hostname, sizeof out->hostname, u.nodename);
  char line[sizeof out->hostname];
  if (first_line("/proc/sys/kernel/hostname", line, sizeof line) == 0 && line[0] != '\0')
    copy_text(out->hostname, sizeof out->hostname, line);
}

/* "model name : AMD EPYC 9R45" (x86), "Model name" or "Hardware" elsewhere. */
static void read_cpu_model(lnuma_sysinfo *out) {
  FILE *f = fopen("/proc/cpuinfo", "re");
  if (f == NULL) return;
  char line[512];
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "model name", 10) != 0 && strncmp(line, "Model name", 10) != 0 &&
        strncmp(line, "Hardware", 8) != 0)
      continue;
    const char *v = strchr(line, ':');
    if (v == NULL) continue;
    v++;
    while (*v == ' ' || *v == '\t') v++;
    copy_text(out->cpu_model, sizeof out->cpu_model, v);
    size_t n = strcspn(out->cpu_model, "\n");
    while (n > 0 && out->cpu_model[n - 1] == ' ') n--;
    out->cpu_model[n] = '\0';
    break;
  }
  fclose(f);
}

#if defined(__x86_64__) || defined(__i386__)
/* Twelve characters of a CPUID vendor string from three registers. */
static void vendor_text(char *out, size_t cap, unsigned r1, unsigned r2, unsigned r3) {
  char v[13];
  memcpy(v, &r1, 4);
  memcpy(v + 4, &r2, 4);
  memcpy(v + 8, &r3, 4);
  v[12] = '\0';
  size_t n = strlen(v);
  while (n > 0 && v[n - 1] == ' ') v[--n] = '\0';
  copy_text(out, cap, v);
}

static void read_cpuid(lnuma_sysinfo *out) {
  unsigned a, b, c, d;
  if (__get_cpuid(0, &a, &b, &c, &d)) vendor_text(out->cpu_vendor, sizeof out->cpu_vendor, b, d, c);
  if (__get_cpuid(1, &a, &b, &c, &d)) out->hypervisor = (c >> 31) & 1;
  if (out->hypervisor) {
    __cpuid(0x40000000, a, b, c, d);
    vendor_text(out->hypervisor_vendor, sizeof out->hypervisor_vendor, b, c, d);
  }
}
#else
static void read_cpuid(lnuma_sysinfo *out) { (void)out; }
#endif

/* The frequency facts of the first online CPU that has cpufreq. */
static void read_cpufreq(lnuma_sysinfo *out) {
  lnuma_set online;
  if (lnuma_cpus_online(&online, NULL) != 0) return;
  for (int cpu = lnuma_set_next(&online, -1); cpu >= 0; cpu = lnuma_set_next(&online, cpu)) {
    char dir[96], path[160];
    snprintf(dir, sizeof dir, SYS_CPU "/cpu%d/cpufreq", cpu);
    if (access(dir, R_OK) != 0) continue;
    out->freq_cpu = cpu;
    snprintf(path, sizeof path, "%s/scaling_governor", dir);
    first_line(path, out->governor, sizeof out->governor);
    snprintf(path, sizeof path, "%s/scaling_driver", dir);
    first_line(path, out->freq_driver, sizeof out->freq_driver);
    snprintf(path, sizeof path, "%s/scaling_cur_freq", dir);
    out->cur_khz = read_int(path);
    snprintf(path, sizeof path, "%s/cpuinfo_max_freq", dir);
    out->max_khz = read_int(path);
    snprintf(path, sizeof path, "%s/scaling_max_freq", dir);
    out->scaling_max_khz = read_int(path);
    return;
  }
}

/* The path of controller ctrl ("" for the unified hierarchy) in
 * /proc/self/cgroup ("4:memory:/a/b", "0::/a/b"); 0 when found. */
static int cgroup_of(const char *ctrl, char *out, size_t cap) {
  FILE *f = fopen("/proc/self/cgroup", "re");
  if (f == NULL) return -1;
  char line[1024];
  int found = -1;
  size_t n = strlen(ctrl);
  while (found != 0 && fgets(line, sizeof line, f) != NULL) {
    char *list = strchr(line, ':');
    char *path = list ? strchr(list + 1, ':') : NULL;
    if (path == NULL) continue;
    list++;
    size_t len = (size_t)(path - list);
    int match = n == 0 ? len == 0 : 0;
    /* A v1 line may name several controllers: "3:cpu,cpuacct:/". */
    for (const char *p = list; n > 0 && p < path;) {
      size_t w = strcspn(p, ",:");
      if (w == n && strncmp(p, ctrl, n) == 0) match = 1;
      p += w + 1;
    }
    if (!match) continue;
    path[1 + strcspn(path + 1, "\n")] = '\0';
    copy_text(out, cap, path + 1);
    found = 0;
  }
  fclose(f);
  return found;
}

/* The directory of a cgroup: base + path, or base itself where the path
 * is not visible (a cgroup namespace shows "/" or a path of the host). */
static void cgroup_dir(const char *base, const char *path, const char *probe, char *out,
                       size_t cap) {
  char test[1024];
  snprintf(out, cap, "%s%s", base, strcmp(path, "/") == 0 ? "" : path);
  snprintf(test, sizeof test, "%s/%s", out, probe);
  if (access(test, R_OK) != 0) snprintf(out, cap, "%s", base);
}

static void read_cgroup(lnuma_sysinfo *out) {
  char path[256], dir[768], file[1024];
  if (access(CGROUP "/cgroup.controllers", R_OK) == 0) {
    out->cgroup_version = 2;
    if (cgroup_of("", path, sizeof path) != 0) return;
    copy_text(out->cgroup_path, sizeof out->cgroup_path, path);
    cgroup_dir(CGROUP, path, "cgroup.controllers", dir, sizeof dir);
    snprintf(file, sizeof file, "%s/cpuset.cpus.effective", dir);
    first_line(file, out->cgroup_cpus, sizeof out->cgroup_cpus);
    snprintf(file, sizeof file, "%s/cpuset.mems.effective", dir);
    first_line(file, out->cgroup_mems, sizeof out->cgroup_mems);
    snprintf(file, sizeof file, "%s/memory.max", dir);
    out->cgroup_memory_max = read_int(file);
    return;
  }
  if (access(CGROUP "/cpuset", R_OK) != 0 && access(CGROUP "/memory", R_OK) != 0) return;
  out->cgroup_version = 1;
  if (cgroup_of("cpuset", path, sizeof path) == 0) {
    copy_text(out->cgroup_path, sizeof out->cgroup_path, path);
    cgroup_dir(CGROUP "/cpuset", path, "cpuset.effective_cpus", dir, sizeof dir);
    snprintf(file, sizeof file, "%s/cpuset.effective_cpus", dir);
    first_line(file, out->cgroup_cpus, sizeof out->cgroup_cpus);
    snprintf(file, sizeof file, "%s/cpuset.effective_mems", dir);
    first_line(file, out->cgroup_mems, sizeof out->cgroup_mems);
  }
  if (cgroup_of("memory", path, sizeof path) == 0) {
    if (out->cgroup_path[0] == '\0') copy_text(out->cgroup_path, sizeof out->cgroup_path, path);
    cgroup_dir(CGROUP "/memory", path, "memory.limit_in_bytes", dir, sizeof dir);
    snprintf(file, sizeof file, "%s/memory.limit_in_bytes", dir);
    int64_t v = read_int(file);
    /* v1 writes "no limit" as the largest page-aligned signed value. */
    out->cgroup_memory_max = v >= (INT64_C(1) << 62) ? LNUMA_CGROUP_NO_LIMIT : v;
  }
}

/* 1 when move_pages answers for a page of our own stack. */
static int move_pages_works(void) {
  int status = -1;
  void *page = &status; /* a present page: the stack, just written */
  return move_pages(0, 1, &page, NULL, &status, 0) == 0;
}

int lnuma_sysinfo_read(lnuma_sysinfo *out, lnuma_error *err) {
  lnuma__clear(err);
  memset(out, 0, sizeof *out);
  out->numa_balancing = out->smt_active = out->freq_cpu = LNUMA_UNKNOWN;
  out->cgroup_version = LNUMA_UNKNOWN;
  out->cur_khz = out->max_khz = out->scaling_max_khz = LNUMA_UNKNOWN;
  out->cgroup_memory_max = LNUMA_UNKNOWN;
  read_uname(out);
  read_cpu_model(out);
  read_cpuid(out);
  int64_t v = read_int("/proc/sys/kernel/numa_balancing");
  out->numa_balancing = v >= 0 ? (int)v : LNUMA_UNKNOWN;
  v = read_int(SYS_CPU "/smt/active");
  out->smt_active = v == 0 || v == 1 ? (int)v : LNUMA_UNKNOWN;
  first_line(SYS_CPU "/smt/control", out->smt_control, sizeof out->smt_control);
  read_cpufreq(out);
  first_line("/sys/hypervisor/type", out->hypervisor_type, sizeof out->hypervisor_type);
  read_cgroup(out);
  out->weighted_interleave = access("/sys/kernel/mm/mempolicy/weighted_interleave", F_OK) == 0;
  out->move_pages = move_pages_works();
#if defined(__clang__)
  copy_text(out->compiler, sizeof out->compiler, __VERSION__); /* "Clang 16.0.6" */
#elif defined(__GNUC__)
  copy_text(out->compiler, sizeof out->compiler, "gcc " __VERSION__);
#endif
  return 0;
}

int lnuma_mkdir_p(const char *path, lnuma_error *err) {
  size_t n = path ? strlen(path) : 0;
  if (n == 0) return lnuma__fail(err, EINVAL, "mkdir: empty path");
  char *p = malloc(n + 1);
  if (p == NULL) return lnuma__fail_sys(err, ENOMEM, "mkdir");
  memcpy(p, path, n + 1);
  /* Each prefix that ends before a '/', then the whole path. */
  for (size_t i = 1; i <= n; i++) {
    if (i < n && p[i] != '/') continue;
    char saved = p[i];
    p[i] = '\0';
    struct stat st;
    if (mkdir(p, 0777) != 0) {
      int e = errno;
      if (e != EEXIST || stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
        if (e == EEXIST) e = ENOTDIR;
        char what[300];
        snprintf(what, sizeof what, "mkdir %s", p);
        free(p);
        return lnuma__fail_sys(err, e, what);
      }
    }
    p[i] = saved;
  }
  free(p);
  return 0;
}
