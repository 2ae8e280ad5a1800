/* Where memory is and what backs it: the one body of every :placement()
 * method (buffers, views, arenas, pools), the short placement text of their
 * __tostring, buf:migrate and buf:policy, and the transparent huge page
 * settings (lnuma.thp, lnuma.set_thp). */
#include <errno.h>
#include <string.h>

#include "buffer.h"

static const char *const method_names[] = {"auto", "kpageflags", "pagemap_scan", "smaps",
                                           NULL};

void lnb_read_placement_opts(lua_State *L, int arg, lnb_placement_opts *o) {
  static const char *const known[] = {"pages", "huge_method", NULL};
  o->pages = 0;
  o->method = LNUMA_PAGESIZE_AUTO;
  if (!lnb_check_options(L, arg, known, 1)) return;
  lnb_field_boolean(L, arg, "pages", &o->pages);
  int m = lnb_field_option(L, arg, "huge_method", method_names);
  if (m >= 0) o->method = (lnuma_pagesize_method)m;
}

/* Adds pages_by_size, huge_bytes, huge_fraction, huge_method and huge_scope
 * to the table at -1. */
static void set_pagesizes(lua_State *L, const lnuma_pagesizes *ps) {
  lua_createtable(L, ps->n, 0);
  for (int i = 0; i < ps->n; i++) {
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, (lua_Integer)ps->sizes[i].page_size);
    lua_setfield(L, -2, "page_size");
    lua_pushinteger(L, (lua_Integer)ps->sizes[i].pages);
    lua_setfield(L, -2, "pages");
    lua_pushinteger(L, (lua_Integer)ps->sizes[i].bytes);
    lua_setfield(L, -2, "bytes");
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "pages_by_size");
  lua_pushinteger(L, (lua_Integer)ps->huge_bytes);
  lua_setfield(L, -2, "huge_bytes");
  lua_pushnumber(L, ps->present_bytes > 0
                        ? (lua_Number)ps->huge_bytes / (lua_Number)ps->present_bytes
                        : 0.0);
  lua_setfield(L, -2, "huge_fraction");
  lua_pushstring(L, lnuma_pagesize_method_name(ps->method));
  lua_setfield(L, -2, "huge_method");
  lua_pushstring(L, ps->whole_mapping ? "mapping" : "range");
  lua_setfield(L, -2, "huge_scope");
}

int lnb_push_placement(lua_State *L, const lnb_placement_opts *o, lnb_range_fn where) {
  lnb_range r, again;
  where(L, &r);
  size_t ps = r.page_size, len = r.len;
  const char *ptr = r.ptr;
  int base = lua_gettop(L);
  /* Scratch space as userdata, so that an error cannot leak it. */
  lnuma_placement *pl = lua_newuserdatauv(L, sizeof *pl, 0);
  lnuma_pagesizes *sizes = lua_newuserdatauv(L, sizeof *sizes, 0);
  lnuma_error err, size_err;
  uintptr_t first = (uintptr_t)ptr & ~(uintptr_t)(ps - 1);
  size_t npages = (size_t)(((uintptr_t)ptr + len - first + ps - 1) / ps);
  int *nodes = o->pages ? lua_newuserdatauv(L, npages * sizeof(int), 0) : NULL;
  /* Allocating may have run a finalizer: the object is checked again, and
   * nothing allocates until the memory has been looked at. */
  where(L, &again);
  if (again.ptr != ptr || again.len != len || again.page_size != ps)
    return luaL_error(L, "the memory changed during the call");
  if (lnuma_placement_of(ptr, len, ps, pl, nodes, o->pages ? npages : 0, &err) != 0)
    return lnb_fail(L, &err);
  int have_sizes = lnuma_pagesizes_of_method(ptr, len, o->method, sizes, &size_err) == 0;
  if (!have_sizes && o->method != LNUMA_PAGESIZE_AUTO) return lnb_fail(L, &size_err);
  lua_createtable(L, 0, 12);
  lua_pushinteger(L, (lua_Integer)pl->page_size);
  lua_setfield(L, -2, "page_size");
  lua_pushinteger(L, (lua_Integer)pl->pages);
  lua_setfield(L, -2, "pages");
  lua_pushinteger(L, (lua_Integer)pl->absent);
  lua_setfield(L, -2, "absent");
  lua_pushinteger(L, (lua_Integer)len);
  lua_setfield(L, -2, "bytes");
  /* by_node: every online node, and any other holding pages. */
  lnuma_set online;
  if (lnuma_nodes_online(&online, NULL) != 0) lnuma_set_zero(&online);
  lua_createtable(L, 0, lnuma_set_count(&online));
  for (int n = 0; n < LNUMA_MAX_NODES; n++)
    if (pl->by_node[n] > 0 || lnuma_set_has(&online, n)) {
      lua_pushinteger(L, (lua_Integer)pl->by_node[n]);
      lua_rawseti(L, -2, n);
    }
  lua_setfield(L, -2, "by_node");
  if (o->pages) {
    lua_createtable(L, npages < 0x7fffffff ? (int)npages : 0, 0);
    for (size_t i = 0; i < npages; i++) {
      lua_pushinteger(L, nodes[i]);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "page_nodes");
  }
  if (have_sizes) {
    set_pagesizes(L, sizes);
  } else {
    lua_pushstring(L, size_err.msg);
    lua_setfield(L, -2, "huge_error");
  }
  lua_replace(L, base + 1);
  lua_settop(L, base + 1);
  return 1;
}

