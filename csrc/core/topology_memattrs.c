/* Memory attributes (hwloc 2.3+ memattrs): reading the latency and
 * bandwidth values a topology carries (ACPI HMAT on this machine, or an XML
 * file that has them), and writing measured ones into an exported copy, so
 * that `lstopo --memattrs` and hwloc-based runtimes read lnuma's figures on
 * machines without HMAT.
 *
 * Units: hwloc keeps latencies in nanoseconds and bandwidths in MiB/s
 * (2^20 bytes/s), as integers; lnuma measures ns and GB/s (10^9 bytes/s).
 * lnuma_memattr_to_hwloc() is the one place that converts. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topology_internal.h"

/* ---- names and units ------------------------------------------------------------ */

/* The attributes that depend on an initiator, as hwloc names them. */
static const struct {
  const char *name;
  int latency; /* 1: ns, 0: MiB/s */
} ATTRS[] = {
    {"Latency", 1},   {"ReadLatency", 1},   {"WriteLatency", 1},
    {"Bandwidth", 0}, {"ReadBandwidth", 0}, {"WriteBandwidth", 0},
};
#define NATTRS ((int)(sizeof ATTRS / sizeof ATTRS[0]))

static int attr_index(const char *name) {
  for (int i = 0; name != NULL && i < NATTRS; i++)
    if (strcmp(ATTRS[i].name, name) == 0) return i;
  return -1;
}

/* hwloc stores integers: values that round to 0 or past 2^63 are refused. */
#define MIB_PER_GB (1e9 / 1048576.0)
#define HWLOC_VALUE_MAX 9.2e18

int lnuma_memattr_to_hwloc(const char *name, double value, uint64_t *out,
                           lnuma_error *err) {
  int a = attr_index(name);
  if (a < 0)
    return lnuma__fail(err, EINVAL, "'%s' is not a memory attribute lnuma writes (Latency, "
                       "ReadLatency, WriteLatency, Bandwidth, ReadBandwidth, WriteBandwidth)",
                       name != NULL ? name : "(null)");
  const char *unit = ATTRS[a].latency ? "ns" : "GB/s";
  if (!isfinite(value) || value <= 0)
    return lnuma__fail(err, EINVAL, "%s %g %s is not a measured value (a positive number "
                       "expected)", name, value, unit);
  double v = ATTRS[a].latency ? value : value * MIB_PER_GB;
  double r = floor(v + 0.5);
  if (r < 1)
    return lnuma__fail(err, EINVAL, "%s %g %s rounds to 0 %s (hwloc keeps integers)", name,
                       value, unit, ATTRS[a].latency ? "ns" : "MiB/s");
  if (r > HWLOC_VALUE_MAX)
    return lnuma__fail(err, ERANGE, "%s %g %s is past what hwloc stores", name, value, unit);
  *out = (uint64_t)r;
  return 0;
}

/* ---- reading ---------------------------------------------------------------------- */

void lnuma__topo_free_memattrs(lnuma_topology *topo) { free(topo->memattrs); }

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
    int a = attr_index(name);
    /* Attributes registered by others keep their own units, unknown here. */
    proto.unit = a < 0 ? "" : ATTRS[a].latency ? "ns" : "MiB/s";
    for (int i = 0; i < topo->nnodes; i++) {
      hwloc_obj_t target = hwloc_get_numanode_obj_by_os_index(
          topo->hw, (unsigned)topo->nodes[i].os_index);
      if (target == NULL) continue;
      proto.target = topo->nodes[i].os_index;
      if (load_attr_target(topo, id, &proto, target, &cap) != 0) return lnuma__topo_oom(err);
    }
  }
  return 0;
}

int lnuma_topology_memattr_count(const lnuma_topology *topo) { return topo->nmemattrs; }

const lnuma_memattr_info *lnuma_topology_memattr(const lnuma_topology *topo, int i) {
  return i >= 0 && i < topo->nmemattrs ? &topo->memattrs[i] : NULL;
}

/* ---- writing ---------------------------------------------------------------------- */

/* Checks one value against topo: 0 with its hwloc integer in *out and the
 * position of its initiator node, or -1 with err. */
