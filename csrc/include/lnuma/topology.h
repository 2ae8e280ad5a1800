/** @file
 * lnuma/topology.h -- the machine as hwloc sees it: NUMA nodes (with their
 * CPUs, memory, distances), PUs, cores, packages, caches, I/O devices and
 * memory attributes (ACPI HMAT latency/bandwidth), for this machine, for an
 * hwloc XML file or for a synthetic description ("pack:2 numa:2 core:4 pu:2"),
 * so that placements can be planned for one machine from another.
 * Included by lnuma.h.
 *
 * A loaded topology is an immutable snapshot: every accessor below may be
 * called from any thread, concurrently, until lnuma_topology_free().
 * Arrays are indexed 0..count-1; nodes and PUs are in ascending OS index.
 * Pointers returned by accessors live as long as the topology.
 */
#ifndef LNUMA_TOPOLOGY_H
#define LNUMA_TOPOLOGY_H

#include "../lnuma.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An opaque loaded topology. */
typedef struct lnuma_topology lnuma_topology;

/** Where a topology came from. */
typedef enum lnuma_topology_source {
  LNUMA_TOPOLOGY_SYSTEM = 0,    /**< this machine, as the process runs now */
  LNUMA_TOPOLOGY_XML = 1,       /**< an hwloc XML file */
  LNUMA_TOPOLOGY_SYNTHETIC = 2  /**< an hwloc synthetic description */
} lnuma_topology_source;

/** A NUMA node. */
typedef struct lnuma_node_info {
  int os_index;        /**< the node number (as in /sys and numactl) */
  int memory_only;     /**< 1 for a CPU-less node (CXL, HBM, emulated) */
  lnuma_set cpus;      /**< the CPUs whose home node this is (empty when memory_only) */
  lnuma_set local_cpus;/**< hwloc's locality: CPUs near this node (for a CPU-less
                            node, those of its closest initiator) */
  uint64_t memory;     /**< total memory in bytes */
  int64_t free;        /**< free memory in bytes when known (this machine, read
                            when loaded), -1 otherwise */
  const char *subtype; /**< "DRAM", "HBM", "NVM", "MCDRAM", ... or NULL */
} lnuma_node_info;

/** A processing unit (hardware thread, the "CPU" of the OS). */
typedef struct lnuma_pu_info {
  int os_index;        /**< the CPU number (as in /sys and taskset) */
  int core;            /**< index of its core in the core array (unique), -1 if none */
  int package;         /**< OS index of its package, -1 if none */
  int node;            /**< OS index of its home NUMA node */
} lnuma_pu_info;

/** A core (one or more PUs sharing execution units). */
typedef struct lnuma_core_info {
  int index;           /**< position in the core array, unique machine-wide */
  int os_index;        /**< the kernel's core_id (repeats across packages) */
  int package;         /**< OS index of its package, -1 if none */
  int node;            /**< home node of its first PU */
  lnuma_set cpus;      /**< its PUs */
} lnuma_core_info;

/** A package (socket). */
typedef struct lnuma_package_info {
  int os_index;        /**< physical package id */
  lnuma_set cpus;      /**< its PUs */
  lnuma_set nodes;     /**< NUMA nodes attached within it */
} lnuma_package_info;

/** Kinds of caches. */
typedef enum lnuma_cache_type {
  LNUMA_CACHE_UNIFIED = 0,
  LNUMA_CACHE_DATA = 1,
  LNUMA_CACHE_INSTRUCTION = 2
} lnuma_cache_type;

/** A CPU cache. */
typedef struct lnuma_cache_info {
  int level;               /**< 1, 2, 3, ... */
  lnuma_cache_type type;   /**< unified, data or instruction */
  uint64_t size;           /**< bytes */
  int line_size;           /**< bytes, 0 when unknown */
  int associativity;       /**< ways; 0 unknown, -1 fully associative */
  lnuma_set cpus;          /**< the PUs that share it */
} lnuma_cache_info;

/** Kinds of I/O devices (hwloc OS devices). */
typedef enum lnuma_device_kind {
  LNUMA_DEVICE_BLOCK = 0,       /**< disk, NVMe namespace */
  LNUMA_DEVICE_GPU = 1,
  LNUMA_DEVICE_NETWORK = 2,     /**< network interface (eth0, ib0, ...) */
  LNUMA_DEVICE_OPENFABRICS = 3, /**< InfiniBand/RDMA HCA (mlx5_0, ...) */
  LNUMA_DEVICE_DMA = 4,
  LNUMA_DEVICE_COPROC = 5,      /**< CUDA/OpenCL/... compute device */
  LNUMA_DEVICE_OTHER = 6
} lnuma_device_kind;

