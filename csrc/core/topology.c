/* Topology over hwloc: building the snapshot from a loaded hwloc handle
 * (NUMA nodes, PUs, cores, packages, distances), and the queries on them.
 * Caches, I/O devices and export live in topology_io.c, memory attributes in
 * topology_memattrs.c, the entry points that load (this machine, XML,
 * synthetic) in topology_input.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "topology_internal.h"

/* ---- helpers --------------------------------------------------------------- */

static int pu_pos(const lnuma_topology *topo, int cpu) {
  int lo = 0, hi = topo->npus - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    int v = topo->pus[mid].os_index;
    if (v == cpu) return mid;
    if (v < cpu) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

static int cmp_node(const void *a, const void *b) {
  const lnuma_node_info *x = a, *y = b;
  return (x->os_index > y->os_index) - (x->os_index < y->os_index);
}

static int cmp_pu(const void *a, const void *b) {
  const lnuma_pu_info *x = a, *y = b;
  return (x->os_index > y->os_index) - (x->os_index < y->os_index);
}

/* The OS index of obj's nearest ancestor of type, or -1. */
static int ancestor_os_index(hwloc_obj_t obj, hwloc_obj_type_t type) {
  for (hwloc_obj_t a = obj->parent; a != NULL; a = a->parent)
    if (a->type == type) return (int)a->os_index;
  return -1;
}

/* ---- home nodes of PUs ----------------------------------------------------- */

/* hwloc attaches a CPU-less node (CXL, HBM) next to the node of its closest
 * CPUs, with the same cpuset, so cpusets alone cannot tell whose CPUs they
 * are.  Among the nodes attached nearest to a PU, its home is the lowest
 * ordinary (DRAM or untyped) node, as Linux numbers them. */
static int is_ordinary_memory(hwloc_obj_t node) {
  return node->subtype == NULL || strcmp(node->subtype, "DRAM") == 0;
}

static void best_node_below(hwloc_obj_t obj, hwloc_obj_t *best) {
  for (hwloc_obj_t c = obj->memory_first_child; c != NULL; c = c->next_sibling) {
    if (c->type == HWLOC_OBJ_NUMANODE) {
      if (*best == NULL) {
        *best = c;
      } else {
        int co = is_ordinary_memory(c), bo = is_ordinary_memory(*best);
        if (co > bo || (co == bo && c->os_index < (*best)->os_index)) *best = c;
      }
    } else {
      best_node_below(c, best); /* a memory-side cache in front of nodes */
    }
  }
}

static int home_node_from_hwloc(hwloc_obj_t pu) {
  for (hwloc_obj_t a = pu->parent; a != NULL; a = a->parent) {
    if (a->memory_arity == 0) continue;
    hwloc_obj_t best = NULL;
    best_node_below(a, &best);
    if (best != NULL) return (int)best->os_index;
  }
  return -1;
}

/* For this machine the kernel says whose CPUs they are (nodeN/cpulist). */
static void home_nodes_from_sys(lnuma_topology *topo) {
  for (int i = 0; i < topo->nnodes; i++) {
    lnuma_set cpus;
    if (lnuma_node_cpus(topo->nodes[i].os_index, &cpus, NULL) != 0) continue;
    for (int c = lnuma_set_next(&cpus, -1); c >= 0; c = lnuma_set_next(&cpus, c)) {
      int p = pu_pos(topo, c);
      if (p >= 0) topo->pus[p].node = topo->nodes[i].os_index;
    }
  }
}

/* ---- loading ---------------------------------------------------------------- */

static int load_nodes(lnuma_topology *topo, lnuma_error *err) {
  hwloc_topology_t hw = topo->hw;
  int n = hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_NUMANODE);
  if (n <= 0) return lnuma__fail(err, EINVAL, "topology has no NUMA node");
  topo->nodes = calloc((size_t)n, sizeof *topo->nodes);
  if (topo->nodes == NULL) return lnuma__topo_oom(err);
  topo->nnodes = n;
  for (int i = 0; i < n; i++) {
    hwloc_obj_t obj = hwloc_get_obj_by_type(hw, HWLOC_OBJ_NUMANODE, (unsigned)i);
    lnuma_node_info *node = &topo->nodes[i];
    if (obj->os_index >= LNUMA_SET_BITS)
      return lnuma__fail(err, ERANGE, "node %u is beyond what lnuma handles (%d)",
                         obj->os_index, LNUMA_SET_BITS);
    node->os_index = (int)obj->os_index;
    node->memory = obj->attr->numanode.local_memory;
    node->free = -1;
    node->subtype = obj->subtype; /* owned by hw, which lives as long */
    lnuma__set_from_hwloc(&node->local_cpus, obj->cpuset);
    lnuma_set_add(&topo->all_nodes, node->os_index);
  }
  qsort(topo->nodes, (size_t)n, sizeof *topo->nodes, cmp_node);
  return 0;
}

