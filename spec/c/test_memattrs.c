/* C tests of measured memory attributes (issue 16): the ns and MiB/s
 * conversions, the round trip through an XML string read back by hwloc
 * itself, and the round trip through a file read back by lnuma. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "topology_internal.h"

#define FIXTURES "spec/fixtures/"

static uint64_t to_hwloc(const char *name, double v) {
  uint64_t out = 0;
  lnuma_error err;
  assert_int_equal(lnuma_memattr_to_hwloc(name, v, &out, &err), 0);
  return out;
}

static void refused(const char *name, double v, int code, const char *words) {
  uint64_t out = 7;
  lnuma_error err;
  assert_int_equal(lnuma_memattr_to_hwloc(name, v, &out, &err), -1);
  assert_int_equal(err.code, code);
  if (strstr(err.msg, words) == NULL) fail_msg("'%s' lacks '%s'", err.msg, words);
  assert_int_equal(out, 7); /* untouched */
}

static void conversions(void **state) {
  (void)state;
  /* Latencies stay ns, rounded to the nearest. */
  assert_int_equal(to_hwloc("Latency", 89.4), 89);
  assert_int_equal(to_hwloc("ReadLatency", 89.5), 90);
  assert_int_equal(to_hwloc("WriteLatency", 250.0), 250);
  /* Bandwidths: GB/s (1e9 B/s) to MiB/s (2^20 B/s): 1 GB/s = 953.674... MiB/s. */
  assert_int_equal(to_hwloc("Bandwidth", 1.0), 954);
  assert_int_equal(to_hwloc("ReadBandwidth", 10.0), 9537);   /* 9536.74 */
  assert_int_equal(to_hwloc("WriteBandwidth", 1.048576), 1000);
  assert_int_equal(to_hwloc("Bandwidth", 100.0), 95367);     /* 95367.43 */
  refused("Latency", 0.0, EINVAL, "not a measured value");
  refused("Latency", -3.0, EINVAL, "not a measured value");
  refused("Bandwidth", NAN, EINVAL, "not a measured value");
  refused("Bandwidth", INFINITY, EINVAL, "not a measured value");
  refused("Latency", 0.4, EINVAL, "rounds to 0 ns");
  refused("Bandwidth", 0.0001, EINVAL, "rounds to 0 MiB/s");
  refused("Bandwidth", 1e19, ERANGE, "past what hwloc stores");
  refused("Capacity", 1.0, EINVAL, "'Capacity' is not a memory attribute lnuma writes");
  refused(NULL, 1.0, EINVAL, "'(null)' is not a memory attribute");
}

static const lnuma_memattr_value VALUES[] = {
    {"Latency", 0, 0, 80.4},     {"Latency", 0, 1, 130.6},   {"Latency", 1, 0, 131.0},
    {"Latency", 1, 1, 81.0},     {"ReadLatency", 0, 1, 130.6},
    {"Bandwidth", 0, 0, 20.0},   {"Bandwidth", 0, 1, 8.5},
};
#define NVALUES ((int)(sizeof VALUES / sizeof VALUES[0]))

/* hwloc's value of attr on target node for the CPUs cpus ("0-1"). */
static uint64_t hwloc_value(hwloc_topology_t hw, hwloc_memattr_id_t attr, unsigned target,
                            const char *cpus) {
  hwloc_bitmap_t set = hwloc_bitmap_alloc();
  assert_non_null(set);
  assert_int_equal(hwloc_bitmap_list_sscanf(set, cpus), 0);
  struct hwloc_location loc;
  loc.type = HWLOC_LOCATION_TYPE_CPUSET;
  loc.location.cpuset = set;
  hwloc_uint64_t v = 0;
  hwloc_obj_t node = hwloc_get_numanode_obj_by_os_index(hw, target);
  assert_non_null(node);
  int rc = hwloc_memattr_get_value(hw, attr, node, &loc, 0, &v);
  hwloc_bitmap_free(set);
  return rc == 0 ? v : 0;
}

