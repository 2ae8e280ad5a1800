/* Buffers: lnuma.alloc and the methods of "lnuma.Buffer" (buffers, their
 * views, arena allocations and pool objects).  Every method closure has the
 * Buffer metatable as upvalue 1, so checking a buffer needs no registry
 * lookup.  Typed access (get, set, fill, sum, min, max): memory_typed.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"

/* ---- regions and userdata ------------------------------------------------ */

lnb_region *lnb_region_new(lua_State *L, lnuma_buffer *buf) {
  (void)L;
  lnb_region *r = malloc(sizeof *r);
  if (r == NULL) return NULL;
  r->refs = 0;
  r->alive = 1;
  r->buf = buf;
  return r;
}

void lnb_region_release(lnb_region *r) {
  /* The memory itself belongs to the region's owner (a buffer, arena or
   * pool handle), which frees it; the region only outlives it. */
  if (r != NULL && --r->refs == 0) free(r);
}

lnb_buffer *lnb_buffer_push(lua_State *L, int mt, int flags, int parent) {
  mt = lua_absindex(L, mt);
  if (parent != 0) parent = lua_absindex(L, parent);
  lnb_buffer *b = lua_newuserdatauv(L, sizeof *b, 1);
  memset(b, 0, sizeof *b); /* closed until it is attached */
  b->flags = flags;
  lua_pushvalue(L, mt);
  lua_setmetatable(L, -2);
  if (parent != 0) {
    lua_pushvalue(L, parent);
    lua_setiuservalue(L, -2, 1);
  }
  return b;
}

void lnb_buffer_attach(lnb_buffer *b, lnb_region *r, char *ptr, size_t len) {
  b->ptr = ptr;
  b->len = len;
  b->full = len;
  b->region = r;
  r->refs++;
}

/* Raises the reason a buffer cannot be used (the slow path of every check). */
int lnb_unusable(lua_State *L, const lnb_buffer *b) {
  if (b->region == NULL) return luaL_error(L, "attempt to use a freed buffer");
  if (!b->region->alive)
    return luaL_error(L, "attempt to use a buffer whose memory was freed (its parent buffer, "
                         "arena or pool was freed)");
  if (b->owner != NULL)
    return luaL_error(L, "attempt to use a view of a pool object after the object was put back");
  return luaL_error(L, "attempt to use a pool object after it was put back");
}

lnb_buffer *lnb_check_live_buffer(lua_State *L, int idx) {
  lnb_buffer *b = luaL_checkudata(L, idx, LNB_BUFFER);
  if (!lnb_in_use(b)) lnb_unusable(L, b);
  return b;
}

/* An optional non-negative integer argument (an offset or a length). */
size_t lnb_opt_offset(lua_State *L, int arg, size_t def, const char *what) {
  if (lua_isnoneornil(L, arg)) return def;
  int isint = 0;
  lua_Integer v = lua_tointegerx(L, arg, &isint);
  if (!isint) {
    lua_pushfstring(L, "%s must be an integer, got %s", what,
                    lua_type(L, arg) == LUA_TNUMBER ? "a fraction" : luaL_typename(L, arg));
    luaL_argerror(L, arg, lua_tostring(L, -1));
  }
  if (v < 0) {
    lua_pushfstring(L, "%s must not be negative", what);
    luaL_argerror(L, arg, lua_tostring(L, -1));
  }
  return (size_t)v;
}

/* Raises unless [off, off+len) lies within a buffer of size n. */
void lnb_check_range(lua_State *L, int arg, size_t off, size_t len, size_t n) {
  if (off > n || len > n - off) {
    lua_pushfstring(L, "range [%I, %I) is outside the buffer (size %I)", (lua_Integer)off,
                    (lua_Integer)(off + len), (lua_Integer)n);
    luaL_argerror(L, arg, lua_tostring(L, -1));
  }
}

/* The optional (offset, length) pair at arg, arg+1 of a method on a buffer
 * of size: length defaults to the rest; the range must fit. */
void lnb_opt_range(lua_State *L, int arg, size_t size, size_t *off, size_t *len) {
  *off = lnb_opt_offset(L, arg, 0, "offset");
  *len = lnb_opt_offset(L, arg + 1, *off <= size ? size - *off : 0, "length");
  lnb_check_range(L, arg, *off, *len, size);
}