static int load_pus(lnuma_topology *topo, lnuma_error *err) {
  hwloc_topology_t hw = topo->hw;
  int n = hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_PU);
  if (n <= 0) return lnuma__fail(err, EINVAL, "topology has no CPU");
  topo->pus = calloc((size_t)n, sizeof *topo->pus);
  if (topo->pus == NULL) return lnuma__topo_oom(err);
  topo->npus = n;
  for (int i = 0; i < n; i++) {
    hwloc_obj_t obj = hwloc_get_obj_by_type(hw, HWLOC_OBJ_PU, (unsigned)i);
    lnuma_pu_info *pu = &topo->pus[i];
    if (obj->os_index >= LNUMA_SET_BITS)
      return lnuma__fail(err, ERANGE, "CPU %u is beyond what lnuma handles (%d)",
                         obj->os_index, LNUMA_SET_BITS);
    pu->os_index = (int)obj->os_index;
    pu->package = ancestor_os_index(obj, HWLOC_OBJ_PACKAGE);
    hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(hw, HWLOC_OBJ_CORE, obj);
    pu->core = core != NULL ? (int)core->logical_index : -1;
    pu->node = -1;
    lnuma_set_add(&topo->all_cpus, pu->os_index);
  }
  qsort(topo->pus, (size_t)n, sizeof *topo->pus, cmp_pu);

  if (topo->source == LNUMA_TOPOLOGY_SYSTEM) home_nodes_from_sys(topo);
  for (int i = 0; i < n; i++) {
    lnuma_pu_info *pu = &topo->pus[i];
    if (pu->node < 0 || lnuma__topo_node_pos(topo, pu->node) < 0)
      pu->node = home_node_from_hwloc(hwloc_get_pu_obj_by_os_index(hw, (unsigned)pu->os_index));
    int p = lnuma__topo_node_pos(topo, pu->node);
    if (p >= 0) lnuma_set_add(&topo->nodes[p].cpus, pu->os_index);
  }
  for (int i = 0; i < topo->nnodes; i++) {
    lnuma_node_info *node = &topo->nodes[i];
    node->memory_only = lnuma_set_count(&node->cpus) == 0;
    uint64_t total, avail;
    if (topo->source == LNUMA_TOPOLOGY_SYSTEM &&
        lnuma_node_meminfo(node->os_index, &total, &avail, NULL) == 0) {
      node->memory = total;
      node->free = (int64_t)avail;
    }
  }
  return 0;
}

static int load_cores_packages(lnuma_topology *topo, lnuma_error *err) {
  hwloc_topology_t hw = topo->hw;
  int n = hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_CORE);
  if (n > 0) {
    topo->cores = calloc((size_t)n, sizeof *topo->cores);
    if (topo->cores == NULL) return lnuma__topo_oom(err);
    topo->ncores = n;
    for (int i = 0; i < n; i++) {
      hwloc_obj_t obj = hwloc_get_obj_by_type(hw, HWLOC_OBJ_CORE, (unsigned)i);
      lnuma_core_info *core = &topo->cores[i];
      core->index = i;
      core->os_index = (int)obj->os_index;
      core->package = ancestor_os_index(obj, HWLOC_OBJ_PACKAGE);
      lnuma__set_from_hwloc(&core->cpus, obj->cpuset);
      int p = pu_pos(topo, lnuma_set_next(&core->cpus, -1));
      core->node = p >= 0 ? topo->pus[p].node : -1;
    }
  }
  n = hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_PACKAGE);
  if (n > 0) {
    topo->packages = calloc((size_t)n, sizeof *topo->packages);
    if (topo->packages == NULL) return lnuma__topo_oom(err);
    topo->npackages = n;
    for (int i = 0; i < n; i++) {
      hwloc_obj_t obj = hwloc_get_obj_by_type(hw, HWLOC_OBJ_PACKAGE, (unsigned)i);
      lnuma_package_info *pkg = &topo->packages[i];
      pkg->os_index = (int)obj->os_index;
      lnuma__set_from_hwloc(&pkg->cpus, obj->cpuset);
      lnuma__set_from_hwloc(&pkg->nodes, obj->nodeset);
    }
  }
  return 0;
}

