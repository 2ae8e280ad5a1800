/* Pools from Lua: lnuma.pool{...} and the methods of "lnuma.Pool".
 * pool:get() hands out an object as a "lnuma.Buffer" view of its slot; the
 * view of each slot is made once and kept in the pool's user value, so that
 * get/put allocate nothing after the first round.  A view put back has
 * length 0 (using it is an error) until get hands it out again.  Method
 * closures hold the Pool metatable (upvalue 1) and the Buffer metatable
 * (upvalue 2). */
#include <errno.h>
#include <string.h>

#include "element.h"

typedef struct lnb_pool {
  lnuma_pool *pool; /* NULL once freed */
  lnb_region *region;
  int borrowed;     /* 1: a C host owns the pool (lnb_pool_push); free() lets go */
} lnb_pool;

static lnb_pool *to_pool(lua_State *L, int idx) {
  lnb_pool *p = lua_touserdata(L, idx);
  if (p == NULL || !lua_getmetatable(L, idx)) luaL_typeerror(L, idx, LNB_POOL);
  if (!lua_rawequal(L, -1, lua_upvalueindex(1))) luaL_typeerror(L, idx, LNB_POOL);
  lua_pop(L, 1);
  return p;
}

static lnb_pool *live_pool(lua_State *L, int idx) {
  lnb_pool *p = to_pool(L, idx);
  if (p->pool == NULL) luaL_error(L, "attempt to use a freed pool");
  return p;
}

/* pool:get() -> an object (a buffer view of its slot), or nil when none is
 * left.  Allocates only the first time a slot is handed out. */
static int pool_get(lua_State *L) {
  lnb_pool *p = lnb_hot_self(L, 1, LNB_POOL); /* the hot path: no pop */
  if (p->pool == NULL) return luaL_error(L, "attempt to use a freed pool");
  lua_getiuservalue(L, 1, 1); /* slot -> view */
  char *obj = lnuma_pool_get(p->pool);
  if (obj == NULL) {
    lua_pushnil(L);
    return 1;
  }
  long slot = lnuma_pool_index(p->pool, obj);
  if (lua_rawgeti(L, -1, (lua_Integer)slot + 1) == LUA_TUSERDATA) {
    lnb_buffer *v = lua_touserdata(L, -1);
    v->len = v->full;
    return 1;
  }
  lua_pop(L, 1);
  /* A new view: allocating may run a finalizer, which may free the pool
   * (the object goes with it) or put back nothing (it is not handed out). */
  lnb_buffer *v = lnb_buffer_push(L, lua_upvalueindex(2), LNB_SLOT, 1);
  live_pool(L, 1);
  lnb_buffer_attach(v, p->region, obj, lnuma_pool_object_size(p->pool));
  v->slot = (size_t)slot;
  lua_pushvalue(L, -1);
  lua_rawseti(L, -3, (lua_Integer)slot + 1);
  return 1;
}

/* pool:put(obj) gives an object back; a double put or an object of another
 * pool is an error. */
static int pool_put(lua_State *L) {
  int top = lua_gettop(L);
  lnb_pool *p = lnb_hot_self(L, 1, LNB_POOL); /* the hot path: no pop */
  if (p->pool == NULL) return luaL_error(L, "attempt to use a freed pool");
  lnb_buffer *v = lua_touserdata(L, 2);
  if (top < 2 || v == NULL || !lua_getmetatable(L, 2) ||
      !lua_rawequal(L, -1, lua_upvalueindex(2))) {
    lua_settop(L, top); /* what the checks pushed goes: a missing argument is none */
    return luaL_typeerror(L, 2, LNB_BUFFER);
  }
  if (!(v->flags & LNB_SLOT) || v->region != p->region)
    return luaL_argerror(L, 2, "not an object of this pool");
  if (v->len == 0) return luaL_argerror(L, 2, "object is already in the pool (double put)");
  lnuma_error err;
  if (lnuma_pool_put(p->pool, v->ptr, &err) != 0) return luaL_argerror(L, 2, err.msg);
  v->len = 0;
  v->issue++; /* views taken of it die */
  return 0;
}

static int pool_available(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lnuma_pool_available(live_pool(L, 1)->pool));
  return 1;
}

static int pool_count(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lnuma_pool_count(live_pool(L, 1)->pool));
  return 1;
}

static int pool_object_size(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lnuma_pool_object_size(live_pool(L, 1)->pool));
  return 1;
}

static int pool_stride(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lnuma_pool_stride(live_pool(L, 1)->pool));
  return 1;
}

/* pool:placement([opts]): where the pool's pages are (as buf:placement). */
static void pool_range(lua_State *L, lnb_range *r) {
  lnuma_buffer *buf = lnuma_pool_buffer(live_pool(L, 1)->pool);
  r->ptr = lnuma_buffer_data(buf);
  r->len = lnuma_buffer_size(buf);
  r->page_size = lnuma_buffer_info_of(buf)->page_size;
}

static int pool_placement(lua_State *L) {
  to_pool(L, 1);
  lnb_placement_opts o;
  lnb_read_placement_opts(L, 2, &o); /* may run Lua: before the pool is checked */
  return lnb_push_placement(L, &o, pool_range);
}

static int pool_info(lua_State *L) {
  lnb_push_info(L, lnuma_pool_buffer(live_pool(L, 1)->pool));
  return 1;
}

