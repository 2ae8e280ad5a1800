/* lnuma_lua.h: opening lnuma into a host's lua_State without search paths. */
#include <lauxlib.h>

#include "host.h"
#include "lnuma_lua.h"

/* package.preload loader of one embedded file (upvalue 1). */
static int load_embedded(lua_State *L) {
  const lnuma__lua_file *file = lua_touserdata(L, lua_upvalueindex(1));
  if (luaL_loadbufferx(L, (const char *)file->text, file->len, file->chunkname, "t") != LUA_OK)
    return lua_error(L);
  lua_insert(L, 1); /* the chunk gets the loader's arguments (name, ":preload:") */
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

void lnuma_lua_preload(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (const lnuma__lua_file *f = lnuma__lua_files; f->module != NULL; f++) {
    lua_pushlightuserdata(L, (void *)f);
    lua_pushcclosure(L, load_embedded, 1);
    lua_setfield(L, -2, f->module);
  }
  lua_pushcfunction(L, luaopen_lnuma_core);
  lua_setfield(L, -2, "lnuma.core");
  lua_pop(L, 1);
}