/* The NUMA distance matrix (ACPI SLIT, as Linux and hwloc report it); the
 * conventional 10/20 where the machine gives none. */
static int load_distances(lnuma_topology *topo, lnuma_error *err) {
  int n = topo->nnodes;
  topo->distances = malloc((size_t)n * (size_t)n * sizeof *topo->distances);
  if (topo->distances == NULL) return lnuma__topo_oom(err);
  for (int i = 0; i < n * n; i++) topo->distances[i] = -1;

  struct hwloc_distances_s *d = NULL;
  unsigned nr = 1;
  if (hwloc_distances_get_by_name(topo->hw, "NUMALatency", &nr, &d, 0) != 0 || nr == 0) {
    nr = 1;
    if (hwloc_distances_get_by_type(topo->hw, HWLOC_OBJ_NUMANODE, &nr, &d,
                                    HWLOC_DISTANCES_KIND_MEANS_LATENCY, 0) != 0)
      nr = 0;
  }
  if (nr > 0 && d != NULL) {
    for (unsigned i = 0; i < d->nbobjs; i++) {
      int a = d->objs[i]->type == HWLOC_OBJ_NUMANODE
                  ? lnuma__topo_node_pos(topo, (int)d->objs[i]->os_index) : -1;
      for (unsigned j = 0; j < d->nbobjs && a >= 0; j++) {
        int b = d->objs[j]->type == HWLOC_OBJ_NUMANODE
                    ? lnuma__topo_node_pos(topo, (int)d->objs[j]->os_index) : -1;
        uint64_t v = d->values[i * d->nbobjs + j];
        if (b >= 0 && v <= 0x7fffffff) topo->distances[a * n + b] = (int)v;
      }
    }
    hwloc_distances_release(topo->hw, d);
  }
  int missing = 0;
  for (int a = 0; a < n; a++)
    for (int b = 0; b < n; b++)
      if (topo->distances[a * n + b] < 0) {
        topo->distances[a * n + b] = a == b ? 10 : 20;
        missing = 1;
      }
  /* With one node there is nothing to default: its distance is 10. */
  topo->default_distances = missing && n > 1;
  return 0;
}

static void load_allowed(lnuma_topology *topo) {
  topo->allowed_cpus = topo->all_cpus;
  topo->allowed_nodes = topo->all_nodes;
  if (topo->source != LNUMA_TOPOLOGY_SYSTEM) return;
  lnuma_set cpus, nodes;
  if (lnuma_allowed(&cpus, &nodes, NULL) == 0) {
    topo->allowed_cpus = cpus;
    topo->allowed_nodes = nodes;
  }
}

void lnuma_topology_free(lnuma_topology *topo) {
  if (topo == NULL) return;
  if (topo->hw != NULL) hwloc_topology_destroy(topo->hw);
  lnuma__topo_free_io(topo);
  lnuma__topo_free_memattrs(topo);
  free(topo->origin);
  free(topo->nodes);
  free(topo->distances);
  free(topo->pus);
  free(topo->cores);
  free(topo->packages);
  free(topo);
}

/* Creates the hwloc handle with what lnuma wants to see: I/O devices, the
 * whole machine (also what this process may not use), no binding changes. */
lnuma_topology *lnuma__topo_new(lnuma_topology_source source, const char *origin,
                                lnuma_error *err) {
  lnuma_topology *topo = calloc(1, sizeof *topo);
  if (topo == NULL) {
    lnuma__topo_oom(err);
    return NULL;
  }
  topo->source = source;
  if (origin != NULL && (topo->origin = strdup(origin)) == NULL) {
    free(topo);
    lnuma__topo_oom(err);
    return NULL;
  }
  if (hwloc_topology_init(&topo->hw) != 0) {
    topo->hw = NULL;
    lnuma_topology_free(topo);
    lnuma__fail_sys(err, errno != 0 ? errno : ENOMEM, "hwloc_topology_init");
    return NULL;
  }
  lnuma__topo_configure(topo->hw, source);
  return topo;
}

/* Past these, a topology costs more than lnuma is made for (the distance
 * table alone is nodes^2); checked before any of lnuma's tables is built. */