/** An I/O device with its locality. */
typedef struct lnuma_device_info {
  const char *name;        /**< OS name: "eth0", "nvme0n1", "mlx5_0", "cuda0" */
  lnuma_device_kind kind;  /**< what sort of device (block, gpu, network, ...) */
  const char *subtype;     /**< hwloc's subtype ("Disk", "NVM", "CUDA", ...) or NULL */
  char pci_bus[20];        /**< PCI bus id "0000:3b:00.0", or "" when not on PCI */
  unsigned pci_vendor;     /**< PCI vendor id (0 when not on PCI) */
  unsigned pci_device;     /**< PCI device id (0 when not on PCI) */
  lnuma_set cpus;          /**< the CPUs it is local to */
  lnuma_set nodes;         /**< the NUMA nodes it is local to */
} lnuma_device_info;

/** One memory attribute value: what initiator CPUs see when accessing a
 *  target node (from ACPI HMAT, or from an XML file that has them). */
typedef struct lnuma_memattr_info {
  const char *name;        /**< "Latency", "Bandwidth", "ReadBandwidth", ... */
  const char *unit;        /**< "ns" for latencies, "MiB/s" for bandwidths, "" else */
  int higher_is_better;    /**< 1 for bandwidths, 0 for latencies */
  int initiator;           /**< the node whose CPUs are exactly the initiator, or -1 */
  lnuma_set initiator_cpus;/**< the initiator as a set of CPUs */
  int target;              /**< the target node */
  uint64_t value;          /**< in unit (hwloc's integers) */
} lnuma_memattr_info;

/** One measured value to write as an hwloc memory attribute: what the CPUs
 *  of node initiator see accessing the memory of node target. */
typedef struct lnuma_memattr_value {
  const char *name;        /**< "Latency", "ReadLatency", "WriteLatency",
                                "Bandwidth", "ReadBandwidth" or "WriteBandwidth" */
  int initiator;           /**< a node with CPUs: the initiator is its CPUs' cpuset */
  int target;              /**< the node whose memory was accessed */
  double value;            /**< lnuma's units: ns for latencies, GB/s (10^9
                                bytes/s) for bandwidths */
} lnuma_memattr_value;

/* ---- Loading ------------------------------------------------------------- */

/* What an input may cost.  A topology (from any source) may have at most
 * LNUMA_MAX_NODES NUMA nodes and LNUMA_SET_BITS CPUs; an XML file must be a
 * regular file of at most LNUMA_TOPOLOGY_XML_MAX bytes, and hwloc gets
 * LNUMA_TOPOLOGY_XML_MEMORY bytes of address space and
 * LNUMA_TOPOLOGY_XML_SECONDS seconds to load it (in a child process, before
 * this process does); a synthetic description may make at most
 * LNUMA_TOPOLOGY_SYNTHETIC_OBJECTS objects.  Inputs past a limit fail with a
 * message naming the input and the limit (EFBIG, E2BIG or ETIME). */
/** Largest topology XML file, in bytes (32 MiB). */
#define LNUMA_TOPOLOGY_XML_MAX ((size_t)32 << 20)
/** Address space hwloc may use to load an XML file, in bytes (1 GiB). */
#define LNUMA_TOPOLOGY_XML_MEMORY ((size_t)1 << 30)
/** Seconds hwloc may take to load an XML file. */
#define LNUMA_TOPOLOGY_XML_SECONDS 30
/** Most objects a synthetic description may make. */
#define LNUMA_TOPOLOGY_SYNTHETIC_OBJECTS 65536

/** Loads this machine (with I/O devices, memory-only nodes, and the CPUs and
 *  nodes this process is not allowed).  NULL on error.  When HWLOC_XMLFILE or
 *  HWLOC_SYNTHETIC is set, hwloc describes that instead; it is loaded as
 *  lnuma_topology_load_xml/_synthetic load it, under the same limits. */
LNUMA_API lnuma_topology *lnuma_topology_load(lnuma_error *err);

/** Loads an hwloc XML file (as written by `lstopo --of xml` or
 *  lnuma_topology_export_xml).  NULL with ENOENT/EACCES/... when the file
 *  cannot be read, EINVAL when it is not a valid hwloc XML topology or not a
 *  regular file, EFBIG past LNUMA_TOPOLOGY_XML_MAX, ETIME when hwloc takes
 *  longer than LNUMA_TOPOLOGY_XML_SECONDS; the message names the file. */
