/* Arenas from Lua: lnuma.arena{...} and the methods of "lnuma.Arena".
 * arena:alloc returns the offset of the allocation in the arena (an
 * integer: nothing is allocated in Lua per call), which arena:get/set/view
 * read and write; arena:alloc_buffer returns a view ("lnuma.Buffer") of it
 * instead, which keeps the arena alive and errors once the arena is freed.
 * Method closures hold the Arena metatable (upvalue 1) and the Buffer
 * metatable (upvalue 2). */
#include <errno.h>
#include <string.h>

#include "element.h"

typedef struct lnb_arena {
  lnuma_arena *arena; /* NULL once freed */
  lnb_region *region;
  char *base;         /* the first byte of the arena's memory */
} lnb_arena;

static lnb_arena *to_arena(lua_State *L, int idx) {
  lnb_arena *a = lua_touserdata(L, idx);
  if (a == NULL || !lua_getmetatable(L, idx)) luaL_typeerror(L, idx, LNB_ARENA);
  if (!lua_rawequal(L, -1, lua_upvalueindex(1))) luaL_typeerror(L, idx, LNB_ARENA);
  lua_pop(L, 1);
  return a;
}

static lnb_arena *live_arena(lua_State *L, int idx) {
  lnb_arena *a = to_arena(L, idx);
  if (a->arena == NULL) luaL_error(L, "attempt to use a freed arena");
  return a;
}

/* The (n [, align]) arguments of alloc and alloc_buffer.  Runs no Lua. */
static void alloc_args(lua_State *L, size_t *n, size_t *align) {
  lua_Integer v;
  if (lua_isinteger(L, 2) && (v = lua_tointeger(L, 2)) > 0) {
    *n = (size_t)v;
  } else {
    luaL_checkany(L, 2);
    *n = lnb_to_size(L, 2, 2, "size");
    if (*n == 0) luaL_argerror(L, 2, "size must be positive");
  }
  *align = 16;
  if (!lua_isnoneornil(L, 3)) {
    int isint = 0;
    v = lua_tointegerx(L, 3, &isint);
    if (!isint || v <= 0 || (v & (v - 1)) != 0) luaL_argerror(L, 3, "align must be a power of two");
    *align = (size_t)v;
  }
}

/* Pushes nil, "arena is full ...", ENOMEM. */
static int full(lua_State *L, const lnb_arena *a, size_t n) {
  size_t cap = lnuma_arena_capacity(a->arena), used = lnuma_arena_used(a->arena);
  luaL_pushfail(L);
  lua_pushfstring(L, "arena is full: %I bytes asked, %I of %I free", (lua_Integer)n,
                  (lua_Integer)(cap - used), (lua_Integer)cap);
  lua_pushinteger(L, ENOMEM);
  return 3;
}

/* arena:alloc(n [, align]) -> the offset of n fresh bytes in the arena, or
 * nil, message, ENOMEM.  The hot path: no Lua allocation. */
static int arena_alloc(lua_State *L) {
  int top = lua_gettop(L);
  lnb_arena *a = lnb_hot_self(L, 1, LNB_ARENA);
  int isint = 0;
  lua_Integer v = lua_tointegerx(L, 2, &isint);
  if (top == 2 && isint && v > 0 && a->arena != NULL) { /* the hot path: alloc(n) */
    char *p = lnuma_arena_alloc(a->arena, (size_t)v, 16);
    if (p == NULL) return full(L, a, (size_t)v);
    lua_pushinteger(L, (lua_Integer)(p - a->base));
    return 1;
  }
  lua_pop(L, 1); /* lnb_hot_self's metatable */
  size_t n, align;
  alloc_args(L, &n, &align); /* runs no Lua: a stays where it was */
  if (a->arena == NULL) return luaL_error(L, "attempt to use a freed arena");
  char *p = lnuma_arena_alloc(a->arena, n, align);
  if (p == NULL) return full(L, a, n);
  lua_pushinteger(L, (lua_Integer)(p - a->base));
  return 1;
}

/* arena:alloc_buffer(n [, align]) -> a view of n fresh bytes, or nil,
 * message, ENOMEM. */
static int arena_alloc_buffer(lua_State *L) {
  to_arena(L, 1);
  size_t n, align;
  alloc_args(L, &n, &align);
  /* The view first (allocating may run a finalizer), then the arena. */
  lnb_buffer *v = lnb_buffer_push(L, lua_upvalueindex(2), LNB_VIEW, 1);
  lnb_arena *a = live_arena(L, 1);
  char *p = lnuma_arena_alloc(a->arena, n, align);
  if (p == NULL) return full(L, a, n);
  lnb_buffer_attach(v, a->region, p, n);
  return 1;
}