static int check_counts(lnuma_topology *topo, lnuma_error *err) {
  int nodes = hwloc_get_nbobjs_by_type(topo->hw, HWLOC_OBJ_NUMANODE);
  int pus = hwloc_get_nbobjs_by_type(topo->hw, HWLOC_OBJ_PU);
  if (nodes > LNUMA_MAX_NODES)
    return lnuma__fail(err, E2BIG, "it has %d NUMA nodes, more than lnuma handles (%d)",
                       nodes, LNUMA_MAX_NODES);
  if (pus > LNUMA_SET_BITS)
    return lnuma__fail(err, E2BIG, "it has %d CPUs, more than lnuma handles (%d)", pus,
                       LNUMA_SET_BITS);
  return 0;
}

lnuma_topology *lnuma__topo_finish(lnuma_topology *topo, lnuma_error *err) {
  errno = 0;
  if (hwloc_topology_load(topo->hw) != 0) {
    int e = errno != 0 ? errno : EINVAL;
    if (topo->source == LNUMA_TOPOLOGY_XML)
      lnuma__fail(err, EINVAL, "'%s' is not a valid hwloc XML topology", topo->origin);
    else if (topo->source == LNUMA_TOPOLOGY_SYNTHETIC)
      lnuma__fail(err, EINVAL, "'%s' is not a valid hwloc synthetic description",
                  topo->origin);
    else
      lnuma__fail_sys(err, e, "hwloc_topology_load");
    lnuma_topology_free(topo);
    return NULL;
  }
  if (topo->source == LNUMA_TOPOLOGY_SYSTEM && !hwloc_topology_is_thissystem(topo->hw)) {
    /* HWLOC_XMLFILE or HWLOC_SYNTHETIC in the environment replaced this machine. */
    const char *xml = getenv("HWLOC_XMLFILE");
    topo->source = xml != NULL ? LNUMA_TOPOLOGY_XML : LNUMA_TOPOLOGY_SYNTHETIC;
    const char *origin = xml != NULL ? xml : getenv("HWLOC_SYNTHETIC");
    if (origin != NULL && (topo->origin = strdup(origin)) == NULL) {
      lnuma_topology_free(topo);
      lnuma__topo_oom(err);
      return NULL;
    }
  }
  if (check_counts(topo, err) != 0 || load_nodes(topo, err) != 0 || load_pus(topo, err) != 0 ||
      load_cores_packages(topo, err) != 0 || load_distances(topo, err) != 0 ||
      lnuma__topo_load_caches(topo, err) != 0 || lnuma__topo_load_devices(topo, err) != 0 ||
      lnuma__topo_load_memattrs(topo, err) != 0) {
    if (err != NULL && topo->origin != NULL) { /* name the file or description */
      char msg[LNUMA_ERRMSG_MAX];
      snprintf(msg, sizeof msg, "%s", err->msg);
      lnuma__fail(err, err->code, "'%s': %s", topo->origin, msg);
    }
    lnuma_topology_free(topo);
    return NULL;
  }
  load_allowed(topo);
  return topo;
}

/* ---- accessors ---------------------------------------------------------------- */

lnuma_topology_source lnuma_topology_source_of(const lnuma_topology *topo) {
  return topo->source;
}
const char *lnuma_topology_origin(const lnuma_topology *topo) { return topo->origin; }

int lnuma_topology_node_count(const lnuma_topology *topo) { return topo->nnodes; }
const lnuma_node_info *lnuma_topology_node(const lnuma_topology *topo, int i) {
  return i >= 0 && i < topo->nnodes ? &topo->nodes[i] : NULL;
}
const lnuma_node_info *lnuma_topology_find_node(const lnuma_topology *topo, int os_index) {
  int p = lnuma__topo_node_pos(topo, os_index);
  return p >= 0 ? &topo->nodes[p] : NULL;
}

int lnuma_topology_pu_count(const lnuma_topology *topo) { return topo->npus; }
const lnuma_pu_info *lnuma_topology_pu(const lnuma_topology *topo, int i) {
  return i >= 0 && i < topo->npus ? &topo->pus[i] : NULL;
}
const lnuma_pu_info *lnuma_topology_find_pu(const lnuma_topology *topo, int cpu) {
  int p = pu_pos(topo, cpu);
  return p >= 0 ? &topo->pus[p] : NULL;
}

int lnuma_topology_core_count(const lnuma_topology *topo) { return topo->ncores; }
const lnuma_core_info *lnuma_topology_core(const lnuma_topology *topo, int i) {
  return i >= 0 && i < topo->ncores ? &topo->cores[i] : NULL;
}

int lnuma_topology_package_count(const lnuma_topology *topo) { return topo->npackages; }
const lnuma_package_info *lnuma_topology_package(const lnuma_topology *topo, int i) {
  return i >= 0 && i < topo->npackages ? &topo->packages[i] : NULL;
}

