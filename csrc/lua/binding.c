/* Argument checking shared by every binding file: options tables, sets,
 * sizes, and the nil/message/errno convention for environment failures. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "binding.h"

int lnb_opterror(lua_State *L, int arg, const char *key, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lua_pushstring(L, key);
  lua_pushliteral(L, ": ");
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_concat(L, 3);
  return luaL_argerror(L, arg, lua_tostring(L, -1));
}

int lnb_check_options(lua_State *L, int arg, const char *const known[], int optional) {
  if (optional && lua_isnoneornil(L, arg)) return 0;
  luaL_checktype(L, arg, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, arg) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) {
      lua_pushfstring(L, "option keys must be strings, got %s", luaL_typename(L, -1));
      return luaL_argerror(L, arg, lua_tostring(L, -1));
    }
    const char *key = lua_tostring(L, -1);
    int found = 0;
    for (int i = 0; known[i] != NULL; i++)
      if (strcmp(known[i], key) == 0) found = 1;
    if (!found) {
      lua_pushfstring(L, "unknown option '%s'", key);
      return luaL_argerror(L, arg, lua_tostring(L, -1));
    }
  }
  return 1;
}

void lnb_to_set(lua_State *L, int idx, int arg, const char *what, lnuma_set *out) {
  idx = lua_absindex(L, idx);
  lnuma_set_zero(out);
  switch (lua_type(L, idx)) {
  case LUA_TNUMBER: {
    int isint = 0;
    lua_Integer i = lua_tointegerx(L, idx, &isint);
    if (!isint || i < 0 || i >= LNUMA_SET_BITS)
      lnb_opterror(L, arg, what, "%s is not a valid index", lua_tostring(L, idx));
    lnuma_set_add(out, (int)i);
    return;
  }
  case LUA_TSTRING: {
    lnuma_error err;
    if (lnuma_set_parse(out, lua_tostring(L, idx), &err) != 0)
      lnb_opterror(L, arg, what, "%s", err.msg);
    return;
  }
  case LUA_TTABLE: {
    lua_Integer n = luaL_len(L, idx);
    for (lua_Integer k = 1; k <= n; k++) {
      lua_geti(L, idx, k);
      int isint = 0;
      lua_Integer i = lua_tointegerx(L, -1, &isint);
      if (!isint || i < 0 || i >= LNUMA_SET_BITS)
        lnb_opterror(L, arg, what, "element %d is %s, not a valid index", (int)k,
                     lua_type(L, -1) == LUA_TNUMBER ? lua_tostring(L, -1)
                                                    : luaL_typename(L, -1));
      lnuma_set_add(out, (int)i);
      lua_pop(L, 1);
    }
    return;
  }
  default:
    lnb_opterror(L, arg, what, "expected an array, a list string such as \"0-3,8\" or an "
                 "integer, got %s", luaL_typename(L, idx));
  }
}

size_t lnb_to_size(lua_State *L, int idx, int arg, const char *what) {
  if (lua_type(L, idx) == LUA_TNUMBER) {
    int isint = 0;
    lua_Integer v = lua_tointegerx(L, idx, &isint);
    if (!isint) lnb_opterror(L, arg, what, "size must be an integer number of bytes");
    if (v < 0) lnb_opterror(L, arg, what, "size must not be negative");
    return (size_t)v;
  }
  if (lua_type(L, idx) == LUA_TSTRING) {
    size_t out;
    lnuma_error err;
    if (lnuma_parse_size(lua_tostring(L, idx), &out, &err) != 0)
      lnb_opterror(L, arg, what, "%s", err.msg);
    return out;
  }
  lnb_opterror(L, arg, what, "expected a size (bytes or a string like \"64M\"), got %s",
               luaL_typename(L, idx));
  return 0;
}

/* Pushes opts[key]; returns 0 (and pops it) when absent. */
static int get_field(lua_State *L, int arg, const char *key) {
  if (lua_type(L, arg) != LUA_TTABLE) return 0;
  if (lua_getfield(L, arg, key) == LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}

int lnb_field_set(lua_State *L, int arg, const char *key, lnuma_set *out) {
  if (!get_field(L, arg, key)) return 0;
  lnb_to_set(L, -1, arg, key, out);
  lua_pop(L, 1);
  return 1;
}

int lnb_field_size(lua_State *L, int arg, const char *key, size_t *out) {
  if (!get_field(L, arg, key)) return 0;
  *out = lnb_to_size(L, -1, arg, key);
  lua_pop(L, 1);
  return 1;
}

int lnb_field_integer(lua_State *L, int arg, const char *key, lua_Integer *out) {
  if (!get_field(L, arg, key)) return 0;
  int isint = 0;
  *out = lua_tointegerx(L, -1, &isint);
  if (!isint || lua_type(L, -1) != LUA_TNUMBER)
    lnb_opterror(L, arg, key, "integer expected, got %s",
                 lua_type(L, -1) == LUA_TNUMBER ? "a fraction" : luaL_typename(L, -1));
  lua_pop(L, 1);
  return 1;
}

int lnb_field_number(lua_State *L, int arg, const char *key, lua_Number *out) {
  if (!get_field(L, arg, key)) return 0;
  if (lua_type(L, -1) != LUA_TNUMBER)
    lnb_opterror(L, arg, key, "number expected, got %s", luaL_typename(L, -1));
  *out = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return 1;
}

int lnb_field_boolean(lua_State *L, int arg, const char *key, int *out) {
  if (!get_field(L, arg, key)) return 0;
  if (lua_type(L, -1) != LUA_TBOOLEAN)
    lnb_opterror(L, arg, key, "boolean expected, got %s", luaL_typename(L, -1));
  *out = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return 1;
}

int lnb_field_option(lua_State *L, int arg, const char *key, const char *const options[]) {
  if (!get_field(L, arg, key)) return -1;
  if (lua_type(L, -1) != LUA_TSTRING)
    lnb_opterror(L, arg, key, "string expected, got %s", luaL_typename(L, -1));
  const char *v = lua_tostring(L, -1);
  for (int i = 0; options[i] != NULL; i++)
    if (strcmp(options[i], v) == 0) {
      lua_pop(L, 1);
      return i;
    }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 0; options[i] != NULL; i++) {
    if (i > 0) luaL_addstring(&b, ", ");
    luaL_addchar(&b, '"');
    luaL_addstring(&b, options[i]);
    luaL_addchar(&b, '"');
  }
  luaL_pushresult(&b);
  return lnb_opterror(L, arg, key, "invalid value '%s' (expected one of %s)", v,
                      lua_tostring(L, -1));
}