void lnb_push_bytes(lua_State *L, size_t n) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = (double)n;
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  char text[32];
  if (u == 0)
    snprintf(text, sizeof text, "%zu B", n);
  else
    snprintf(text, sizeof text, "%.1f %s", v, units[u]);
  lua_pushstring(L, text);
}

/* ---- bytes (typed access and fill: memory_typed.c) ---------------------- */

/* buf:read([off [, len]]) -> the bytes as a string. */
static int buf_read(lua_State *L) {
  lnb_buffer *b = lnb_live_self(L, 1);
  size_t off, len;
  lnb_opt_range(L, 2, b->len, &off, &len);
  lua_pushlstring(L, b->ptr + off, len);
  return 1;
}

/* buf:write(off, str) copies the bytes of str to off. */
static int buf_write(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 3, &len); /* a number becomes a string: allocates */
  size_t off = lnb_opt_offset(L, 2, 0, "offset");
  lnb_buffer *b = lnb_live_self(L, 1);
  lnb_check_range(L, 2, off, len, b->len);
  memcpy(b->ptr + off, s, len);
  return 0;
}

/* buf:copy(src [, dst_off [, src_off [, len]]]) copies from a buffer or a
 * string (overlap allowed); returns the bytes copied. */
static int buf_copy(lua_State *L) {
  lnb_buffer *b = lnb_live_self(L, 1);
  const char *src;
  size_t src_len;
  if (lua_type(L, 2) == LUA_TSTRING) {
    src = lua_tolstring(L, 2, &src_len);
  } else {
    if (lua_type(L, 2) != LUA_TUSERDATA) luaL_typeerror(L, 2, "lnuma.Buffer or string");
    lnb_buffer *s = lnb_live_self(L, 2);
    src = s->ptr;
    src_len = s->len;
  }
  size_t dst_off = lnb_opt_offset(L, 3, 0, "destination offset");
  size_t src_off = lnb_opt_offset(L, 4, 0, "source offset");
  if (src_off > src_len) luaL_argerror(L, 4, "source offset is past the end of the source");
  size_t len = lnb_opt_offset(L, 5, src_len - src_off, "length");
  if (len > src_len - src_off) luaL_argerror(L, 5, "length runs past the end of the source");
  lnb_check_range(L, 3, dst_off, len, b->len);
  memmove(b->ptr + dst_off, src + src_off, len);
  lua_pushinteger(L, (lua_Integer)len);
  return 1;
}

/* buf:view([off [, len]]) -> a buffer sharing [off, off+len) of this one. */
static int buf_view(lua_State *L) {
  size_t off, len;
  lnb_opt_range(L, 2, lnb_live_self(L, 1)->len, &off, &len);
  if (len == 0) luaL_argerror(L, 3, "a view must have at least one byte");
  lnb_buffer *v = lnb_buffer_push(L, lua_upvalueindex(1), LNB_VIEW, 1);
  /* Allocating may have run a finalizer: check again, then attach. */
  lnb_buffer *b = lnb_live_self(L, 1);
  lnb_check_range(L, 2, off, len, b->len);
  lnb_buffer_attach(v, b->region, b->ptr + off, len);
  v->owner = (b->flags & LNB_SLOT) ? b : b->owner; /* a pool object's view dies at put */
  v->issue = b->issue;
  return 1;
}

/* ---- size, address, release -------------------------------------------- */

static int buf_size(lua_State *L) {
  lnb_buffer *b = lnb_live_self(L, 1);
  lua_pushinteger(L, (lua_Integer)b->len);
  return 1;
}

/* buf:address() -> the address of the first byte, as an integer. */
static int buf_address(lua_State *L) {
  lnb_buffer *b = lnb_live_self(L, 1);
  lua_pushinteger(L, (lua_Integer)(uintptr_t)b->ptr);
  return 1;
}

/* Pool objects go back to their pool on free (the pool keeps the handle). */
static int put_back(lua_State *L, lnb_buffer *b) {
  lua_getiuservalue(L, 1, 1); /* the pool */
  lua_getfield(L, -1, "put");
  if (lua_type(L, -1) != LUA_TFUNCTION) return 0;
  lua_insert(L, -2);
  lua_pushvalue(L, 1);
  lua_call(L, 2, 0);
  (void)b;
  return 0;
}

