/* C tests of the topology core on synthetic topologies and the XML fixtures
 * of spec/fixtures (run from the repository root), and of this machine. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lnuma.h"

#define FIXTURES "spec/fixtures/"

static void synthetic_counts_and_queries(void **state) {
  (void)state;
  lnuma_error err;
  lnuma_topology *t = lnuma_topology_load_synthetic("pack:2 numa:2 core:4 pu:2", &err);
  assert_non_null(t);
  assert_int_equal(lnuma_topology_source_of(t), LNUMA_TOPOLOGY_SYNTHETIC);
  assert_string_equal(lnuma_topology_origin(t), "pack:2 numa:2 core:4 pu:2");
  assert_int_equal(lnuma_topology_node_count(t), 4);
  assert_int_equal(lnuma_topology_pu_count(t), 32);
  assert_int_equal(lnuma_topology_core_count(t), 16);
  assert_int_equal(lnuma_topology_package_count(t), 2);
  for (int i = 0; i < 4; i++) {
    const lnuma_node_info *n = lnuma_topology_node(t, i);
    assert_int_equal(n->os_index, i);
    assert_int_equal(lnuma_set_count(&n->cpus), 8);
    assert_false(n->memory_only);
    assert_int_equal(n->free, -1);
  }
  assert_null(lnuma_topology_node(t, 4));
  assert_int_equal(lnuma_topology_node_of_cpu(t, 9, &err), 1);
  assert_int_equal(lnuma_topology_find_pu(t, 17)->package, 1);
  lnuma_set cpus;
  assert_int_equal(lnuma_topology_cpus_of(t, 3, &cpus, &err), 0);
  assert_true(lnuma_set_has(&cpus, 24) && lnuma_set_has(&cpus, 31));
  assert_int_equal(lnuma_set_count(&cpus), 8);
  assert_true(lnuma_topology_default_distances(t));
  assert_int_equal(lnuma_topology_distance(t, 0, 1, &err), 20);
  assert_int_equal(lnuma_topology_distance(t, 3, 3, &err), 10);
  int near[4];
  assert_int_equal(lnuma_topology_nearest(t, 2, near, 4, &err), 4);
  assert_int_equal(near[0], 2);
  assert_int_equal(near[1], 0);
  lnuma_set all, allowed;
  lnuma_topology_cpus(t, &all);
  lnuma_topology_allowed(t, &allowed, NULL);
  assert_true(lnuma_set_equal(&all, &allowed));
  lnuma_topology_free(t);
}

static void xml_distances_devices_caches(void **state) {
  (void)state;
  lnuma_error err;
  lnuma_topology *t = lnuma_topology_load_xml(FIXTURES "two-packages-four-nodes.xml", &err);
  assert_non_null(t);
  assert_int_equal(lnuma_topology_node_count(t), 4);
  assert_false(lnuma_topology_default_distances(t));
  assert_int_equal(lnuma_topology_distance(t, 0, 1, &err), 11);
  assert_int_equal(lnuma_topology_distance(t, 3, 0, &err), 21);
  int near[4];
  assert_int_equal(lnuma_topology_nearest(t, 3, near, 4, &err), 4);
  assert_int_equal(near[0], 3);
  assert_int_equal(near[1], 2);
  assert_int_equal(lnuma_topology_cache_count(t), 20);
  assert_int_equal(lnuma_topology_cache(t, 0)->level, 1);
  assert_int_equal(lnuma_topology_cache(t, 0)->type, LNUMA_CACHE_DATA);
  assert_int_equal(lnuma_topology_cache(t, 19)->size, 16u << 20);

  assert_int_equal(lnuma_topology_device_count(t), 3);
  const lnuma_device_info *eth1 = lnuma_topology_find_device(t, "eth1");
  assert_non_null(eth1);
  assert_int_equal(eth1->kind, LNUMA_DEVICE_NETWORK);
  assert_string_equal(eth1->pci_bus, "0000:af:00.0");
  assert_int_equal(eth1->pci_vendor, 0x15b3);
  assert_string_equal(lnuma_device_kind_name(eth1->kind), "network");
  assert_int_equal(lnuma_topology_node_of_device(t, "eth1", &err), 2);
  assert_int_equal(lnuma_topology_node_of_device(t, "nvme0n1", &err), 1);
  assert_int_equal(lnuma_topology_node_of_device(t, "eth0", &err), -1);
  assert_int_equal(err.code, ENXIO);
  assert_int_equal(lnuma_topology_node_of_device(t, "eth9", &err), -1);
  assert_int_equal(err.code, ENOENT);
  assert_string_equal(err.msg, "no device named 'eth9'");
  lnuma_topology_free(t);
}

static void xml_memory_only_node_and_memattrs(void **state) {
  (void)state;
  lnuma_error err;
  lnuma_topology *t = lnuma_topology_load_xml(FIXTURES "memory-only-node.xml", &err);
  assert_non_null(t);
  const lnuma_node_info *cxl = lnuma_topology_find_node(t, 2);
  assert_non_null(cxl);
  assert_true(cxl->memory_only);
  assert_int_equal(lnuma_set_count(&cxl->cpus), 0);
  assert_int_equal(lnuma_set_count(&cxl->local_cpus), 8);
  assert_string_equal(cxl->subtype, "CXL-DRAM");
  assert_int_equal(cxl->memory, 16ull << 30);
  for (int i = 0; i < lnuma_topology_pu_count(t); i++)
    assert_true(lnuma_topology_pu(t, i)->node != 2);
  assert_int_equal(lnuma_topology_memattr_count(t), 6);
  int seen = 0;
  for (int i = 0; i < lnuma_topology_memattr_count(t); i++) {
    const lnuma_memattr_info *m = lnuma_topology_memattr(t, i);
    if (strcmp(m->name, "Latency") == 0 && m->initiator == 1 && m->target == 2) {
      assert_int_equal(m->value, 300);
      assert_string_equal(m->unit, "ns");
      assert_false(m->higher_is_better);
      seen++;
    }
  }
  assert_int_equal(seen, 1);
  lnuma_topology_free(t);
}

static void xml_node_numbers_with_gaps(void **state) {
  (void)state;
  lnuma_error err;
  lnuma_topology *t = lnuma_topology_load_xml(FIXTURES "node-gaps.xml", &err);
  assert_non_null(t);
  assert_int_equal(lnuma_topology_node_count(t), 2);
  assert_int_equal(lnuma_topology_node(t, 1)->os_index, 2);
  assert_null(lnuma_topology_find_node(t, 1));
  assert_int_equal(lnuma_topology_distance(t, 2, 0, &err), 32);
  assert_int_equal(lnuma_topology_distance(t, 1, 0, &err), -1);
  assert_int_equal(err.code, EINVAL);
  assert_string_equal(err.msg, "node 1 does not exist (nodes 0,2)");
  assert_int_equal(lnuma_topology_node_of_cpu(t, 3, &err), 2);
  assert_int_equal(lnuma_topology_node_of_cpu(t, 4, &err), -1);
  assert_string_equal(err.msg, "CPU 4 does not exist (CPUs 0-3)");
  lnuma_set s;
  assert_int_equal(lnuma_topology_cpus_of(t, 1, &s, &err), -1);
  lnuma_topology_free(t);
}

static void export_and_reload(void **state) {
  (void)state;
  lnuma_error err;
  lnuma_topology *t = lnuma_topology_load_synthetic("pack:2 [numa(memory=1GiB)] core:2 pu:2",
                                                    &err);
  assert_non_null(t);
  char path[] = "/tmp/lnuma-topo-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  assert_int_equal(lnuma_topology_export_xml(t, path, &err), 0);
  lnuma_topology *back = lnuma_topology_load_xml(path, &err);
  unlink(path);
  assert_non_null(back);
  assert_int_equal(lnuma_topology_node_count(back), 2);
  assert_int_equal(lnuma_topology_node(back, 1)->memory, 1ull << 30);
  assert_int_equal(lnuma_topology_pu_count(back), 8);
  assert_int_equal(lnuma_topology_export_xml(t, "/nonexistent-dir/x.xml", &err), -1);
  assert_non_null(strstr(err.msg, "cannot write XML file '/nonexistent-dir/x.xml'"));
  lnuma_topology_free(back);
  lnuma_topology_free(t);
}

static void errors_name_the_input(void **state) {
  (void)state;
  lnuma_error err;
  assert_null(lnuma_topology_load_xml("/nonexistent/t.xml", &err));
  assert_int_equal(err.code, ENOENT);
  assert_string_equal(err.msg,
                      "cannot read XML file '/nonexistent/t.xml': No such file or directory");
  assert_null(lnuma_topology_load_xml("spec", &err));
  assert_int_equal(err.code, EISDIR);
  assert_null(lnuma_topology_load_xml("spec/c/test_topology.c", &err));
  assert_int_equal(err.code, EINVAL);
  assert_string_equal(err.msg, "'spec/c/test_topology.c' is not a valid hwloc XML topology");
  /* hwloc 2.9 segfaults on this one; lnuma probes it in a child first. */
  assert_null(lnuma_topology_load_xml(FIXTURES "crashes-hwloc.xml", &err));
  assert_int_equal(err.code, EINVAL);
  assert_non_null(strstr(err.msg, "(hwloc crashes on it"));
  assert_null(lnuma_topology_load_xml(NULL, &err));
  assert_null(lnuma_topology_load_synthetic("pack:2 foo:3", &err));
  assert_int_equal(err.code, EINVAL);
  assert_non_null(strstr(err.msg, "'pack:2 foo:3' is not a valid hwloc synthetic"));
  assert_null(lnuma_topology_load_synthetic("", &err));
  assert_non_null(strstr(err.msg, "empty"));
  assert_null(lnuma_topology_load_synthetic("pack:100 core:100 pu:100", &err));
  assert_non_null(strstr(err.msg, "1000000 CPUs"));
  assert_null(lnuma_topology_load_synthetic(NULL, NULL)); /* err may be NULL */
  lnuma_topology_free(NULL);
}

