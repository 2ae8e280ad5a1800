/* Topology over hwloc, second half: caches, I/O devices with their
 * locality, memory attributes (HMAT latency/bandwidth), XML export. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topology_internal.h"

static int oom(lnuma_error *err) { return lnuma__fail(err, ENOMEM, "topology: out of memory"); }

void lnuma__topo_free_io(lnuma_topology *topo) {
  free(topo->caches);
  free(topo->devices);
  free(topo->memattrs);
}

/* ---- caches ------------------------------------------------------------------ */

int lnuma__topo_load_caches(lnuma_topology *topo, lnuma_error *err) {
  /* By level, the data (or unified) cache before the instruction cache. */
  static const hwloc_obj_type_t types[] = {
      HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L1ICACHE, HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L2ICACHE,
      HWLOC_OBJ_L3CACHE, HWLOC_OBJ_L3ICACHE, HWLOC_OBJ_L4CACHE, HWLOC_OBJ_L5CACHE};
  const size_t ntypes = sizeof types / sizeof types[0];
  int total = 0;
  for (size_t t = 0; t < ntypes; t++) {
    int n = hwloc_get_nbobjs_by_type(topo->hw, types[t]);
    if (n > 0) total += n;
  }
  if (total == 0) return 0;
  topo->caches = calloc((size_t)total, sizeof *topo->caches);
  if (topo->caches == NULL) return oom(err);
  for (size_t t = 0; t < ntypes; t++) {
    hwloc_obj_t obj = NULL;
    while ((obj = hwloc_get_next_obj_by_type(topo->hw, types[t], obj)) != NULL &&
           topo->ncaches < total) {
      lnuma_cache_info *c = &topo->caches[topo->ncaches++];
      c->level = (int)obj->attr->cache.depth;
      switch (obj->attr->cache.type) {
      case HWLOC_OBJ_CACHE_DATA: c->type = LNUMA_CACHE_DATA; break;
      case HWLOC_OBJ_CACHE_INSTRUCTION: c->type = LNUMA_CACHE_INSTRUCTION; break;
      default: c->type = LNUMA_CACHE_UNIFIED; break;
      }
      c->size = obj->attr->cache.size;
      c->line_size = (int)obj->attr->cache.linesize;
      c->associativity = obj->attr->cache.associativity;
      lnuma__set_from_hwloc(&c->cpus, obj->cpuset);
    }
  }
  return 0;
}

int lnuma_topology_cache_count(const lnuma_topology *topo) { return topo->ncaches; }

const lnuma_cache_info *lnuma_topology_cache(const lnuma_topology *topo, int i) {
  return i >= 0 && i < topo->ncaches ? &topo->caches[i] : NULL;
}

const char *lnuma_cache_type_name(lnuma_cache_type type) {
  switch (type) {
  case LNUMA_CACHE_DATA: return "data";
  case LNUMA_CACHE_INSTRUCTION: return "instruction";
  default: return "unified";
  }
}

/* ---- I/O devices --------------------------------------------------------------- */

static lnuma_device_kind device_kind(hwloc_obj_osdev_type_t type) {
  switch (type) {
  case HWLOC_OBJ_OSDEV_BLOCK: return LNUMA_DEVICE_BLOCK;
  case HWLOC_OBJ_OSDEV_GPU: return LNUMA_DEVICE_GPU;
  case HWLOC_OBJ_OSDEV_NETWORK: return LNUMA_DEVICE_NETWORK;
  case HWLOC_OBJ_OSDEV_OPENFABRICS: return LNUMA_DEVICE_OPENFABRICS;
  case HWLOC_OBJ_OSDEV_DMA: return LNUMA_DEVICE_DMA;
  case HWLOC_OBJ_OSDEV_COPROC: return LNUMA_DEVICE_COPROC;
  default: return LNUMA_DEVICE_OTHER;
  }
}

