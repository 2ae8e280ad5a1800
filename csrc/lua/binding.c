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

/* Longest array a copy reads through __len/__index (the checks that follow
 * bound each kind tighter). */
#define MAX_COPY 1000000

lua_Integer lnb_array(lua_State *L, int idx, int arg, const char *what, lua_Integer max) {
  idx = lua_absindex(L, idx);
  if (max > MAX_COPY) max = MAX_COPY;
  if (lua_getmetatable(L, idx)) {
    lua_pop(L, 1);
    lua_Integer n = luaL_len(L, idx); /* runs __len */
    if (n > max) lnb_opterror(L, arg, what, "%I elements, more than the %I allowed", n, max);
    lua_createtable(L, n > 0 ? (int)n : 0, 0);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_geti(L, idx, i); /* runs __index */
      lua_rawseti(L, -2, i);
    }
    lua_replace(L, idx);
  }
  lua_Unsigned n = (lua_Unsigned)lua_rawlen(L, idx);
  if (n > (lua_Unsigned)max)
    lnb_opterror(L, arg, what, "%I elements, more than the %I allowed", (lua_Integer)n, max);
  return (lua_Integer)n;
}

const char *lnb_to_text(lua_State *L, int idx, int arg, const char *what, size_t *len) {
  if (lua_type(L, idx) != LUA_TSTRING)
    lnb_opterror(L, arg, what, "string expected, got %s", luaL_typename(L, idx));
  size_t n;
  const char *s = lua_tolstring(L, idx, &n);
  size_t c = strlen(s);
  if (c != n) lnb_opterror(L, arg, what, "the string holds a NUL byte at offset %I", (lua_Integer)c);
  if (len != NULL) *len = n;
  return s;
}

/* 1 when the value at idx is a table with a metatable. */
static int has_metatable(lua_State *L, int idx) {
  if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx)) return 0;
  lua_pop(L, 1);
  return 1;
}

/* Option keys whose value is a table keyed by node number (from 0), not an
 * array: a copy reads them with lnb_node_map. */
static const char *const node_maps[] = {"weights", NULL};

static int is_node_map(const char *key) {
  for (int i = 0; node_maps[i] != NULL; i++)
    if (strcmp(node_maps[i], key) == 0) return 1;
  return 0;
}

void lnb_node_map(lua_State *L, int idx, int arg, const char *what) {
  idx = lua_absindex(L, idx);
  if (!has_metatable(L, idx)) return;
  /* Its own keys first, raw (no Lua runs): node numbers only. */
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    lua_Integer k = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
    if (k < 0 || k >= LNUMA_MAX_NODES)
      lnb_opterror(L, arg, what, "key %s is not a node number (0..%d)",
                   lua_type(L, -1) == LUA_TNUMBER ? lua_tostring(L, -1)
                                                  : luaL_typename(L, -1),
                   LNUMA_MAX_NODES - 1);
  }
  /* Then every node as Lua code sees it (through __index). */
  lua_createtable(L, 0, 4);
  for (lua_Integer n = 0; n < LNUMA_MAX_NODES; n++) {
    if (lua_geti(L, idx, n) == LUA_TNIL) {
      lua_pop(L, 1);
      continue;
    }
    lua_rawseti(L, -2, n);
  }
  lua_replace(L, idx);
}

/* Replaces the options table at arg by a plain copy of its known keys (read
 * through __index), their table values plain too, when it or one of those
 * values has a metatable.  The one place where reading options runs Lua. */
static void plain_options(lua_State *L, int arg, const char *const known[]) {
  int copy = has_metatable(L, arg), n = 0;
  for (; known[n] != NULL; n++) {
    if (copy) continue;
    lua_pushstring(L, known[n]);
    lua_rawget(L, arg);
    copy = has_metatable(L, -1);
    lua_pop(L, 1);
  }
  if (!copy) return;
  lua_createtable(L, 0, n);
  for (int i = 0; i < n; i++) {
    if (lua_getfield(L, arg, known[i]) == LUA_TTABLE) { /* runs __index */
      if (is_node_map(known[i]))
        lnb_node_map(L, -1, arg, known[i]);
      else
        lnb_array(L, -1, arg, known[i], MAX_COPY);
    }
    lua_setfield(L, -2, known[i]); /* a plain table: runs nothing */
  }
  lua_replace(L, arg);
}