LNUMA_API lnuma_topology *lnuma_topology_load_xml(const char *path, lnuma_error *err);

/** Loads an hwloc synthetic description such as "pack:2 numa:2 core:4 pu:2"
 *  or "pack:2 [numa(memory=64GB)] core:8 pu:2".  NULL with EINVAL and a
 *  message quoting the description when it is malformed, E2BIG when it
 *  makes more objects, nodes or CPUs than the limits above. */
LNUMA_API lnuma_topology *lnuma_topology_load_synthetic(const char *desc, lnuma_error *err);

/** Frees a topology; NULL is allowed. */
LNUMA_API void lnuma_topology_free(lnuma_topology *topo);

/** Writes the topology as hwloc XML to path (hwloc's "-" is standard
 *  output).  -1 with errno and a message naming the path on failure. */
LNUMA_API int lnuma_topology_export_xml(const lnuma_topology *topo, const char *path,
                                        lnuma_error *err);

/** Writes the topology as hwloc XML to path, with the n values as hwloc
 *  memory attributes (hwloc 2.3+: `lstopo --memattrs` and runtimes that use
 *  hwloc read them): each on its target node, its initiator the cpuset of
 *  the initiator node's CPUs, converted by lnuma_memattr_to_hwloc.  A value
 *  replaces what the topology had for the same attribute, target and
 *  initiator (a later one in values wins); the topology itself is not
 *  changed (the values go into a copy).  n = 0 writes what
 *  lnuma_topology_export_xml writes.  -1 with EINVAL and a message naming
 *  the value when a node does not exist, an initiator has no CPUs or a value
 *  is not positive and finite; with errno and the path when the file cannot
 *  be written. */
LNUMA_API int lnuma_topology_export_xml_memattrs(const lnuma_topology *topo,
                                                 const char *path,
                                                 const lnuma_memattr_value *values, int n,
                                                 lnuma_error *err);

/** Checks values as lnuma_topology_export_xml_memattrs does before it
 *  writes anything: 0, or -1 with EINVAL and the message it would give. */
LNUMA_API int lnuma_topology_check_memattrs(const lnuma_topology *topo,
                                            const lnuma_memattr_value *values, int n,
                                            lnuma_error *err);

/** The integer hwloc stores for an lnuma figure of attribute name: a latency
 *  stays in ns, a bandwidth goes from GB/s (10^9 bytes/s) to MiB/s (2^20
 *  bytes/s), i.e. x 10^9 / 2^20 = x 953.67..., both rounded to the nearest
 *  integer.  -1 with EINVAL when name is not one of the six of
 *  lnuma_memattr_value, when value is not finite and positive or rounds to 0;
 *  ERANGE past 9.2e18. */
LNUMA_API int lnuma_memattr_to_hwloc(const char *name, double value, uint64_t *out,
                                     lnuma_error *err);

/** Where the topology came from: this machine, an XML file or a synthetic
 *  description. */
LNUMA_API lnuma_topology_source lnuma_topology_source_of(const lnuma_topology *topo);
/** The XML path or synthetic description the topology was loaded from (NULL
 *  for this machine). */
LNUMA_API const char *lnuma_topology_origin(const lnuma_topology *topo);

/* ---- Objects ------------------------------------------------------------- */

/** Number of NUMA nodes (memory-only ones included). */
LNUMA_API int lnuma_topology_node_count(const lnuma_topology *topo);
/** The i-th node in ascending os_index; NULL when i is out of range. */
LNUMA_API const lnuma_node_info *lnuma_topology_node(const lnuma_topology *topo, int i);
/** The node with this OS index, or NULL when there is none. */
LNUMA_API const lnuma_node_info *lnuma_topology_find_node(const lnuma_topology *topo,
                                                          int os_index);

/** Number of PUs (hardware threads, "CPUs"). */
LNUMA_API int lnuma_topology_pu_count(const lnuma_topology *topo);
/** The i-th PU in ascending os_index; NULL when out of range. */
LNUMA_API const lnuma_pu_info *lnuma_topology_pu(const lnuma_topology *topo, int i);
/** The PU with this OS index (CPU number), or NULL. */
LNUMA_API const lnuma_pu_info *lnuma_topology_find_pu(const lnuma_topology *topo, int cpu);

/** Number of cores. */
LNUMA_API int lnuma_topology_core_count(const lnuma_topology *topo);
/** The i-th core in hwloc's order; NULL when i is out of range. */
LNUMA_API const lnuma_core_info *lnuma_topology_core(const lnuma_topology *topo, int i);