static void round_trip_through_an_xml_string(void **state) {
  (void)state;
  lnuma_error err;
  lnuma_topology *t = lnuma_topology_load_synthetic("pack:2 numa:1 core:2 pu:1", &err);
  assert_non_null(t);
  hwloc_topology_t copy;
  assert_int_equal(hwloc_topology_dup(&copy, t->hw), 0);
  assert_int_equal(lnuma__memattrs_apply(copy, t, VALUES, NVALUES, &err), 0);
  char *xml = NULL;
  int len = 0;
  assert_int_equal(hwloc_topology_export_xmlbuffer(copy, &xml, &len, 0), 0);
  hwloc_topology_destroy(copy);
  assert_non_null(strstr(xml, "<memattr name=\"Latency\""));

  hwloc_topology_t back;
  assert_int_equal(hwloc_topology_init(&back), 0);
  assert_int_equal(hwloc_topology_set_xmlbuffer(back, xml, len), 0);
  assert_int_equal(hwloc_topology_load(back), 0);
  hwloc_free_xmlbuffer(t->hw, xml);
  assert_int_equal(hwloc_value(back, HWLOC_MEMATTR_ID_LATENCY, 0, "0-1"), 80);
  assert_int_equal(hwloc_value(back, HWLOC_MEMATTR_ID_LATENCY, 1, "0-1"), 131);
  assert_int_equal(hwloc_value(back, HWLOC_MEMATTR_ID_LATENCY, 0, "2-3"), 131);
  assert_int_equal(hwloc_value(back, HWLOC_MEMATTR_ID_LATENCY, 1, "2-3"), 81);
  assert_int_equal(hwloc_value(back, HWLOC_MEMATTR_ID_READ_LATENCY, 1, "0-1"), 131);
  assert_int_equal(hwloc_value(back, HWLOC_MEMATTR_ID_BANDWIDTH, 0, "0-1"), 19073);
  assert_int_equal(hwloc_value(back, HWLOC_MEMATTR_ID_BANDWIDTH, 1, "0-1"), 8106);
  assert_int_equal(hwloc_value(back, HWLOC_MEMATTR_ID_BANDWIDTH, 1, "2-3"), 0); /* none */
  hwloc_topology_destroy(back);
  lnuma_topology_free(t);
}

static const lnuma_memattr_info *find(const lnuma_topology *t, const char *name, int initiator,
                                      int target) {
  for (int i = 0; i < lnuma_topology_memattr_count(t); i++) {
    const lnuma_memattr_info *m = lnuma_topology_memattr(t, i);
    if (strcmp(m->name, name) == 0 && m->initiator == initiator && m->target == target)
      return m;
  }
  return NULL;
}

static void round_trip_through_a_file(void **state) {
  (void)state;
  lnuma_error err;
  lnuma_topology *t = lnuma_topology_load_synthetic("pack:2 numa:1 core:2 pu:1", &err);
  assert_non_null(t);
  char path[] = "/tmp/lnuma-memattrs-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  assert_int_equal(lnuma_topology_export_xml_memattrs(t, path, VALUES, NVALUES, &err), 0);
  assert_int_equal(lnuma_topology_memattr_count(t), 0); /* the snapshot is unchanged */
  lnuma_topology *back = lnuma_topology_load_xml(path, &err);
  unlink(path);
  if (back == NULL) fail_msg("%s", err.msg);
  assert_int_equal(lnuma_topology_memattr_count(back), NVALUES);
  const lnuma_memattr_info *m = find(back, "Latency", 1, 0);
  assert_non_null(m);
  assert_int_equal(m->value, 131);
  assert_string_equal(m->unit, "ns");
  assert_false(m->higher_is_better);
  assert_int_equal(lnuma_set_count(&m->initiator_cpus), 2);
  assert_true(lnuma_set_has(&m->initiator_cpus, 2));
  m = find(back, "Bandwidth", 0, 1);
  assert_non_null(m);
  assert_int_equal(m->value, 8106); /* 8.5 GB/s */
  assert_string_equal(m->unit, "MiB/s");
  assert_true(m->higher_is_better);
  assert_non_null(find(back, "ReadLatency", 0, 1));
  lnuma_topology_free(back);
  lnuma_topology_free(t);
}