const char *lnuma_device_kind_name(lnuma_device_kind kind) {
  static const char *const names[] = {"block", "gpu", "network", "openfabrics",
                                      "dma", "coproc", "other"};
  if ((int)kind < 0 || kind > LNUMA_DEVICE_OTHER) return "other";
  return names[kind];
}

int lnuma__topo_load_devices(lnuma_topology *topo, lnuma_error *err) {
  int total = 0;
  for (hwloc_obj_t obj = hwloc_get_next_osdev(topo->hw, NULL); obj != NULL;
       obj = hwloc_get_next_osdev(topo->hw, obj))
    total++;
  if (total == 0) return 0;
  topo->devices = calloc((size_t)total, sizeof *topo->devices);
  if (topo->devices == NULL) return oom(err);
  for (hwloc_obj_t obj = hwloc_get_next_osdev(topo->hw, NULL);
       obj != NULL && topo->ndevices < total; obj = hwloc_get_next_osdev(topo->hw, obj)) {
    if (obj->name == NULL) continue;
    lnuma_device_info *dev = &topo->devices[topo->ndevices++];
    dev->name = obj->name; /* owned by hw, which lives as long as topo */
    dev->kind = device_kind(obj->attr->osdev.type);
    dev->subtype = obj->subtype;
    for (hwloc_obj_t p = obj->parent; p != NULL; p = p->parent) {
      if (p->type == HWLOC_OBJ_PCI_DEVICE) {
        const struct hwloc_pcidev_attr_s *pci = &p->attr->pcidev;
        snprintf(dev->pci_bus, sizeof dev->pci_bus, "%04x:%02x:%02x.%01x",
                 (unsigned)pci->domain, (unsigned)pci->bus, (unsigned)pci->dev,
                 (unsigned)pci->func);
        dev->pci_vendor = pci->vendor_id;
        dev->pci_device = pci->device_id;
        break;
      }
      if (p->type != HWLOC_OBJ_OS_DEVICE) break; /* a bridge or a CPU-side object */
    }
    hwloc_obj_t local = hwloc_get_non_io_ancestor_obj(topo->hw, obj);
    if (local != NULL) {
      lnuma__set_from_hwloc(&dev->cpus, local->cpuset);
      lnuma__set_from_hwloc(&dev->nodes, local->nodeset);
    }
  }
  return 0;
}

int lnuma_topology_device_count(const lnuma_topology *topo) { return topo->ndevices; }

const lnuma_device_info *lnuma_topology_device(const lnuma_topology *topo, int i) {
  return i >= 0 && i < topo->ndevices ? &topo->devices[i] : NULL;
}

const lnuma_device_info *lnuma_topology_find_device(const lnuma_topology *topo,
                                                    const char *name) {
  if (name == NULL) return NULL;
  for (int i = 0; i < topo->ndevices; i++) {
    const lnuma_device_info *dev = &topo->devices[i];
    if (strcmp(dev->name, name) == 0 || (dev->pci_bus[0] && strcmp(dev->pci_bus, name) == 0))
      return dev;
  }
  return NULL;
}

/* ---- memory attributes ------------------------------------------------------------ */

/* The node whose CPUs are exactly cpus, or -1. */
static int node_of_cpuset(const lnuma_topology *topo, const lnuma_set *cpus) {
  for (int i = 0; i < topo->nnodes; i++)
    if (!topo->nodes[i].memory_only && lnuma_set_equal(&topo->nodes[i].cpus, cpus))
      return topo->nodes[i].os_index;
  return -1;
}

/* Appends one value, growing the array. */
static int add_memattr(lnuma_topology *topo, int *cap, const lnuma_memattr_info *v) {
  if (topo->nmemattrs == *cap) {
    int ncap = *cap > 0 ? *cap * 2 : 16;
    lnuma_memattr_info *p = realloc(topo->memattrs, (size_t)ncap * sizeof *p);
    if (p == NULL) return -1;
    topo->memattrs = p;
    *cap = ncap;
  }
  topo->memattrs[topo->nmemattrs++] = *v;
  return 0;
}