/* Lets go of b's region, freeing the memory first where b is its root. */
static void let_go(lnb_buffer *b) {
  lnb_region *r = b->region;
  if (r == NULL) return;
  if ((b->flags & LNB_ROOT) && r->alive) {
    lnuma_buffer_free(r->buf);
    r->buf = NULL;
    r->alive = 0;
  }
  b->region = NULL;
  b->ptr = NULL;
  b->len = 0;
  lnb_region_release(r);
}

/* free(), __close and __gc: idempotent.  A buffer unmaps its memory (its
 * views then refuse to work); a view only lets go of it. */
static int buf_free(lua_State *L) {
  lnb_buffer *b = lnb_to_self(L, 1);
  if (b->flags & LNB_SLOT) {
    if (lnb_usable(b) && b->len > 0) return put_back(L, b);
    return 0;
  }
  let_go(b);
  return 0;
}

/* __gc also lets pool objects go (their pool is garbage as well by then). */
static int buf_gc(lua_State *L) {
  let_go(lnb_to_self(L, 1));
  return 0;
}

static int buf_type(lua_State *L) {
  lnb_buffer *b = lnb_to_self(L, 1);
  lua_pushstring(L, lnb_usable(b) ? "buffer" : "freed buffer");
  return 1;
}

/* ---- info (placement, migration and policy: placement.c) -------------------- */

void lnb_push_info(lua_State *L, const lnuma_buffer *buf) {
  /* Copied before anything is allocated (a finalizer may free buf). */
  lnuma_buffer_info info = *lnuma_buffer_info_of(buf);
  const lnuma_buffer_info *in = &info;
  uintptr_t address = (uintptr_t)lnuma_buffer_data(buf);
  lua_createtable(L, 0, 12);
  lua_pushinteger(L, (lua_Integer)in->size);
  lua_setfield(L, -2, "size");
  lua_pushinteger(L, (lua_Integer)in->mapped);
  lua_setfield(L, -2, "mapped");
  lua_pushinteger(L, (lua_Integer)in->page_size);
  lua_setfield(L, -2, "page_size");
  lua_pushstring(L, lnuma_huge_name(in->huge));
  lua_setfield(L, -2, "huge");
  lua_pushstring(L, lnuma_mempolicy_name(in->policy));
  lua_setfield(L, -2, "policy");
  lnb_push_set(L, &in->nodes);
  lua_setfield(L, -2, "nodes");
  lua_pushboolean(L, in->policy_applied);
  lua_setfield(L, -2, "policy_applied");
  if (!in->policy_applied) {
    lua_pushstring(L, in->policy_note);
    lua_setfield(L, -2, "policy_note");
  }
  lua_pushstring(L, lnuma_populate_name(in->populated));
  lua_setfield(L, -2, "populate");
  lua_pushinteger(L, (lua_Integer)in->populate_ns);
  lua_setfield(L, -2, "populate_ns");
  lua_pushboolean(L, in->locked);
  lua_setfield(L, -2, "locked");
  if (in->touch_cpu >= 0) {
    lua_pushinteger(L, in->touch_cpu);
    lua_setfield(L, -2, "touch_cpu");
  }
  lua_pushinteger(L, (lua_Integer)address);
  lua_setfield(L, -2, "address");
  if (in->weights.n > 0) {
    lua_createtable(L, 0, in->weights.n);
    for (int i = 0; i < in->weights.n; i++) {
      lua_pushinteger(L, in->weights.weight[i]);
      lua_rawseti(L, -2, in->weights.node[i]);
    }
    lua_setfield(L, -2, "weights");
    lua_pushinteger(L, (lua_Integer)in->chunk_size);
    lua_setfield(L, -2, "chunk_size");
  }
}

/* buf:info() -> what was asked and what happened, for the whole allocation
 * (plus this handle's offset and size). */
static int buf_info(lua_State *L) {
  lnb_buffer *b = lnb_live_self(L, 1);
  int view = (b->flags & LNB_ROOT) == 0;
  lua_Integer offset = (lua_Integer)(b->ptr - (char *)lnuma_buffer_data(b->region->buf));
  lua_Integer length = (lua_Integer)b->len;
  lnb_push_info(L, b->region->buf); /* b may be freed once it allocates */
  lua_pushboolean(L, view);
  lua_setfield(L, -2, "view");
  lua_pushinteger(L, offset);
  lua_setfield(L, -2, "offset");
  lua_pushinteger(L, length);
  lua_setfield(L, -2, "length");
  return 1;
}