const char *lnb_field_string(lua_State *L, int arg, const char *key) {
  if (!get_field(L, arg, key)) return NULL;
  if (lua_type(L, -1) != LUA_TSTRING)
    lnb_opterror(L, arg, key, "string expected, got %s", luaL_typename(L, -1));
  const char *s = lua_tostring(L, -1);
  lua_pop(L, 1); /* still referenced by the options table */
  return s;
}

void lnb_push_set(lua_State *L, const lnuma_set *set) {
  lua_createtable(L, lnuma_set_count(set), 0);
  lua_Integer k = 1;
  for (int i = lnuma_set_next(set, -1); i >= 0; i = lnuma_set_next(set, i)) {
    lua_pushinteger(L, i);
    lua_rawseti(L, -2, k++);
  }
}

int lnb_fail(lua_State *L, const lnuma_error *err) {
  luaL_pushfail(L);
  lua_pushstring(L, err->msg);
  lua_pushinteger(L, err->code);
  return 3;
}

void lnb_new_class(lua_State *L, const char *tname, const luaL_Reg *methods,
                   const luaL_Reg *metamethods) {
  if (luaL_newmetatable(L, tname)) {
    if (metamethods != NULL) luaL_setfuncs(L, metamethods, 0);
    if (methods != NULL) {
      int n = 0;
      while (methods[n].name != NULL) n++;
      lua_createtable(L, 0, n);
      luaL_setfuncs(L, methods, 0);
      lua_setfield(L, -2, "__index");
    }
  }
}