/* Why arena:get/set(kind, off, ...) did not take the fast path, raised in
 * the order the arguments come: the arena, the kind, the offset. */
static int element_failed(lua_State *L, const lnb_arena *a) {
  lua_pop(L, 1); /* lnb_hot_self's metatable */
  if (a->arena == NULL) return luaL_error(L, "attempt to use a freed arena");
  int kind = lnb_check_kind(L, 2);
  int isint = 0;
  lua_Integer off = lua_tointegerx(L, 3, &isint);
  if (!isint) return luaL_argerror(L, 3, "offset must be an integer");
  lua_pushfstring(L, "offset %I out of range for a %I-byte element (%I bytes in use)", off,
                  (lua_Integer)lnb_kind_width[kind], (lua_Integer)lnuma_arena_used(a->arena));
  return luaL_argerror(L, 3, lua_tostring(L, -1));
}

/* The address of the element at the byte offset the arguments name when
 * they were read and it lies within the bytes handed out (arena:used()),
 * else NULL. */
static inline char *element_at(const lnb_arena *a, const lnb_elem_args *e) {
  if (e->kind < 0 || !e->isint || a->arena == NULL) return NULL;
  size_t w = lnb_kind_width[e->kind], used = lnuma_arena_used(a->arena);
  return (lua_Unsigned)e->at < used && w <= used - (size_t)e->at ? a->base + e->at : NULL;
}

/* arena:get(kind, off) -> the element of kind at byte offset off;
 * arena:set(kind, off, v) writes v as kind at byte offset off. */
LNB_ELEM_METHODS(arena, lnb_arena, LNB_ARENA)

/* arena:view(off [, len]) -> a buffer view of [off, off+len) of the bytes
 * handed out (len: the rest of them by default). */
static int arena_view(lua_State *L) {
  to_arena(L, 1);
  size_t off = lnb_opt_offset(L, 2, 0, "offset");
  int has_len = !lua_isnoneornil(L, 3);
  size_t len = lnb_opt_offset(L, 3, 0, "length");
  lnb_buffer *v = lnb_buffer_push(L, lua_upvalueindex(2), LNB_VIEW, 1);
  lnb_arena *a = live_arena(L, 1);
  size_t used = lnuma_arena_used(a->arena);
  if (!has_len) len = off <= used ? used - off : 0;
  if (off > used || len > used - off) {
    lua_pushfstring(L, "range [%I, %I) is outside the %I bytes in use", (lua_Integer)off,
                    (lua_Integer)(off + len), (lua_Integer)used);
    luaL_argerror(L, off > used ? 2 : 3, lua_tostring(L, -1));
  }
  if (len == 0) luaL_argerror(L, 3, "a view must have at least one byte");
  lnb_buffer_attach(v, a->region, a->base + off, len);
  return 1;
}

static int arena_reset(lua_State *L) {
  lnuma_arena_reset(live_arena(L, 1)->arena);
  return 0;
}

static int arena_used(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lnuma_arena_used(live_arena(L, 1)->arena));
  return 1;
}

static int arena_capacity(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lnuma_arena_capacity(live_arena(L, 1)->arena));
  return 1;
}

static int arena_available(lua_State *L) {
  lnuma_arena *a = live_arena(L, 1)->arena;
  lua_pushinteger(L, (lua_Integer)(lnuma_arena_capacity(a) - lnuma_arena_used(a)));
  return 1;
}

/* arena:placement([opts]): where the arena's pages are (as buf:placement). */
static void arena_range(lua_State *L, lnb_range *r) {
  lnuma_arena *a = live_arena(L, 1)->arena;
  lnuma_buffer *buf = lnuma_arena_buffer(a);
  r->ptr = lnuma_buffer_data(buf);
  r->len = lnuma_arena_capacity(a);
  r->page_size = lnuma_buffer_info_of(buf)->page_size;
}

static int arena_placement(lua_State *L) {
  to_arena(L, 1);
  lnb_placement_opts o;
  lnb_read_placement_opts(L, 2, &o); /* may run Lua: before the arena is checked */
  return lnb_push_placement(L, &o, arena_range);
}