static int buf_tostring(lua_State *L) {
  lnb_buffer *b = lnb_to_self(L, 1);
  lnuma_placement *pl = lua_newuserdatauv(L, sizeof *pl, 0); /* before the check */
  if (!lnb_usable(b)) {
    lua_pushliteral(L, "lnuma.Buffer (freed)");
    return 1;
  }
  if ((b->flags & LNB_SLOT) && b->len == 0) {
    lua_pushliteral(L, "lnuma.Buffer (pool object, put back)");
    return 1;
  }
  /* Copied, and the placement read, before anything else is allocated (a
   * finalizer may free b). */
  const lnuma_buffer_info *in = lnuma_buffer_info_of(b->region->buf);
  char nodes[128];
  lnuma_set_format(&in->nodes, nodes, sizeof nodes);
  const char *policy = lnuma_mempolicy_name(in->policy);
  int applied = in->policy_applied, flags = b->flags;
  size_t page_size = in->page_size, len = b->len;
  const char *ptr = b->ptr;
  lnb_push_placement_text(L, pl, page_size, ptr, len);
  lnb_push_bytes(L, len);
  lua_pushfstring(L, "lnuma.Buffer%s (%s, %s%s%s%s, pages %s, %p)",
                  (flags & LNB_ROOT) ? "" : (flags & LNB_SLOT) ? " pool object" : " view",
                  lua_tostring(L, -1), policy, nodes[0] ? " " : "", nodes,
                  applied ? "" : " not applied", lua_tostring(L, -2), (const void *)ptr);
  return 1;
}

/* ---- lnuma.alloc ---------------------------------------------------------- */

/* lnuma.alloc(size [, opts]) -> buffer, or nil, message, errno. */
static int mem_alloc(lua_State *L) {
  luaL_checkany(L, 1);
  size_t size = lnb_to_size(L, 1, 1, "size");
  if (size == 0) luaL_argerror(L, 1, "size must be positive");
  lnuma_alloc_opts o;
  static const char *const extra[] = {"populate", NULL};
  lnb_read_alloc_opts(L, 2, &o, extra);
  lnb_check_alloc(L, 2, size, &o);
  /* The handle exists, closed, before the memory does. */
  lnb_buffer *b = lnb_buffer_push(L, lua_upvalueindex(1), LNB_ROOT, 0);
  lnuma_error err;
  lnuma_buffer *buf = lnuma_buffer_alloc(size, &o, &err);
  if (buf == NULL) return lnb_alloc_failure(L, 2, &err);
  lnb_region *r = lnb_region_new(L, buf);
  if (r == NULL) {
    lnuma_buffer_free(buf);
    return luaL_error(L, "not enough memory");
  }
  lnb_buffer_attach(b, r, lnuma_buffer_data(buf), size);
  return 1;
}

void lnuma_open_memory(lua_State *L) {
  static const luaL_Reg methods[] = {
      {"size", buf_size},       {"address", buf_address},     {"read", buf_read},
      {"write", buf_write},     {"copy", buf_copy},           {"view", buf_view},
      {"placement", lnb_buf_placement}, {"migrate", lnb_buf_migrate},
      {"policy", lnb_buf_policy},
      {"info", buf_info},       {"free", buf_free},           {NULL, NULL},
  };
  static const luaL_Reg metamethods[] = {
      {"__len", buf_size},         {"__close", buf_free},    {"__gc", buf_gc},
      {"__tostring", buf_tostring}, {"__lnuma_type", buf_type}, {NULL, NULL},
  };
  luaL_newmetatable(L, LNB_BUFFER);
  lua_pushvalue(L, -1);
  luaL_setfuncs(L, metamethods, 1);
  lua_createtable(L, 0, 20);
  lua_pushvalue(L, -2);
  luaL_setfuncs(L, methods, 1);
  lua_pushvalue(L, -2);
  luaL_setfuncs(L, lnb_typed_methods, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcclosure(L, mem_alloc, 1); /* consumes the metatable */
  lua_setfield(L, -2, "alloc");
}