static void refusals_name_the_value(void **state) {
  (void)state;
  lnuma_error err;
  lnuma_topology *t = lnuma_topology_load_xml(FIXTURES "memory-only-node.xml", &err);
  assert_non_null(t);
  const char *path = "/tmp/lnuma-memattrs-never-written.xml";
  lnuma_memattr_value bad[] = {{"Latency", 0, 0, 90.0}, {"Latency", 0, 5, 90.0}};
  assert_int_equal(lnuma_topology_export_xml_memattrs(t, path, bad, 2, &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_string_equal(err.msg, "memory attribute value 2 (node 0 -> node 5): target node 5 "
                      "does not exist");
  lnuma_memattr_value cpuless = {"Bandwidth", 2, 0, 10.0};
  assert_int_equal(lnuma_topology_export_xml_memattrs(t, path, &cpuless, 1, &err), -1);
  assert_string_equal(err.msg, "memory attribute value 1 (node 2 -> node 0): initiator "
                      "node 2 has no CPUs");
  lnuma_memattr_value nan = {"Latency", 0, 2, NAN};
  assert_int_equal(lnuma_topology_export_xml_memattrs(t, path, &nan, 1, &err), -1);
  assert_non_null(strstr(err.msg, "value 1 (node 0 -> node 2): Latency nan ns is not a "
                          "measured value"));
  assert_int_equal(access(path, F_OK), -1);
  lnuma_memattr_value good = {"Latency", 0, 2, 240.0};
  assert_int_equal(lnuma_topology_export_xml_memattrs(t, "/nonexistent-dir/x.xml", &good, 1,
                                                      &err), -1);
  assert_int_equal(err.code, ENOENT);
  assert_non_null(strstr(err.msg, "cannot write XML file '/nonexistent-dir/x.xml'"));
  assert_int_equal(lnuma_topology_export_xml_memattrs(t, "", &good, 1, &err), -1);
  assert_string_equal(err.msg, "the XML path is empty");
  assert_int_equal(lnuma_topology_export_xml_memattrs(t, path, NULL, 3, &err), -1);
  assert_int_equal(err.code, EINVAL);
  lnuma_topology_free(t);
}

/* A measured value replaces the fixture's HMAT-like one for the same
 * initiator and target; the others stay. */
static void measured_values_replace_the_same_initiator(void **state) {
  (void)state;
  lnuma_error err;
  lnuma_topology *t = lnuma_topology_load_xml(FIXTURES "memory-only-node.xml", &err);
  assert_non_null(t);
  char path[] = "/tmp/lnuma-memattrs-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  lnuma_memattr_value v = {"Latency", 0, 2, 222.2};
  assert_int_equal(lnuma_topology_export_xml_memattrs(t, path, &v, 1, &err), 0);
  lnuma_topology *back = lnuma_topology_load_xml(path, &err);
  unlink(path);
  assert_non_null(back);
  assert_int_equal(lnuma_topology_memattr_count(back), lnuma_topology_memattr_count(t));
  assert_int_equal(find(back, "Latency", 0, 2)->value, 222);
  assert_int_equal(find(back, "Latency", 1, 2)->value, 300);
  assert_int_equal(find(t, "Latency", 0, 2)->value, 250);
  lnuma_topology_free(back);
  lnuma_topology_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(conversions),
      cmocka_unit_test(round_trip_through_an_xml_string),
      cmocka_unit_test(round_trip_through_a_file),
      cmocka_unit_test(refusals_name_the_value),
      cmocka_unit_test(measured_values_replace_the_same_initiator),
  };
  return cmocka_run_group_tests_name("memattrs", tests, NULL, NULL);
}