static int check_one(const lnuma_topology *topo, const lnuma_memattr_value *v, uint64_t *out,
                     int *initiator_pos, lnuma_error *err) {
  if (lnuma_memattr_to_hwloc(v->name, v->value, out, err) != 0) return -1;
  if (lnuma__topo_node_pos(topo, v->target) < 0)
    return lnuma__fail(err, EINVAL, "target node %d does not exist", v->target);
  int pi = lnuma__topo_node_pos(topo, v->initiator);
  if (pi < 0) return lnuma__fail(err, EINVAL, "initiator node %d does not exist", v->initiator);
  if (lnuma_set_count(&topo->nodes[pi].cpus) == 0)
    return lnuma__fail(err, EINVAL, "initiator node %d has no CPUs", v->initiator);
  *initiator_pos = pi;
  return 0;
}

/* Sets one value on hw (a copy of topo's handle). */
static int apply_one(hwloc_topology_t hw, const lnuma_topology *topo,
                     const lnuma_memattr_value *v, hwloc_bitmap_t cpuset, lnuma_error *err) {
  uint64_t value;
  int pi;
  if (check_one(topo, v, &value, &pi, err) != 0) return -1;
  const lnuma_set *cpus = &topo->nodes[pi].cpus;
  hwloc_memattr_id_t id;
  hwloc_obj_t target = hwloc_get_numanode_obj_by_os_index(hw, (unsigned)v->target);
  if (hwloc_memattr_get_by_name(hw, v->name, &id) != 0 || target == NULL)
    return lnuma__fail(err, ENOSYS, "hwloc has no %s attribute for node %d", v->name,
                       v->target);
  hwloc_bitmap_zero(cpuset);
  for (int c = lnuma_set_next(cpus, -1); c >= 0; c = lnuma_set_next(cpus, c))
    if (hwloc_bitmap_set(cpuset, (unsigned)c) != 0) return lnuma__topo_oom(err);
  struct hwloc_location loc;
  loc.type = HWLOC_LOCATION_TYPE_CPUSET;
  loc.location.cpuset = cpuset;
  errno = 0;
  if (hwloc_memattr_set_value(hw, id, target, &loc, 0, value) != 0)
    return lnuma__fail_sys(err, errno != 0 ? errno : EINVAL, "hwloc_memattr_set_value");
  return 0;
}

/* Adds which value failed to err's message. */
static int name_value(const lnuma_memattr_value *values, int k, lnuma_error *err) {
  if (err != NULL) {
    char msg[LNUMA_ERRMSG_MAX];
    snprintf(msg, sizeof msg, "%s", err->msg);
    lnuma__fail(err, err->code, "memory attribute value %d (node %d -> node %d): %s", k + 1,
                values[k].initiator, values[k].target, msg);
  }
  return -1;
}

int lnuma_topology_check_memattrs(const lnuma_topology *topo,
                                  const lnuma_memattr_value *values, int n,
                                  lnuma_error *err) {
  if (n < 0 || (n > 0 && values == NULL))
    return lnuma__fail(err, EINVAL, "%d memory attribute values", n);
  for (int k = 0; k < n; k++) {
    uint64_t v;
    int pi;
    if (check_one(topo, &values[k], &v, &pi, err) != 0) return name_value(values, k, err);
  }
  return 0;
}

int lnuma__memattrs_apply(hwloc_topology_t hw, const lnuma_topology *topo,
                          const lnuma_memattr_value *values, int n, lnuma_error *err) {
  hwloc_bitmap_t cpuset = hwloc_bitmap_alloc();
  if (cpuset == NULL) return lnuma__topo_oom(err);
  int rc = 0;
  for (int k = 0; k < n && rc == 0; k++)
    if ((rc = apply_one(hw, topo, &values[k], cpuset, err)) != 0) name_value(values, k, err);
  hwloc_bitmap_free(cpuset);
  return rc;
}

int lnuma_topology_export_xml_memattrs(const lnuma_topology *topo, const char *path,
                                       const lnuma_memattr_value *values, int n,
                                       lnuma_error *err) {
  if (path == NULL || path[0] == '\0')
    return lnuma__fail(err, EINVAL, "the XML path is empty");
  if (lnuma_topology_check_memattrs(topo, values, n, err) != 0) return -1;
  if (n == 0) return lnuma__topo_write_xml(topo->hw, path, err);
  /* The snapshot stays as loaded: the values go into a copy of its handle. */
  hwloc_topology_t copy;
  if (hwloc_topology_dup(&copy, topo->hw) != 0)
    return lnuma__fail_sys(err, errno != 0 ? errno : ENOMEM, "hwloc_topology_dup");
  int rc = lnuma__memattrs_apply(copy, topo, values, n, err);
  if (rc == 0) rc = lnuma__topo_write_xml(copy, path, err);
  hwloc_topology_destroy(copy);
  return rc;
}
