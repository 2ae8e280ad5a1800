/* Bindings of the set, size and page-kind readers: lnuma.cpulist, lnuma.size
 * and lnuma.core.huge. */
#include "binding.h"

/* cpulist(array) -> "0-3,8"; cpulist("0-3,8") -> {0, 1, 2, 3, 8}. */
static int set_cpulist(lua_State *L) {
  lnuma_set set;
  int to_text = lua_type(L, 1) == LUA_TTABLE || lua_type(L, 1) == LUA_TNUMBER;
  if (!to_text && lua_type(L, 1) != LUA_TSTRING)
    return luaL_typeerror(L, 1, "table, string or integer");
  lnb_to_set(L, 1, 1, "list", &set);
  if (!to_text) {
    lnb_push_set(L, &set);
    return 1;
  }
  size_t need = lnuma_set_format(&set, NULL, 0);
  luaL_Buffer b;
  char *out = luaL_buffinitsize(L, &b, need + 1);
  lnuma_set_format(&set, out, need + 1);
  luaL_pushresultsize(&b, need);
  return 1;
}

/* size(x) -> integer bytes, accepting 4096, "64K", "2M", "1G". */
static int set_size(lua_State *L) {
  luaL_checkany(L, 1);
  lua_pushinteger(L, (lua_Integer)lnb_to_size(L, 1, 1, "size"));
  return 1;
}

/* huge(x) -> the page kind's name ("default", "none", "thp", "2M", "1G"):
 * the one reading of every `huge` option (lua/lnuma/options.lua). */
static int set_huge(lua_State *L) {
  luaL_checkany(L, 1);
  lua_pushstring(L, lnuma_huge_name(lnb_to_huge(L, 1, 1, "huge")));
  return 1;
}

void lnuma_open_util(lua_State *L) {
  static const luaL_Reg funcs[] = {
      {"cpulist", set_cpulist},
      {"size", set_size},
      {"huge", set_huge},
      {NULL, NULL},
  };
  luaL_setfuncs(L, funcs, 0);
}