void lnuma_topology_nodes(const lnuma_topology *topo, lnuma_set *out) {
  *out = topo->all_nodes;
}
void lnuma_topology_cpus(const lnuma_topology *topo, lnuma_set *out) { *out = topo->all_cpus; }

void lnuma_topology_allowed(const lnuma_topology *topo, lnuma_set *cpus, lnuma_set *nodes) {
  if (cpus != NULL) *cpus = topo->allowed_cpus;
  if (nodes != NULL) *nodes = topo->allowed_nodes;
}

int lnuma_topology_default_distances(const lnuma_topology *topo) {
  return topo->default_distances;
}

/* ---- queries ---------------------------------------------------------------------- */

/* Fails naming a node that does not exist and the nodes that do. */
static int no_such_node(const lnuma_topology *topo, int node, lnuma_error *err) {
  char list[200];
  lnuma_set_format(&topo->all_nodes, list, sizeof list);
  return lnuma__fail(err, EINVAL, "node %d does not exist (nodes %s)", node, list);
}

int lnuma_topology_distance(const lnuma_topology *topo, int a, int b, lnuma_error *err) {
  int pa = lnuma__topo_node_pos(topo, a);
  if (pa < 0) return no_such_node(topo, a, err);
  int pb = lnuma__topo_node_pos(topo, b);
  if (pb < 0) return no_such_node(topo, b, err);
  return topo->distances[pa * topo->nnodes + pb];
}

int lnuma_topology_node_of_cpu(const lnuma_topology *topo, int cpu, lnuma_error *err) {
  int p = pu_pos(topo, cpu);
  if (p < 0) {
    char list[200];
    lnuma_set_format(&topo->all_cpus, list, sizeof list);
    return lnuma__fail(err, EINVAL, "CPU %d does not exist (CPUs %s)", cpu, list);
  }
  return topo->pus[p].node;
}

int lnuma_topology_cpus_of(const lnuma_topology *topo, int node, lnuma_set *out,
                           lnuma_error *err) {
  int p = lnuma__topo_node_pos(topo, node);
  if (p < 0) return no_such_node(topo, node, err);
  *out = topo->nodes[p].cpus;
  return 0;
}

int lnuma_topology_nearest(const lnuma_topology *topo, int node, int *out, int cap,
                           lnuma_error *err) {
  int p = lnuma__topo_node_pos(topo, node);
  if (p < 0) return no_such_node(topo, node, err);
  int n = topo->nnodes;
  const int *row = &topo->distances[p * n];
  /* Insertion sort of node positions by (distance, os_index): n is small. */
  int *order = malloc((size_t)n * sizeof *order);
  if (order == NULL) return lnuma__topo_oom(err);
  for (int i = 0; i < n; i++) {
    int j = i;
    while (j > 0 && (row[order[j - 1]] > row[i] ||
                     (row[order[j - 1]] == row[i] && order[j - 1] > i))) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = i;
  }
  /* The node itself first even if a broken table says otherwise. */
  for (int i = 0; i < n; i++)
    if (order[i] == p) {
      memmove(&order[1], &order[0], (size_t)i * sizeof order[0]);
      order[0] = p;
      break;
    }
  for (int i = 0; i < n && i < cap; i++) out[i] = topo->nodes[order[i]].os_index;
  free(order);
  return n;
}

int lnuma_topology_node_of_device(const lnuma_topology *topo, const char *name,
                                  lnuma_error *err) {
  const lnuma_device_info *dev = lnuma_topology_find_device(topo, name);
  if (dev == NULL) return lnuma__fail(err, ENOENT, "no device named '%s'", name);
  int with_cpus = 0, first = -1, first_any = lnuma_set_next(&dev->nodes, -1);
  for (int i = 0; i < topo->nnodes; i++)
    if (!topo->nodes[i].memory_only) with_cpus++;
  for (int n = first_any; n >= 0; n = lnuma_set_next(&dev->nodes, n)) {
    const lnuma_node_info *node = lnuma_topology_find_node(topo, n);
    if (node != NULL && !node->memory_only) {
      first = n;
      break;
    }
  }
  if (first_any < 0 || (with_cpus > 1 && lnuma_set_equal(&dev->nodes, &topo->all_nodes)))
    return lnuma__fail(err, ENXIO, "device '%s' is not local to one node (the machine "
                       "does not say where it hangs off)", name);
  return first >= 0 ? first : first_any;
}