void lnb_push_placement_text(lua_State *L, lnuma_placement *pl, size_t ps, const char *ptr,
                             size_t len) {
  if (lnuma_placement_of(ptr, len, ps, pl, NULL, 0, NULL) != 0) {
    lua_pushliteral(L, "?");
    return;
  }
  luaL_Buffer sb;
  luaL_buffinit(L, &sb);
  int any = 0;
  for (int n = 0; n < LNUMA_MAX_NODES; n++)
    if (pl->by_node[n] > 0) {
      lua_pushfstring(L, "%s%d:%I", any ? " " : "", n, (lua_Integer)pl->by_node[n]);
      luaL_addvalue(&sb);
      any = 1;
    }
  if (pl->absent > 0) {
    lua_pushfstring(L, "%sabsent:%I", any ? " " : "", (lua_Integer)pl->absent);
    luaL_addvalue(&sb);
    any = 1;
  }
  if (!any) luaL_addchar(&sb, '-');
  luaL_pushresult(&sb);
}

/* ---- the buffer methods ---------------------------------------------------- */

/* buf:placement([{pages = true, huge_method = m}]) -> see lnb_push_placement. */
static void buffer_range(lua_State *L, lnb_range *r) {
  lnb_buffer *b = lnb_check_live_buffer(L, 1);
  r->ptr = b->ptr;
  r->len = b->len;
  r->page_size = lnuma_buffer_info_of(b->region->buf)->page_size;
}

int lnb_buf_placement(lua_State *L) {
  luaL_checkudata(L, 1, LNB_BUFFER);
  lnb_placement_opts o;
  lnb_read_placement_opts(L, 2, &o); /* may run Lua: before the buffer is checked */
  return lnb_push_placement(L, &o, buffer_range);
}

/* buf:migrate(node_or_set) -> {moved, already, failed, absent, pages, elapsed_ns}. */
int lnb_buf_migrate(lua_State *L) {
  luaL_checkudata(L, 1, LNB_BUFFER);
  luaL_checkany(L, 2);
  lnuma_set nodes;
  lnb_to_set(L, 2, 2, "nodes", &nodes); /* may run Lua: before the buffer is checked */
  if (lnuma_set_count(&nodes) == 0) luaL_argerror(L, 2, "nodes: the set is empty");
  lnb_buffer *b = lnb_check_live_buffer(L, 1);
  lnuma_migrate_result r;
  lnuma_error err;
  size_t ps = lnuma_buffer_info_of(b->region->buf)->page_size;
  if (lnuma_migrate(b->ptr, b->len, ps, &nodes, &r, &err) != 0) {
    if (err.code == ENODEV) return luaL_argerror(L, 2, err.msg);
    return lnb_fail(L, &err);
  }
  lua_createtable(L, 0, 8);
  lua_pushinteger(L, (lua_Integer)r.pages);
  lua_setfield(L, -2, "pages");
  lua_pushinteger(L, (lua_Integer)r.moved);
  lua_setfield(L, -2, "moved");
  lua_pushinteger(L, (lua_Integer)r.already);
  lua_setfield(L, -2, "already");
  lua_pushinteger(L, (lua_Integer)r.failed);
  lua_setfield(L, -2, "failed");
  lua_pushinteger(L, (lua_Integer)r.absent);
  lua_setfield(L, -2, "absent");
  lua_pushinteger(L, (lua_Integer)r.elapsed_ns);
  lua_setfield(L, -2, "elapsed_ns");
  if (r.first_error != 0) {
    lua_pushstring(L, strerror(r.first_error));
    lua_setfield(L, -2, "error");
  }
  lnb_push_set(L, &nodes);
  lua_setfield(L, -2, "nodes");
  return 1;
}

