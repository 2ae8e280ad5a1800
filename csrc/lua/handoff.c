/* lnuma_lua.h: memory a C host allocated, handed to Lua as the same
 * "lnuma.Buffer" and "lnuma.Pool" userdata lnuma.alloc and lnuma.pool make
 * (so every method works on it), either given away (Lua frees it) or lent
 * (the host frees it).  The buffer and pool bindings do the rest. */
#include "buffer.h"
#include "lnuma_lua.h"

/* Makes sure lnuma.core is open in this state (its metatables exist). */
static void need_core(lua_State *L) {
  if (luaL_getmetatable(L, LNB_POOL) == LUA_TNIL) {
    luaL_requiref(L, "lnuma.core", luaopen_lnuma_core, 0);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

void lnuma_lua_push_buffer(lua_State *L, lnuma_buffer *buf, int mode) {
  int give = mode == LNUMA_LUA_GIVE;
  luaL_checkstack(L, 3, NULL);
  need_core(L);
  luaL_getmetatable(L, LNB_BUFFER);
  /* Given away, it is a root (free() unmaps it); lent, it is like a view
   * (free() only lets go of it).  The handle first: it frees nothing if
   * making it fails. */
  lnb_buffer *b = lnb_buffer_push(L, -1, give ? LNB_ROOT : LNB_VIEW, 0);
  lua_remove(L, -2);
  lnb_region *r = lnb_region_new(L, buf);
  if (r == NULL) {
    if (give) lnuma_buffer_free(buf);
    luaL_error(L, "not enough memory");
    return;
  }
  lnb_buffer_attach(b, r, lnuma_buffer_data(buf), lnuma_buffer_size(buf));
}

void lnuma_lua_push_pool(lua_State *L, lnuma_pool *pool, int mode) {
  luaL_checkstack(L, 3, NULL);
  need_core(L);
  lnb_pool_push(L, pool, mode != LNUMA_LUA_GIVE);
}
