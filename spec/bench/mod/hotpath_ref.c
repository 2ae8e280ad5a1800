/* make bench: the references of spec/bench/hotpath.lua, as a Lua C module
 * (spec/bench/run builds spec/bench/mod/NAME.c into NAME.so on the bench's
 * LUA_CPATH), loaded by the interpreter the way a user's module would be.
 *
 *  - ref.new() -> a userdata whose methods (get, set, alloc, reset, put,
 *    record) do nothing: the cost of calling a C method from Lua, which
 *    lnuma's hot methods are measured against;
 *  - ref.checked() -> a userdata whose methods do no work but check their
 *    arguments the way a C method is written with the auxiliary library
 *    (luaL_checkudata on self, luaL_checkstring/checkinteger/checknumber
 *    on the rest) and return what the lnuma method returns (an integer, a
 *    userdata, nothing): a do-nothing method called the same way, as a
 *    new user writes one, the reference of the goals;
 *  - ref.floor() -> a userdata whose get(kind, i) does the least a checked
 *    binding must: check its self by the metatable in an upvalue, read a
 *    string and an integer, push an integer (no bounds, no memory): where
 *    the Lua C API itself costs more than the method's work, this floor
 *    says how close to it lnuma is;
 *  - plain C loops over memory given by address (buf:address()): a read
 *    (sum of u64), a fill (u64 store loop), memset and memcpy, the
 *    references of the typed-range methods. */
#include <lauxlib.h>
#include <lua.h>
#include <stdint.h>
#include <string.h>

int luaopen_hotpath_ref(lua_State *L);

static int nop(lua_State *L) {
  (void)L;
  return 0;
}

static int ref_new(lua_State *L) {
  lua_newuserdatauv(L, 16, 0);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_setmetatable(L, -2);
  return 1;
}

/* The floor of a checked get: the API calls any safe binding makes. */
static int floor_get(lua_State *L) {
  void *self = lua_touserdata(L, 1);
  if (self == NULL || !lua_getmetatable(L, 1) || !lua_rawequal(L, -1, lua_upvalueindex(1)))
    return luaL_typeerror(L, 1, "floor");
  lua_pop(L, 1);
  size_t n = 0;
  const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tolstring(L, 2, &n) : NULL;
  int isint = 0;
  lua_Integer i = lua_tointegerx(L, 3, &isint);
  if (k == NULL || !isint) return luaL_argerror(L, 2, "kind and index");
  lua_pushinteger(L, i + (lua_Integer)n);
  return 1;
}

static int ref_floor(lua_State *L) {
  lua_newuserdatauv(L, 16, 0);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_setmetatable(L, -2);
  return 1;
}

/* ---- ref.checked(): do-nothing methods, checked with the auxiliary library ---- */

#define CHECKED "hotpath_ref.checked"

static int checked_get(lua_State *L) { /* (kind, i) -> integer */
  luaL_checkudata(L, 1, CHECKED);
  luaL_checkstring(L, 2);
  lua_pushinteger(L, luaL_checkinteger(L, 3));
  return 1;
}

static int checked_set(lua_State *L) { /* (kind, i, v) */
  luaL_checkudata(L, 1, CHECKED);
  luaL_checkstring(L, 2);
  luaL_checkinteger(L, 3);
  luaL_checkinteger(L, 4);
  return 0;
}

static int checked_take(lua_State *L) { /* () -> an object (itself) */
  luaL_checkudata(L, 1, CHECKED);
  lua_settop(L, 1);
  return 1;
}

static int checked_put(lua_State *L) { /* (object) */
  luaL_checkudata(L, 1, CHECKED);
  luaL_checkudata(L, 2, CHECKED);
  return 0;
}

static int checked_alloc(lua_State *L) { /* (n) -> integer */
  luaL_checkudata(L, 1, CHECKED);
  lua_pushinteger(L, luaL_checkinteger(L, 2));
  return 1;
}

static int checked_reset(lua_State *L) {
  luaL_checkudata(L, 1, CHECKED);
  return 0;
}

static int ref_checked(lua_State *L) {
  lua_newuserdatauv(L, 16, 0);
  luaL_setmetatable(L, CHECKED);
  return 1;
}

static void *address(lua_State *L, int arg) {
  return (void *)(uintptr_t)luaL_checkinteger(L, arg);
}

/* ref.sum_u64(address, n) -> the sum of n u64 (wrapping, as C does). */
static int ref_sum_u64(lua_State *L) {
  const uint64_t *p = address(L, 1);
  size_t n = (size_t)luaL_checkinteger(L, 2);
  uint64_t s = 0;
  for (size_t i = 0; i < n; i++) s += p[i];
  lua_pushinteger(L, (lua_Integer)s);
  return 1;
}

/* ref.fill_u64(address, n, v): a plain store loop. */
static int ref_fill_u64(lua_State *L) {
  uint64_t *p = address(L, 1);
  size_t n = (size_t)luaL_checkinteger(L, 2);
  uint64_t v = (uint64_t)luaL_checkinteger(L, 3);
  for (size_t i = 0; i < n; i++) p[i] = v;
  return 0;
}

/* ref.memset(address, byte, bytes) */
static int ref_memset(lua_State *L) {
  memset(address(L, 1), (int)luaL_checkinteger(L, 2), (size_t)luaL_checkinteger(L, 3));
  return 0;
}

/* ref.memcpy(dst_address, src_address, bytes) */
static int ref_memcpy(lua_State *L) {
  memcpy(address(L, 1), address(L, 2), (size_t)luaL_checkinteger(L, 3));
  return 0;
}

int luaopen_hotpath_ref(lua_State *L) {
  static const luaL_Reg methods[] = {{"get", nop},   {"set", nop}, {"alloc", nop},
                                     {"reset", nop}, {"put", nop}, {"record", nop},
                                     {NULL, NULL}};
  static const luaL_Reg funcs[] = {{"sum_u64", ref_sum_u64}, {"fill_u64", ref_fill_u64},
                                   {"memset", ref_memset},   {"memcpy", ref_memcpy},
                                   {NULL, NULL}};
  luaL_newlib(L, funcs);
  lua_newtable(L); /* the metatable */
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pushcclosure(L, ref_new, 1);
  lua_setfield(L, -2, "new");
  lua_newtable(L); /* the floor's metatable, an upvalue of its get */
  lua_newtable(L);
  lua_pushvalue(L, -2);
  lua_pushcclosure(L, floor_get, 1);
  lua_setfield(L, -2, "get");
  lua_setfield(L, -2, "__index");
  lua_pushcclosure(L, ref_floor, 1);
  lua_setfield(L, -2, "floor");
  static const luaL_Reg checked[] = {{"get", checked_get},     {"set", checked_set},
                                     {"take", checked_take},   {"put", checked_put},
                                     {"alloc", checked_alloc}, {"reset", checked_reset},
                                     {NULL, NULL}};
  luaL_newmetatable(L, CHECKED);
  luaL_newlib(L, checked);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_pushcfunction(L, ref_checked);
  lua_setfield(L, -2, "checked");
  return 1;
}