/* buf:policy() -> {policy, nodes, policy_applied, policy_note, kernel = {policy,
 * nodes}}: the same names as buf:info() gives these facts. */
int lnb_buf_policy(lua_State *L) {
  lnb_buffer *b = lnb_check_live_buffer(L, 1);
  /* Copied before anything is allocated (a finalizer may free the buffer). */
  lnuma_buffer_info in = *lnuma_buffer_info_of(b->region->buf);
  lnuma_mempolicy kp;
  lnuma_set kn;
  lnuma_error err;
  int have_kernel = lnuma_range_policy(b->ptr, &kp, &kn, &err) == 0;
  lua_createtable(L, 0, 5);
  lua_pushstring(L, lnuma_mempolicy_name(in.policy));
  lua_setfield(L, -2, "policy");
  lnb_push_set(L, &in.nodes);
  lua_setfield(L, -2, "nodes");
  lua_pushboolean(L, in.policy_applied);
  lua_setfield(L, -2, "policy_applied");
  if (!in.policy_applied) {
    lua_pushstring(L, in.policy_note);
    lua_setfield(L, -2, "policy_note");
  }
  if (have_kernel) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, lnuma_mempolicy_name(kp));
    lua_setfield(L, -2, "policy");
    lnb_push_set(L, &kn);
    lua_setfield(L, -2, "nodes");
    lua_setfield(L, -2, "kernel");
  } else {
    lua_pushstring(L, err.msg);
    lua_setfield(L, -2, "kernel_error");
  }
  return 1;
}

/* ---- transparent huge pages ----------------------------------------------- */

/* lnuma.thp() -> {available, enabled, pmd_enabled, defrag, pmd_size,
 * process_disabled}. */
static int thp_settings(lua_State *L) {
  lnuma_thp_settings t;
  lnuma_error err;
  if (lnuma_thp_settings_read(&t, &err) != 0) return lnb_fail(L, &err);
  lua_createtable(L, 0, 6);
  lua_pushboolean(L, t.available);
  lua_setfield(L, -2, "available");
  lua_pushstring(L, t.enabled);
  lua_setfield(L, -2, "enabled");
  lua_pushstring(L, t.pmd_enabled);
  lua_setfield(L, -2, "pmd_enabled");
  lua_pushstring(L, t.defrag);
  lua_setfield(L, -2, "defrag");
  lua_pushinteger(L, (lua_Integer)t.pmd_size);
  lua_setfield(L, -2, "pmd_size");
  lua_pushboolean(L, t.process_disabled);
  lua_setfield(L, -2, "process_disabled");
  return 1;
}

/* lnuma.set_thp(enabled) -> true, or nil, message, errno. */
static int thp_set(lua_State *L) {
  luaL_checktype(L, 1, LUA_TBOOLEAN);
  lnuma_error err;
  if (lnuma_thp_set_process(lua_toboolean(L, 1), &err) != 0) return lnb_fail(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

void lnuma_open_placement(lua_State *L) {
  static const luaL_Reg funcs[] = {{"thp", thp_settings}, {"set_thp", thp_set}, {NULL, NULL}};
  luaL_setfuncs(L, funcs, 0);
}
