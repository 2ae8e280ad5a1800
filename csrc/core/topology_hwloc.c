/* The leaf of the topology files: small helpers over hwloc and over the
 * snapshot's node table that the others share.  It calls no function of
 * topology.c, topology_io.c, topology_memattrs.c, topology_probe.c or
 * topology_input.c (see the order in topology_internal.h). */
#include <errno.h>
#include <stdio.h>

#include "topology_internal.h"

int lnuma__topo_oom(lnuma_error *err) {
  return lnuma__fail(err, ENOMEM, "topology: out of memory");
}

void lnuma__set_from_hwloc(lnuma_set *out, hwloc_const_bitmap_t bm) {
  lnuma_set_zero(out);
  if (bm == NULL) return;
  for (int i = hwloc_bitmap_first(bm); i >= 0 && i < LNUMA_SET_BITS;
       i = hwloc_bitmap_next(bm, i))
    lnuma_set_add(out, i);
}

int lnuma__topo_node_pos(const lnuma_topology *topo, int os_index) {
  /* Nodes are few and sorted: a binary search keeps lookups cheap anyway. */
  int lo = 0, hi = topo->nnodes - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    int v = topo->nodes[mid].os_index;
    if (v == os_index) return mid;
    if (v < os_index) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

void lnuma__topo_configure(hwloc_topology_t hw, lnuma_topology_source source) {
  unsigned long flags = HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED;
  if (source == LNUMA_TOPOLOGY_SYSTEM) {
    flags |= HWLOC_TOPOLOGY_FLAG_DONT_CHANGE_BINDING;
    /* PCI devices come from /sys through hwloc's Linux backend just as well;
     * its libpciaccess component leaks about 1 KiB per load (hwloc 2.9). */
    hwloc_topology_set_components(hw, HWLOC_TOPOLOGY_COMPONENTS_FLAG_BLACKLIST, "pci");
  }
  hwloc_topology_set_flags(hw, flags);
  hwloc_topology_set_io_types_filter(hw, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
  hwloc_topology_set_icache_types_filter(hw, HWLOC_TYPE_FILTER_KEEP_ALL);
}

int lnuma__topo_write_xml(hwloc_topology_t hw, const char *path, lnuma_error *err) {
  if (path == NULL || path[0] == '\0')
    return lnuma__fail(err, EINVAL, "the XML path is empty");
  errno = 0;
  if (hwloc_topology_export_xml(hw, path, 0) != 0) {
    char what[LNUMA_ERRMSG_MAX - 64];
    snprintf(what, sizeof what, "cannot write XML file '%s'", path);
    return lnuma__fail_sys(err, errno != 0 ? errno : EIO, what);
  }
  return 0;
}
