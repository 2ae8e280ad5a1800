/* The insides of lnuma_topology, shared by the topology files of csrc/core.
 * Never installed.
 *
 * Who calls whom (issue 14: no cycles).  Each file calls only files below
 * it in this order, never one above, so the call graph is acyclic:
 *
 *   topology_input.c     entry points: lnuma_topology_load (this machine or
 *        |               HWLOC_SYNTHETIC/HWLOC_XMLFILE), _load_xml, _load_synthetic
 *        v
 *   topology.c           builds the snapshot (nodes, PUs, cores, distances) and
 *        |               answers queries; calls the three below to fill the rest
 *        v
 *   topology_io.c        caches, devices, plain XML export
 *   topology_memattrs.c  memory attributes: reading, conversions, writing
 *   topology_probe.c     loading an XML file in a child process first
 *        |               (these three call none of each other)
 *        v
 *   topology_hwloc.c     the leaf: shared hwloc helpers, calls none of the above
 *
 * (topology_input.c also calls topology_probe.c directly.) */
#ifndef LNUMA_TOPOLOGY_INTERNAL_H
#define LNUMA_TOPOLOGY_INTERNAL_H

#include <hwloc.h>

#include "internal.h"

struct lnuma_topology {
  hwloc_topology_t hw;          /* kept for export_xml */
  lnuma_topology_source source;
  char *origin;                 /* path or description; NULL for this machine */

  int nnodes;
  lnuma_node_info *nodes;       /* ascending os_index */
  int *distances;               /* nnodes * nnodes, row a = from nodes[a] */
  int default_distances;

  int npus;
  lnuma_pu_info *pus;           /* ascending os_index */
  int ncores;
  lnuma_core_info *cores;
  int npackages;
  lnuma_package_info *packages;
  int ncaches;
  lnuma_cache_info *caches;
  int ndevices;
  lnuma_device_info *devices;
  int nmemattrs;
  lnuma_memattr_info *memattrs;

  lnuma_set all_cpus, all_nodes;
  lnuma_set allowed_cpus, allowed_nodes;
};

/* ---- topology_hwloc.c (the leaf) ---- */

/* Fails with ENOMEM, "topology: out of memory"; returns -1. */
int lnuma__topo_oom(lnuma_error *err);

/* Copies an hwloc bitmap into an lnuma_set (indexes past the set's size
 * are dropped). */
void lnuma__set_from_hwloc(lnuma_set *out, hwloc_const_bitmap_t bm);

/* Position of the node with this OS index in topo->nodes, or -1. */
int lnuma__topo_node_pos(const lnuma_topology *topo, int os_index);

/* Sets what lnuma asks of hwloc (I/O devices, instruction caches, the
 * whole machine, no binding changes) on a fresh handle. */
void lnuma__topo_configure(hwloc_topology_t hw, lnuma_topology_source source);

/* Writes hw as XML to path: 0, or -1 with errno and a message naming the
 * path (EINVAL when it is empty). */
int lnuma__topo_write_xml(hwloc_topology_t hw, const char *path, lnuma_error *err);

/* ---- topology_io.c, topology_memattrs.c ---- */

/* Fill caches, devices and memory attributes from topo->hw (nodes and PUs
 * are already there).  0, or -1 with ENOMEM. */
int lnuma__topo_load_caches(lnuma_topology *topo, lnuma_error *err);
int lnuma__topo_load_devices(lnuma_topology *topo, lnuma_error *err);
int lnuma__topo_load_memattrs(lnuma_topology *topo, lnuma_error *err);
void lnuma__topo_free_io(lnuma_topology *topo);
void lnuma__topo_free_memattrs(lnuma_topology *topo);

/* Sets the n values on hw, a copy of topo->hw (a test hook: the export
 * writes through it).  0, or -1 with err naming the value. */
int lnuma__memattrs_apply(hwloc_topology_t hw, const lnuma_topology *topo,
                          const lnuma_memattr_value *values, int n, lnuma_error *err);

/* topology.c: a fresh handle configured for source (NULL with err), and
 * loading it into the snapshot (frees topo and returns NULL on error). */
lnuma_topology *lnuma__topo_new(lnuma_topology_source source, const char *origin,
                                lnuma_error *err);
lnuma_topology *lnuma__topo_finish(lnuma_topology *topo, lnuma_error *err);

/* topology_probe.c: loads the XML text (len bytes, NUL-terminated) of the
 * file path in a child process, under LNUMA_TOPOLOGY_XML_MEMORY and
 * LNUMA_TOPOLOGY_XML_SECONDS, before this process does: 0 when hwloc loads
 * it cleanly there, -1 with err otherwise (hwloc crashed, complained, ran
 * out of time or memory, or no child could be made). */
int lnuma__topo_probe_xml(const char *path, const char *text, size_t len, lnuma_error *err);

#endif