/** Number of packages (sockets). */
LNUMA_API int lnuma_topology_package_count(const lnuma_topology *topo);
/** The i-th package in hwloc's order; NULL when i is out of range. */
LNUMA_API const lnuma_package_info *lnuma_topology_package(const lnuma_topology *topo,
                                                           int i);

/** Number of caches, every level. */
LNUMA_API int lnuma_topology_cache_count(const lnuma_topology *topo);
/** The i-th cache; NULL when i is out of range.  Caches are by level (the
 *  data or unified cache before the instruction cache of that level), each
 *  level in hwloc's order (by first CPU). */
LNUMA_API const lnuma_cache_info *lnuma_topology_cache(const lnuma_topology *topo, int i);

/** Number of I/O devices. */
LNUMA_API int lnuma_topology_device_count(const lnuma_topology *topo);
/** The i-th I/O device; NULL when i is out of range. */
LNUMA_API const lnuma_device_info *lnuma_topology_device(const lnuma_topology *topo, int i);
/** The device named name ("eth0") or with PCI bus id name ("0000:3b:00.0"),
 *  or NULL. */
LNUMA_API const lnuma_device_info *lnuma_topology_find_device(const lnuma_topology *topo,
                                                              const char *name);

/** Number of memory attribute values (those that depend on an initiator:
 *  latencies and bandwidths); 0 on most machines without HMAT. */
LNUMA_API int lnuma_topology_memattr_count(const lnuma_topology *topo);
/** The i-th memory attribute value; NULL when i is out of range. */
LNUMA_API const lnuma_memattr_info *lnuma_topology_memattr(const lnuma_topology *topo,
                                                           int i);

/** Every node of the topology (OS indexes) into out. */
LNUMA_API void lnuma_topology_nodes(const lnuma_topology *topo, lnuma_set *out);
/** Every PU of the topology (OS indexes, CPU numbers) into out. */
LNUMA_API void lnuma_topology_cpus(const lnuma_topology *topo, lnuma_set *out);

/** What this process may use: for this machine, the process's CPU affinity
 *  (cpuset, taskset) and allowed memory nodes when the topology was loaded;
 *  for XML and synthetic topologies, everything.  Either may be NULL. */
LNUMA_API void lnuma_topology_allowed(const lnuma_topology *topo, lnuma_set *cpus,
                                      lnuma_set *nodes);

/** 1 when the machine reported no distance matrix and the distances are the
 *  conventional defaults (10 to itself, 20 to any other node). */
LNUMA_API int lnuma_topology_default_distances(const lnuma_topology *topo);

/* ---- Queries ------------------------------------------------------------- */

/** The distance (SLIT units: 10 = local) from node a to node b; -1 with
 *  EINVAL naming the node when either does not exist. */
LNUMA_API int lnuma_topology_distance(const lnuma_topology *topo, int a, int b,
                                      lnuma_error *err);

/** The home node of CPU cpu; -1 with EINVAL when there is no such CPU. */
LNUMA_API int lnuma_topology_node_of_cpu(const lnuma_topology *topo, int cpu,
                                         lnuma_error *err);

/** The CPUs of node (empty for a memory-only node); -1 with EINVAL when
 *  there is no such node. */
LNUMA_API int lnuma_topology_cpus_of(const lnuma_topology *topo, int node, lnuma_set *out,
                                     lnuma_error *err);

/** Every node ordered by distance from node (node itself first; ties by
 *  OS index) into out (room for cap entries).  Returns the number of nodes,
 *  or -1 with EINVAL when node does not exist. */
LNUMA_API int lnuma_topology_nearest(const lnuma_topology *topo, int node, int *out, int cap,
                                     lnuma_error *err);

/** The node an I/O device (by name or PCI bus id) hangs off: the lowest node
 *  with CPUs in its locality.  -1 with ENOENT when there is no such device,
 *  with ENXIO when its locality is the whole machine of several nodes (the
 *  firmware does not say which node). */
LNUMA_API int lnuma_topology_node_of_device(const lnuma_topology *topo, const char *name,
                                            lnuma_error *err);

/** "unified", "data" or "instruction". */
LNUMA_API const char *lnuma_cache_type_name(lnuma_cache_type type);
/** "block", "gpu", "network", "openfabrics", "dma", "coproc" or "other". */
LNUMA_API const char *lnuma_device_kind_name(lnuma_device_kind kind);

#ifdef __cplusplus
}
#endif

#endif