int lnb_check_options(lua_State *L, int arg, const char *const known[], int optional) {
  if (optional && lua_isnoneornil(L, arg)) return 0;
  luaL_checktype(L, arg, LUA_TTABLE);
  arg = lua_absindex(L, arg);
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
  plain_options(L, arg, known);
  return 1;
}

/* The set index at idx (an integer, or a string that reads as one), or an
 * error naming element k of what (k 0: what itself). */
static int check_index(lua_State *L, int idx, int arg, const char *what, lua_Integer k) {
  int isint = 0;
  lua_Integer i = lua_tointegerx(L, idx, &isint);
  if (isint && i >= 0 && i < LNUMA_SET_BITS) return (int)i;
  if (k == 0)
    lnb_opterror(L, arg, what, "%s is not a valid index (0..%d)",
                 lua_type(L, idx) == LUA_TNUMBER ? lua_tostring(L, idx) : luaL_typename(L, idx),
                 LNUMA_SET_BITS - 1);
  lnb_opterror(L, arg, what, "element %I is %s, not a valid index (0..%d)", k,
               lua_type(L, idx) == LUA_TNUMBER ? lua_tostring(L, idx) : luaL_typename(L, idx),
               LNUMA_SET_BITS - 1);
  return -1;
}

void lnb_to_set(lua_State *L, int idx, int arg, const char *what, lnuma_set *out) {
  idx = lua_absindex(L, idx);
  lnuma_set_zero(out);
  switch (lua_type(L, idx)) {
  case LUA_TNUMBER:
    lnuma_set_add(out, check_index(L, idx, arg, what, 0));
    return;
  case LUA_TSTRING: {
    lnuma_error err;
    if (lnuma_set_parse(out, lnb_to_text(L, idx, arg, what, NULL), &err) != 0)
      lnb_opterror(L, arg, what, "%s", err.msg);
    return;
  }
  case LUA_TTABLE: {
    lua_Integer n = lnb_array(L, idx, arg, what, LNUMA_SET_BITS);
    for (lua_Integer k = 1; k <= n; k++) {
      lua_rawgeti(L, idx, k);
      lnuma_set_add(out, check_index(L, -1, arg, what, k));
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
    const char *text = lnb_to_text(L, idx, arg, what, NULL);
    if (lnuma_parse_size(text, &out, &err) != 0) lnb_opterror(L, arg, what, "%s", err.msg);
    /* Sizes go back to Lua as integers: more would come back negative. */
    if (out > (size_t)LUA_MAXINTEGER)
      lnb_opterror(L, arg, what, "'%s' is too large (at most %I bytes)", text,
                   (lua_Integer)LUA_MAXINTEGER);
    return out;
  }
  lnb_opterror(L, arg, what, "expected a size (bytes or a string like \"64M\"), got %s",
               luaL_typename(L, idx));
  return 0;
}

lnuma_huge lnb_to_huge(lua_State *L, int idx, int arg, const char *what) {
  if (lua_type(L, idx) == LUA_TBOOLEAN)
    return lua_toboolean(L, idx) ? LNUMA_HUGE_THP : LNUMA_HUGE_NONE;
  if (lua_type(L, idx) != LUA_TSTRING)
    lnb_opterror(L, arg, what, "expected true, false or a page kind such as \"thp\" or \"2M\", "
                 "got %s", luaL_typename(L, idx));
  lnuma_huge out;
  lnuma_error err;
  if (lnuma_huge_parse(lnb_to_text(L, idx, arg, what, NULL), &out, &err) != 0)
    lnb_opterror(L, arg, what, "%s", err.msg);
  return out;
}

int lnb_field_push(lua_State *L, int arg, const char *key) {
  if (lua_type(L, arg) != LUA_TTABLE) return LUA_TNIL;
  lua_pushstring(L, key);
  int t = lua_rawget(L, arg);
  if (t == LUA_TNIL) lua_pop(L, 1);
  return t;
}

int lnb_field_set(lua_State *L, int arg, const char *key, lnuma_set *out) {
  if (lnb_field_push(L, arg, key) == LUA_TNIL) return 0;
  lnb_to_set(L, -1, arg, key, out);
  lua_pop(L, 1);
  return 1;
}

int lnb_field_size(lua_State *L, int arg, const char *key, size_t *out) {
  if (lnb_field_push(L, arg, key) == LUA_TNIL) return 0;
  *out = lnb_to_size(L, -1, arg, key);
  lua_pop(L, 1);
  return 1;
}

int lnb_field_integer(lua_State *L, int arg, const char *key, lua_Integer *out) {
  if (lnb_field_push(L, arg, key) == LUA_TNIL) return 0;
  int isint = 0;
  *out = lua_tointegerx(L, -1, &isint);
  if (!isint || lua_type(L, -1) != LUA_TNUMBER)
    lnb_opterror(L, arg, key, "integer expected, got %s",
                 lua_type(L, -1) == LUA_TNUMBER ? "a fraction" : luaL_typename(L, -1));
  lua_pop(L, 1);
  return 1;
}

int lnb_field_number(lua_State *L, int arg, const char *key, lua_Number *out) {
  if (lnb_field_push(L, arg, key) == LUA_TNIL) return 0;
  if (lua_type(L, -1) != LUA_TNUMBER)
    lnb_opterror(L, arg, key, "number expected, got %s", luaL_typename(L, -1));
  *out = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return 1;
}

int lnb_field_boolean(lua_State *L, int arg, const char *key, int *out) {
  if (lnb_field_push(L, arg, key) == LUA_TNIL) return 0;
  if (lua_type(L, -1) != LUA_TBOOLEAN)
    lnb_opterror(L, arg, key, "boolean expected, got %s", luaL_typename(L, -1));
  *out = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return 1;
}

int lnb_field_option(lua_State *L, int arg, const char *key, const char *const options[]) {
  if (lnb_field_push(L, arg, key) == LUA_TNIL) return -1;
  size_t n;
  const char *v = lnb_to_text(L, -1, arg, key, &n);
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

int lnb_field_text(lua_State *L, int arg, const char *key, char *out, size_t cap) {
  out[0] = '\0';
  if (lnb_field_push(L, arg, key) == LUA_TNIL) return 0;
  size_t n;
  const char *s = lnb_to_text(L, -1, arg, key, &n);
  if (n >= cap)
    lnb_opterror(L, arg, key, "%I bytes, more than the %I allowed", (lua_Integer)n,
                 (lua_Integer)(cap - 1));
  memcpy(out, s, n + 1);
  lua_pop(L, 1);
  return 1;
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

void lnb_set_int(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

void lnb_set_num(lua_State *L, const char *k, lua_Number v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, k);
}

void lnb_set_str(lua_State *L, const char *k, const char *v) {
  if (v == NULL) return;
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

void lnb_set_bool(lua_State *L, const char *k, int v) {
  lua_pushboolean(L, v);
  lua_setfield(L, -2, k);
}

void lnb_push_thread(lua_State *L, const lnuma_team_thread *t) {
  lua_createtable(L, 0, 5);
  lnb_set_int(L, "cpu_asked", t->cpu_asked);
  lnb_set_int(L, "cpu_start", t->cpu_start);
  lnb_set_int(L, "cpu_end", t->cpu_end);
  lnb_set_int(L, "node", t->node);
  lnb_set_bool(L, "migrated", t->migrated);
}

void lnb_push_threads(lua_State *L, const lnuma_team_thread *t, int n) {
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lnb_push_thread(L, &t[i]);
    lua_rawseti(L, -2, i + 1);
  }
}