static int load_attr_target(lnuma_topology *topo, hwloc_memattr_id_t id,
                            lnuma_memattr_info *proto, hwloc_obj_t target, int *cap) {
  unsigned nr = 0;
  struct hwloc_location dummy_loc;
  hwloc_uint64_t dummy_val;
  if (hwloc_memattr_get_initiators(topo->hw, id, target, 0, &nr, &dummy_loc, &dummy_val) != 0
      || nr == 0)
    return 0;
  struct hwloc_location *locs = calloc(nr, sizeof *locs);
  hwloc_uint64_t *values = calloc(nr, sizeof *values);
  int rc = 0;
  if (locs == NULL || values == NULL ||
      hwloc_memattr_get_initiators(topo->hw, id, target, 0, &nr, locs, values) != 0) {
    rc = locs == NULL || values == NULL ? -1 : 0;
    nr = 0;
  }
  for (unsigned k = 0; k < nr && rc == 0; k++) {
    hwloc_const_cpuset_t cs = NULL;
    if (locs[k].type == HWLOC_LOCATION_TYPE_CPUSET) cs = locs[k].location.cpuset;
    else if (locs[k].location.object != NULL) cs = locs[k].location.object->cpuset;
    lnuma__set_from_hwloc(&proto->initiator_cpus, cs);
    proto->initiator = node_of_cpuset(topo, &proto->initiator_cpus);
    proto->value = values[k];
    rc = add_memattr(topo, cap, proto);
  }
  free(locs);
  free(values);
  return rc;
}

int lnuma__topo_load_memattrs(lnuma_topology *topo, lnuma_error *err) {
  int cap = 0;
  for (hwloc_memattr_id_t id = 0;; id++) {
    const char *name;
    unsigned long flags;
    if (hwloc_memattr_get_name(topo->hw, id, &name) != 0) break;
    if (hwloc_memattr_get_flags(topo->hw, id, &flags) != 0) continue;
    if (!(flags & HWLOC_MEMATTR_FLAG_NEED_INITIATOR)) continue; /* Capacity, Locality */
    lnuma_memattr_info proto;
    memset(&proto, 0, sizeof proto);
    proto.name = name; /* owned by hw */
    proto.higher_is_better = (flags & HWLOC_MEMATTR_FLAG_HIGHER_FIRST) != 0;
    proto.unit = strstr(name, "Latency") != NULL ? "ns"
                 : strstr(name, "Bandwidth") != NULL ? "MiB/s" : "";
    for (int i = 0; i < topo->nnodes; i++) {
      hwloc_obj_t target = hwloc_get_numanode_obj_by_os_index(
          topo->hw, (unsigned)topo->nodes[i].os_index);
      if (target == NULL) continue;
      proto.target = topo->nodes[i].os_index;
      if (load_attr_target(topo, id, &proto, target, &cap) != 0) return oom(err);
    }
  }
  return 0;
}

int lnuma_topology_memattr_count(const lnuma_topology *topo) { return topo->nmemattrs; }

const lnuma_memattr_info *lnuma_topology_memattr(const lnuma_topology *topo, int i) {
  return i >= 0 && i < topo->nmemattrs ? &topo->memattrs[i] : NULL;
}

/* ---- export ------------------------------------------------------------------------- */

int lnuma_topology_export_xml(const lnuma_topology *topo, const char *path,
                              lnuma_error *err) {
  if (path == NULL || path[0] == '\0')
    return lnuma__fail(err, EINVAL, "the XML path is empty");
  errno = 0;
  if (hwloc_topology_export_xml(topo->hw, path, 0) != 0) {
    char what[LNUMA_ERRMSG_MAX - 64];
    snprintf(what, sizeof what, "cannot write XML file '%s'", path);
    return lnuma__fail_sys(err, errno != 0 ? errno : EIO, what);
  }
  return 0;
}
