/* Topology over hwloc, second half: caches, I/O devices with their
 * locality, XML export (with measured memory attributes: topology_memattrs.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topology_internal.h"

void lnuma__topo_free_io(lnuma_topology *topo) {
  free(topo->caches);
  free(topo->devices);
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
  if (topo->caches == NULL) return lnuma__topo_oom(err);
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
  if (topo->devices == NULL) return lnuma__topo_oom(err);
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

/* ---- export ------------------------------------------------------------------------- */

int lnuma_topology_export_xml(const lnuma_topology *topo, const char *path,
                              lnuma_error *err) {
  return lnuma__topo_write_xml(topo->hw, path, err);
}