/* free(), __close, __gc: unmaps the pool (its objects then refuse to work). */
static int pool_free(lua_State *L) {
  lnb_pool *p = to_pool(L, 1);
  if (p->pool == NULL) return 0;
  if (!p->borrowed) lnuma_pool_destroy(p->pool);
  p->pool = NULL;
  p->region->alive = 0;
  p->region->buf = NULL;
  lnb_region_release(p->region);
  p->region = NULL;
  return 0;
}

static int pool_tostring(lua_State *L) {
  lnb_pool *p = to_pool(L, 1);
  lnuma_placement *pl = lua_newuserdatauv(L, sizeof *pl, 0); /* before the check */
  if (p->pool == NULL) {
    lua_pushliteral(L, "lnuma.Pool (freed)");
    return 1;
  }
  /* Copied before the first allocation (a finalizer may free the pool). */
  lnuma_buffer *buf = lnuma_pool_buffer(p->pool);
  lua_Integer available = (lua_Integer)lnuma_pool_available(p->pool);
  lua_Integer count = (lua_Integer)lnuma_pool_count(p->pool);
  lua_Integer size = (lua_Integer)lnuma_pool_object_size(p->pool);
  lnb_push_placement_text(L, pl, lnuma_buffer_info_of(buf)->page_size,
                          lnuma_buffer_data(buf), lnuma_buffer_size(buf));
  lua_pushfstring(L, "lnuma.Pool (%I of %I objects of %I bytes free, pages %s)", available,
                  count, size, lua_tostring(L, -1));
  return 1;
}

static int pool_type(lua_State *L) {
  lua_pushstring(L, to_pool(L, 1)->pool != NULL ? "pool" : "freed pool");
  return 1;
}

/* lnuma.pool{size =, count =, [align =,] node =, ...} -> pool, or nil, message, errno. */
static int mem_pool(lua_State *L) {
  static const char *const extra[] = {"size", "count", "align", NULL};
  luaL_checktype(L, 1, LUA_TTABLE);
  lnuma_alloc_opts o;
  lnb_read_alloc_opts(L, 1, &o, extra);
  size_t size = 0;
  lua_Integer count = 0, align = 0;
  if (!lnb_field_size(L, 1, "size", &size)) lnb_opterror(L, 1, "size", "required");
  if (size == 0) lnb_opterror(L, 1, "size", "must be positive");
  if (!lnb_field_integer(L, 1, "count", &count)) lnb_opterror(L, 1, "count", "required");
  if (count <= 0) lnb_opterror(L, 1, "count", "must be positive");
  if (lnb_field_integer(L, 1, "align", &align) &&
      (align < 8 || align > 4096 || (align & (align - 1)) != 0))
    lnb_opterror(L, 1, "align", "must be a power of two from 8 to 4096");
  if ((lua_Unsigned)count > (lua_Unsigned)(LUA_MAXINTEGER / (lua_Integer)size))
    lnb_opterror(L, 1, "count", "%I objects of %I bytes do not fit in memory", count,
                 (lua_Integer)size);
  lnb_check_alloc(L, 1, size * (size_t)count, &o);
  lnb_pool *p = lua_newuserdatauv(L, sizeof *p, 1);
  memset(p, 0, sizeof *p);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_setmetatable(L, -2);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 1);
  lnuma_error err;
  lnuma_pool *pool = lnuma_pool_create(size, (size_t)count, (size_t)align, &o, &err);
  if (pool == NULL) return lnb_alloc_failure(L, 1, &err);
  p->region = lnb_region_new(L, lnuma_pool_buffer(pool));
  if (p->region == NULL) {
    lnuma_pool_destroy(pool);
    return luaL_error(L, "not enough memory");
  }
  p->region->refs = 1;
  p->pool = pool;
  return 1;
}

void lnb_pool_push(lua_State *L, lnuma_pool *pool, int borrowed) {
  luaL_checkstack(L, 3, NULL);
  lnb_pool *p = lua_newuserdatauv(L, sizeof *p, 1);
  memset(p, 0, sizeof *p);
  luaL_setmetatable(L, LNB_POOL);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 1);
  p->region = lnb_region_new(L, lnuma_pool_buffer(pool));
  if (p->region == NULL) {
    if (!borrowed) lnuma_pool_destroy(pool);
    luaL_error(L, "not enough memory");
    return;
  }
  p->region->refs = 1;
  p->pool = pool;
  p->borrowed = borrowed;
}

void lnuma_open_pool(lua_State *L) {
  static const luaL_Reg methods[] = {
      {"get", pool_get},
      {"put", pool_put},
      {"available", pool_available},
      {"count", pool_count},
      {"object_size", pool_object_size},
      {"stride", pool_stride},
      {"placement", pool_placement},
      {"info", pool_info},
      {"free", pool_free},
      {NULL, NULL},
  };
  static const luaL_Reg metamethods[] = {
      {"__close", pool_free},       {"__gc", pool_free},
      {"__tostring", pool_tostring}, {"__lnuma_type", pool_type},
      {NULL, NULL},
  };
  luaL_newmetatable(L, LNB_POOL);
  lua_pushvalue(L, -1);
  luaL_getmetatable(L, LNB_BUFFER);
  luaL_setfuncs(L, metamethods, 2);
  lua_createtable(L, 0, 10);
  lua_pushvalue(L, -2);
  luaL_getmetatable(L, LNB_BUFFER);
  luaL_setfuncs(L, methods, 2);
  lua_setfield(L, -2, "__index");
  lua_pushcclosure(L, mem_pool, 1); /* consumes the Pool metatable */
  lua_setfield(L, -2, "pool");
}
