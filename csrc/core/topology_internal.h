/* The insides of lnuma_topology, shared by topology.c (loading, nodes, CPUs,
 * queries) and topology_io.c (caches, devices, memory attributes, export).
 * Never installed. */
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

/* Position of the node with this OS index in topo->nodes, or -1. */
int lnuma__topo_node_pos(const lnuma_topology *topo, int os_index);

/* topology_io.c: fill caches, devices and memory attributes from topo->hw
 * (nodes and PUs are already there).  0, or -1 with ENOMEM. */
int lnuma__topo_load_caches(lnuma_topology *topo, lnuma_error *err);
int lnuma__topo_load_devices(lnuma_topology *topo, lnuma_error *err);
int lnuma__topo_load_memattrs(lnuma_topology *topo, lnuma_error *err);
void lnuma__topo_free_io(lnuma_topology *topo);

/* Sets what lnuma asks of hwloc (I/O devices, instruction caches, the
 * whole machine, no binding changes) on a fresh handle. */
void lnuma__topo_configure(hwloc_topology_t hw, lnuma_topology_source source);

/* topology_probe.c: loads an XML file in a child process first; -1 with
 * EINVAL when hwloc crashes on it or complains about it, 0 otherwise (also
 * when no child can be made). */
int lnuma__topo_probe_xml(const char *path, lnuma_error *err);

/* Copies an hwloc bitmap into an lnuma_set (indexes past the set's size
 * are dropped). */
void lnuma__set_from_hwloc(lnuma_set *out, hwloc_const_bitmap_t bm);

#endif
