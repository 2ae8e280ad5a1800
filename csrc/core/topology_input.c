/* The entry points that load a topology: this machine (or what
 * HWLOC_SYNTHETIC / HWLOC_XMLFILE put in its place), and topologies of other
 * machines: hwloc XML files and synthetic descriptions, each under a cap on
 * what it may cost (LNUMA_TOPOLOGY_* in topology.h), so that a small input
 * cannot take the process's memory or time: an XML file is read here (a
 * regular file of bounded size), loaded first by hwloc in a child process
 * with bounded memory and time, then from the same bytes here; a synthetic
 * description is counted before hwloc builds it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "topology_internal.h"

/* ---- XML ------------------------------------------------------------------------ */

lnuma_topology *lnuma_topology_load_xml(const char *path, lnuma_error *err) {
  if (path == NULL || path[0] == '\0') {
    lnuma__fail(err, EINVAL, "the XML path is empty");
    return NULL;
  }
  char *text;
  size_t len;
  if (lnuma__read_input(path, LNUMA_TOPOLOGY_XML_MAX, "XML file", &text, &len, err) != 0)
    return NULL;
  if (len == 0) {
    free(text);
    lnuma__fail(err, EINVAL, "XML file '%s' is empty", path);
    return NULL;
  }
  if (lnuma__topo_probe_xml(path, text, len, err) != 0) {
    free(text);
    return NULL;
  }
  lnuma_topology *topo = lnuma__topo_new(LNUMA_TOPOLOGY_XML, path, err);
  if (topo == NULL) {
    free(text);
    return NULL;
  }
  /* hwloc parses the buffer here (its size counts the final NUL). */
  int rc = hwloc_topology_set_xmlbuffer(topo->hw, text, (int)len + 1);
  free(text);
  if (rc != 0) {
    lnuma_topology_free(topo);
    lnuma__fail(err, EINVAL, "'%s' is not a valid hwloc XML topology", path);
    return NULL;
  }
  return lnuma__topo_finish(topo, err);
}

/* ---- synthetic ------------------------------------------------------------------ */

typedef struct synthetic_count {
  double objects, nodes, pus; /* doubles: "pack:1000000 ..." must not wrap */
} synthetic_count;

/* Counts what a description makes, from its text alone: each level
 * "type:N" outside () and [] multiplies the objects per level; each [...]
 * memory child adds one node per object of the level it follows; a level
 * whose type starts with "numa" or "node" makes nodes.  (A description hwloc
 * would refuse may be miscounted: hwloc then refuses it.) */
static synthetic_count synthetic_counts(const char *desc) {
  synthetic_count c = {1, 0, 1}; /* the machine */
  double per_level = 1;
  int depth = 0;
  const char *token = NULL; /* start of the current word at depth 0 */
  for (const char *p = desc;; p++) {
    char ch = *p;
    if (ch == '[' && depth == 0) {
      c.nodes += per_level;
      c.objects += per_level;
    }
    if (ch == '(' || ch == '[') depth++;
    else if ((ch == ')' || ch == ']') && depth > 0) depth--;
    else if (depth == 0 && token == NULL && ch != '\0' && ch != ' ' && ch != '\t' &&
             ch != '\n')
      token = p;
    if (depth == 0 && ch == ':' && token != NULL) {
      double n = strtod(p + 1, NULL);
      per_level *= n > 0 ? n : 1;
      c.objects += per_level;
      c.pus = per_level;
      if (strncasecmp(token, "numa", 4) == 0 || strncasecmp(token, "node", 4) == 0)
        c.nodes += per_level;
    }
    if (ch == ' ' || ch == '\t' || ch == '\n') token = NULL;
    if (ch == '\0') break;
  }
  if (c.nodes == 0) c.nodes = 1; /* hwloc adds one for the whole machine */
  return c;
}

lnuma_topology *lnuma_topology_load_synthetic(const char *desc, lnuma_error *err) {
  if (desc == NULL || strspn(desc, " \t\n") == strlen(desc)) {
    lnuma__fail(err, EINVAL, "the synthetic description is empty (expected e.g. "
                "\"pack:2 numa:2 core:4 pu:2\")");
    return NULL;
  }
  synthetic_count c = synthetic_counts(desc);
  if (c.pus > LNUMA_SET_BITS) {
    lnuma__fail(err, E2BIG, "'%s' describes %.0f CPUs, more than lnuma handles (%d)", desc,
                c.pus, LNUMA_SET_BITS);
    return NULL;
  }
  if (c.nodes > LNUMA_MAX_NODES) {
    lnuma__fail(err, E2BIG, "'%s' describes %.0f NUMA nodes, more than lnuma handles "
                "(%d)", desc, c.nodes, LNUMA_MAX_NODES);
    return NULL;
  }
  if (c.objects > LNUMA_TOPOLOGY_SYNTHETIC_OBJECTS) {
    lnuma__fail(err, E2BIG, "'%s' describes %.0f objects, more than a synthetic "
                "topology may have (%d)", desc, c.objects, LNUMA_TOPOLOGY_SYNTHETIC_OBJECTS);
    return NULL;
  }
  lnuma_topology *topo = lnuma__topo_new(LNUMA_TOPOLOGY_SYNTHETIC, desc, err);
  if (topo == NULL) return NULL;
  if (hwloc_topology_set_synthetic(topo->hw, desc) != 0) {
    lnuma_topology_free(topo);
    lnuma__fail(err, EINVAL, "'%s' is not a valid hwloc synthetic description "
                "(expected e.g. \"pack:2 numa:2 core:4 pu:2\")", desc);
    return NULL;
  }
  return lnuma__topo_finish(topo, err);
}

/* ---- this machine, replaced by hwloc's variables --------------------------------- */

/* When HWLOC_SYNTHETIC or HWLOC_XMLFILE replaces this machine, loads that
 * under the limits of lnuma_topology_load_synthetic/_xml into *out (NULL
 * with err on failure) and returns 1; 0 when neither is set. */
static int load_from_env(lnuma_topology **out, lnuma_error *err) {
  /* hwloc's own order: HWLOC_SYNTHETIC before HWLOC_XMLFILE. */
  const char *name = "HWLOC_SYNTHETIC";
  const char *value = getenv(name);
  if (value == NULL) value = getenv(name = "HWLOC_XMLFILE");
  if (value == NULL) return 0;
  *out = strcmp(name, "HWLOC_SYNTHETIC") == 0 ? lnuma_topology_load_synthetic(value, err)
                        : lnuma_topology_load_xml(value, err);
  if (*out == NULL && err != NULL) { /* say where the input came from */
    char msg[LNUMA_ERRMSG_MAX];
    snprintf(msg, sizeof msg, "%s", err->msg);
    lnuma__fail(err, err->code, "%s: %s", name, msg);
  }
  return 1;
}

lnuma_topology *lnuma_topology_load(lnuma_error *err) {
  lnuma_topology *topo = NULL;
  if (load_from_env(&topo, err)) return topo;
  topo = lnuma__topo_new(LNUMA_TOPOLOGY_SYSTEM, NULL, err);
  return topo == NULL ? NULL : lnuma__topo_finish(topo, err);
}