static void this_machine_matches_sys(void **state) {
  (void)state;
  lnuma_error err;
  lnuma_topology *t = lnuma_topology_load(&err);
  assert_non_null(t);
  assert_int_equal(lnuma_topology_source_of(t), LNUMA_TOPOLOGY_SYSTEM);
  lnuma_set online, nodes;
  assert_int_equal(lnuma_nodes_online(&online, &err), 0);
  lnuma_topology_nodes(t, &nodes);
  assert_true(lnuma_set_equal(&online, &nodes));
  for (int i = 0; i < lnuma_topology_node_count(t); i++) {
    const lnuma_node_info *n = lnuma_topology_node(t, i);
    lnuma_set cpus;
    uint64_t total;
    assert_int_equal(lnuma_node_cpus(n->os_index, &cpus, &err), 0);
    assert_true(lnuma_set_equal(&cpus, &n->cpus));
    assert_int_equal(lnuma_node_meminfo(n->os_index, &total, NULL, &err), 0);
    assert_int_equal(total, n->memory);
    assert_true(n->free > 0);
  }
  int cpu;
  assert_int_equal(lnuma_current(&cpu, NULL, &err), 0);
  assert_int_equal(lnuma_topology_node_of_cpu(t, cpu, &err), lnuma_cpu_node(cpu));
  lnuma_topology_free(t);
}