static int arena_info(lua_State *L) {
  lnb_push_info(L, lnuma_arena_buffer(live_arena(L, 1)->arena));
  return 1;
}

/* free(), __close, __gc: unmaps the arena (its views then refuse to work). */
static int arena_free(lua_State *L) {
  lnb_arena *a = to_arena(L, 1);
  if (a->arena == NULL) return 0;
  lnuma_arena_destroy(a->arena);
  a->arena = NULL;
  a->region->alive = 0;
  a->region->buf = NULL;
  lnb_region_release(a->region);
  a->region = NULL;
  a->base = NULL;
  return 0;
}

static int arena_tostring(lua_State *L) {
  lnb_arena *a = to_arena(L, 1);
  lnuma_placement *pl = lua_newuserdatauv(L, sizeof *pl, 0); /* before the check */
  if (a->arena == NULL) {
    lua_pushliteral(L, "lnuma.Arena (freed)");
    return 1;
  }
  /* Copied before the first allocation (a finalizer may free the arena). */
  lnuma_buffer *buf = lnuma_arena_buffer(a->arena);
  size_t used = lnuma_arena_used(a->arena), cap = lnuma_arena_capacity(a->arena);
  size_t page_size = lnuma_buffer_info_of(buf)->page_size;
  const char *data = lnuma_buffer_data(buf);
  lnb_push_placement_text(L, pl, page_size, data, cap);
  lnb_push_bytes(L, used);
  lnb_push_bytes(L, cap);
  lua_pushfstring(L, "lnuma.Arena (%s of %s used, pages %s)", lua_tostring(L, -2),
                  lua_tostring(L, -1), lua_tostring(L, -3));
  return 1;
}

static int arena_type(lua_State *L) {
  lua_pushstring(L, to_arena(L, 1)->arena != NULL ? "arena" : "freed arena");
  return 1;
}

/* lnuma.arena{size =, node =, ...} -> arena, or nil, message, errno. */
static int mem_arena(lua_State *L) {
  static const char *const extra[] = {"size", NULL};
  luaL_checktype(L, 1, LUA_TTABLE);
  lnuma_alloc_opts o;
  lnb_read_alloc_opts(L, 1, &o, extra);
  size_t size = 0;
  if (!lnb_field_size(L, 1, "size", &size)) lnb_opterror(L, 1, "size", "required");
  if (size == 0) lnb_opterror(L, 1, "size", "must be positive");
  lnb_check_alloc(L, 1, size, &o);
  lnb_arena *a = lua_newuserdatauv(L, sizeof *a, 0);
  memset(a, 0, sizeof *a);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_setmetatable(L, -2);
  lnuma_error err;
  lnuma_arena *arena = lnuma_arena_create(size, &o, &err);
  if (arena == NULL) return lnb_alloc_failure(L, 1, &err);
  a->region = lnb_region_new(L, lnuma_arena_buffer(arena));
  if (a->region == NULL) {
    lnuma_arena_destroy(arena);
    return luaL_error(L, "not enough memory");
  }
  a->region->refs = 1;
  a->arena = arena;
  a->base = lnuma_buffer_data(lnuma_arena_buffer(arena));
  return 1;
}

void lnuma_open_arena(lua_State *L) {
  static const luaL_Reg methods[] = {
      {"alloc", arena_alloc},         {"alloc_buffer", arena_alloc_buffer},
      {"get", arena_get},             {"set", arena_set},
      {"view", arena_view},           {"reset", arena_reset},
      {"used", arena_used},           {"capacity", arena_capacity},
      {"available", arena_available}, {"placement", arena_placement},
      {"info", arena_info},           {"free", arena_free},
      {NULL, NULL},
  };
  static const luaL_Reg metamethods[] = {
      {"__close", arena_free},       {"__gc", arena_free},
      {"__tostring", arena_tostring}, {"__lnuma_type", arena_type},
      {NULL, NULL},
  };
  luaL_newmetatable(L, LNB_ARENA);
  lua_pushvalue(L, -1);
  luaL_getmetatable(L, LNB_BUFFER);
  luaL_setfuncs(L, metamethods, 2);
  lua_createtable(L, 0, 14);
  lua_pushvalue(L, -2);
  luaL_getmetatable(L, LNB_BUFFER);
  luaL_setfuncs(L, methods, 2);
  lua_setfield(L, -2, "__index");
  lua_pushcclosure(L, mem_arena, 1); /* consumes the Arena metatable */
  lua_setfield(L, -2, "arena");
}
