/** @file
 * lnuma/sysinfo.h -- the conditions a measurement ran under: kernel, host,
 * CPU model and features, NUMA balancing, CPU frequency scaling, SMT, the
 * cgroup's CPU and memory limits, the hypervisor, which memory policies and
 * page moves the kernel grants; and a `mkdir -p` for result folders.
 * Read from uname, CPUID, /proc and /sys.  Facts that have their own reader
 * elsewhere are not repeated here: THP (lnuma_thp_settings_read), hugetlb
 * pages per node (lnuma_meminfo_node), the clock (lnuma_clock_init,
 * lnuma_kernel_clocksource), the kernels' ISAs (lnuma_isa_supported).
 * Included by lnuma.h.
 */
#ifndef LNUMA_SYSINFO_H
#define LNUMA_SYSINFO_H

#include "../lnuma.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The memory limit of a cgroup with no limit set ("max"). */
#define LNUMA_CGROUP_NO_LIMIT (-1)
/** A fact that could not be read (integers; strings read as ""). */
#define LNUMA_UNKNOWN (-2)

/** System facts; every string is "" and every integer LNUMA_UNKNOWN (-2)
 *  where the fact could not be read, unless its comment says otherwise. */
typedef struct lnuma_sysinfo {
  char kernel_release[65];  /**< uname -r ("6.1.0-18-amd64") */
  char kernel_version[129]; /**< uname -v ("#1 SMP PREEMPT_DYNAMIC Debian ...") */
  char machine[65];         /**< uname -m ("x86_64") */
  char hostname[65];        /**< /proc/sys/kernel/hostname, else uname -n */
  char cpu_vendor[16];      /**< CPUID leaf 0 ("GenuineIntel", "AuthenticAMD") */
  char cpu_model[128];      /**< /proc/cpuinfo "model name" (or CPUID brand string) */
  int numa_balancing;       /**< /proc/sys/kernel/numa_balancing (0 off, 1 on, 2 or 3
                                 memory tiering), LNUMA_UNKNOWN without the file */
  int smt_active;           /**< /sys/devices/system/cpu/smt/active: 1 or 0 */
  char smt_control[24];     /**< smt/control: "on", "off", "forceoff", "notsupported", ... */
  int freq_cpu;             /**< the CPU the frequency fields describe (the first online
                                 CPU with cpufreq), LNUMA_UNKNOWN when none has it */
  char governor[32];        /**< cpufreq/scaling_governor ("performance", "powersave") */
  char freq_driver[32];     /**< cpufreq/scaling_driver ("intel_pstate", "acpi-cpufreq") */
  int64_t cur_khz;          /**< cpufreq/scaling_cur_freq */
  int64_t max_khz;          /**< cpufreq/cpuinfo_max_freq (the hardware's) */
  int64_t scaling_max_khz;  /**< cpufreq/scaling_max_freq (the limit set) */
  int hypervisor;           /**< 1 when CPUID.1:ECX bit 31 says a hypervisor runs us, else 0 */
  char hypervisor_vendor[16]; /**< CPUID leaf 0x40000000 ("KVMKVMKVM", "Microsoft Hv") */
  char hypervisor_type[32]; /**< /sys/hypervisor/type ("xen") */
  int cgroup_version;       /**< 2 (unified /sys/fs/cgroup), 1 (per-controller mounts) or
                                 LNUMA_UNKNOWN */
  char cgroup_path[256];    /**< this process's cgroup (the cpuset's with version 1) */
  char cgroup_cpus[512];    /**< cpuset.cpus.effective (v1: cpuset.effective_cpus) */
  char cgroup_mems[256];    /**< cpuset.mems.effective (v1: cpuset.effective_mems) */
  int64_t cgroup_memory_max; /**< bytes: memory.max (v1: memory.limit_in_bytes);
                                  LNUMA_CGROUP_NO_LIMIT for "max" */
  int weighted_interleave;  /**< 1 when the kernel has MPOL_WEIGHTED_INTERLEAVE
                                 (/sys/kernel/mm/mempolicy/weighted_interleave), else 0 */
  int move_pages;           /**< 1 when move_pages(2) answers for this process's own pages,
                                 0 when refused (seccomp, no NUMA syscalls) */
  char compiler[64];        /**< the compiler that built lnuma (__VERSION__) */
} lnuma_sysinfo;

/** Reads the system facts (every field is filled; unreadable ones as
 *  documented above).  Cheap: a few dozen small file reads, CPUID, one
 *  move_pages call.  Returns 0.  Any thread. */
LNUMA_API int lnuma_sysinfo_read(lnuma_sysinfo *out, lnuma_error *err);

/** Creates the directory path and the missing directories above it, like
 *  `mkdir -p` (mode 0777 less the umask); an existing directory is fine.
 *  ENOTDIR when a part of the path is a file; EINVAL for an empty path.
 *  Any thread. */
LNUMA_API int lnuma_mkdir_p(const char *path, lnuma_error *err);

#ifdef __cplusplus
}
#endif

#endif