static void affinity_bind_and_mempolicy(void **state) {
  (void)state;
  lnuma_error err;
  lnuma_set before, one, after;
  assert_int_equal(lnuma_cpu_binding(&before, &err), 0);
  int last = -1;
  for (int c = lnuma_set_next(&before, -1); c >= 0; c = lnuma_set_next(&before, c)) last = c;
  lnuma_set_zero(&one);
  lnuma_set_add(&one, last);
  assert_int_equal(lnuma_bind_cpus(&one, &err), 0);
  int cpu;
  assert_int_equal(lnuma_current(&cpu, NULL, &err), 0);
  assert_int_equal(cpu, last);
  /* Binding again, to the wider set, works from a narrower binding. */
  assert_int_equal(lnuma_bind_cpus(&before, &err), 0);
  assert_int_equal(lnuma_cpu_binding(&after, &err), 0);
  assert_true(lnuma_set_equal(&before, &after));
  lnuma_set_zero(&one);
  lnuma_set_add(&one, 8000);
  assert_int_equal(lnuma_bind_cpus(&one, &err), -1);
  assert_non_null(strstr(err.msg, "CPU 8000 does not exist"));
  lnuma_mempolicy mode;
  lnuma_set mems;
  if (lnuma_mem_binding(&mode, &mems, &err) == 0) {
    assert_string_not_equal(lnuma_mempolicy_name(mode), "unknown");
    assert_true(lnuma_set_count(&mems) >= 1);
  }
  assert_string_equal(lnuma_mempolicy_name(LNUMA_MPOL_INTERLEAVE), "interleave");
  assert_string_equal(lnuma_mempolicy_name((lnuma_mempolicy)99), "unknown");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(synthetic_counts_and_queries),
      cmocka_unit_test(xml_distances_devices_caches),
      cmocka_unit_test(xml_memory_only_node_and_memattrs),
      cmocka_unit_test(xml_node_numbers_with_gaps),
      cmocka_unit_test(export_and_reload),
      cmocka_unit_test(errors_name_the_input),
      cmocka_unit_test(this_machine_matches_sys),
      cmocka_unit_test(affinity_bind_and_mempolicy),
  };
  return cmocka_run_group_tests_name("topology", tests, NULL, NULL);
}
