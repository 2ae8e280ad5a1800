/* One typed element read or written from Lua: the hot path that buf:get/set
 * and arena:get/set share.  Inline, so that each of those methods is one
 * function whose only calls are the Lua API's: no memcpy of a variable
 * width, no table lookup, no string compare.  What fails here is handed to
 * the method's slow path, which raises the error that names the argument.
 * Private to csrc/lua. */
#ifndef LNUMA_LUA_ELEMENT_H
#define LNUMA_LUA_ELEMENT_H

#include <string.h>

#include "buffer.h"

/* Bytes of an element of each kind, and their log2 (the hot path shifts
 * where it would divide). */
static const unsigned char lnb_kind_width[LNUMA_KIND_COUNT] = {1, 2, 4, 8, 1, 2, 4, 8, 4, 8};
static const unsigned char lnb_kind_shift[LNUMA_KIND_COUNT] = {0, 1, 2, 3, 0, 1, 2, 3, 2, 3};
/* The integers each integer kind holds (u64 takes the 64-bit pattern). */
static const lua_Integer lnb_kind_min[] = {0, 0, 0, LUA_MININTEGER, -128, -32768,
                                           -2147483647 - 1, LUA_MININTEGER};
static const lua_Integer lnb_kind_max[] = {255, 65535, 4294967295, LUA_MAXINTEGER, 127, 32767,
                                           2147483647, LUA_MAXINTEGER};

/* "u8".."f64" -> LNUMA_KIND_*, or -1, decoded from the bytes. */
static inline int lnb_decode_kind(const char *k, size_t n) {
  int step;
  if (n == 2 && k[1] == '8')
    step = 0;
  else if (n == 3 && k[1] == '1' && k[2] == '6')
    step = 1;
  else if (n == 3 && k[1] == '3' && k[2] == '2')
    step = 2;
  else if (n == 3 && k[1] == '6' && k[2] == '4')
    step = 3;
  else
    return -1;
  switch (k[0]) {
  case 'u': return LNUMA_KIND_U8 + step;
  case 'i': return LNUMA_KIND_I8 + step;
  case 'f': return step == 2 ? LNUMA_KIND_F32 : step == 3 ? LNUMA_KIND_F64 : -1;
  default: return -1;
  }
}

/* The kind named by the string at arg, or -1 (nothing raised).  One API
 * call: lua_tolstring turns a number argument into a string in place, which
 * is harmless, since no number names a kind.  That conversion allocates, so
 * a finalizer may run: check objects alive after this. */
static inline int lnb_peek_kind(lua_State *L, int arg) {
  size_t n = 0;
  const char *k = lua_tolstring(L, arg, &n);
  return k != NULL ? lnb_decode_kind(k, n) : -1;
}

/* The self check of the hot methods, whose closures hold their metatable as
 * upvalue 1: the userdata at idx, or an error naming tname.  The metatable
 * is left on the stack, above the arguments: a method that returns its
 * result from the top needs no pop.  It sits where a missing argument would
 * be, and it is a table, so the fast path takes it for no integer, number
 * or string and falls to the slow path; that pops it first (lua_pop(L, 1))
 * and then reads the arguments as they were passed. */
static inline void *lnb_hot_self(lua_State *L, int idx, const char *tname) {
  void *p = lua_touserdata(L, idx);
  if (p == NULL || !lua_getmetatable(L, idx) || !lua_rawequal(L, -1, lua_upvalueindex(1)))
    luaL_typeerror(L, idx, tname);
  return p;
}

/* Pushes the element of kind at p (integers for integer kinds, u64 as its
 * 64-bit pattern; floats for f32/f64).  p need not be aligned. */
static inline void lnb_push_elem(lua_State *L, int kind, const char *p) {
  switch (kind) {
  case LNUMA_KIND_U8: lua_pushinteger(L, *(const unsigned char *)p); return;
  case LNUMA_KIND_U16: { uint16_t v; memcpy(&v, p, 2); lua_pushinteger(L, v); return; }
  case LNUMA_KIND_U32: { uint32_t v; memcpy(&v, p, 4); lua_pushinteger(L, (lua_Integer)v); return; }
  case LNUMA_KIND_U64:
  case LNUMA_KIND_I64: { int64_t v; memcpy(&v, p, 8); lua_pushinteger(L, (lua_Integer)v); return; }
  case LNUMA_KIND_I8: lua_pushinteger(L, *(const signed char *)p); return;
  case LNUMA_KIND_I16: { int16_t v; memcpy(&v, p, 2); lua_pushinteger(L, v); return; }
  case LNUMA_KIND_I32: { int32_t v; memcpy(&v, p, 4); lua_pushinteger(L, v); return; }
  case LNUMA_KIND_F32: { float v; memcpy(&v, p, 4); lua_pushnumber(L, (lua_Number)v); return; }
  default: { double v; memcpy(&v, p, 8); lua_pushnumber(L, (lua_Number)v); return; }
  }
}

/* Stores the integer x (in the kind's range) or the number d (float kinds)
 * at p.  p need not be aligned. */
static inline void lnb_store_elem(int kind, lua_Integer x, lua_Number d, char *p) {
  switch (kind) {
  case LNUMA_KIND_U8:
  case LNUMA_KIND_I8: *(unsigned char *)p = (unsigned char)x; return;
  case LNUMA_KIND_U16:
  case LNUMA_KIND_I16: { uint16_t v = (uint16_t)x; memcpy(p, &v, 2); return; }
  case LNUMA_KIND_U32:
  case LNUMA_KIND_I32: { uint32_t v = (uint32_t)x; memcpy(p, &v, 4); return; }
  case LNUMA_KIND_F32: { float v = (float)d; memcpy(p, &v, 4); return; }
  case LNUMA_KIND_F64: { double v = (double)d; memcpy(p, &v, 8); return; }
  default: { int64_t v = (int64_t)x; memcpy(p, &v, 8); return; }
  }
}

/* Reads the value at arg for kind when it is the plain case (an integer in
 * range for an integer kind, a number for a float kind) into *x or *d: 1,
 * else 0 and the caller's slow path says what is wrong.  Two API calls. */
static inline int lnb_peek_value(lua_State *L, int kind, int arg, lua_Integer *x, lua_Number *d) {
  if (kind >= LNUMA_KIND_F32) {
    if (lua_type(L, arg) != LUA_TNUMBER) return 0;
    *d = lua_tonumber(L, arg);
    return 1;
  }
  if (!lua_isinteger(L, arg)) return 0; /* 3.0 and friends: the slow path */
  *x = lua_tointeger(L, arg);
  return *x >= lnb_kind_min[kind] && *x <= lnb_kind_max[kind];
}

/* The arguments of get/set(kind, at [, v]) (2, 3 and 4) as the hot path
 * reads them: the kind (-1: not one), the position (isint: it is an
 * integer) and, for set, the value when it is the plain case (plain). */
typedef struct lnb_elem_args {
  int kind, isint, plain;
  lua_Integer at, x;
  lua_Number d;
} lnb_elem_args;

static inline void lnb_read_elem_args(lua_State *L, int with_value, lnb_elem_args *a) {
  a->kind = lnb_peek_kind(L, 2);
  a->isint = 0;
  a->at = lua_tointegerx(L, 3, &a->isint);
  a->x = 0;
  a->d = 0;
  a->plain = with_value && a->kind >= 0 && lnb_peek_value(L, a->kind, 4, &a->x, &a->d);
}

/* The end of set once p, the element, was found: the value stored, checked
 * the slow way first when it was not the plain case (raises, or takes 3.0
 * as 3). */
static inline int lnb_finish_set(lua_State *L, lnb_elem_args *a, char *p) {
  if (!a->plain) {
    lua_pop(L, 1); /* lnb_hot_self's metatable: a missing value reads as none */
    lnb_check_value(L, a->kind, 2, 4, &a->x, &a->d);
  }
  lnb_store_elem(a->kind, a->x, a->d, p);
  return 0;
}

/* prefix_get(kind, at) and prefix_set(kind, at, v), the methods of a
 * userdata ctype with metatable tname, for a file that defines, before it
 * uses this, element_at(self, args) (the element's address, or NULL when the
 * arguments are not the plain case or out of range) and element_failed(L,
 * self) (raises the message that fits).  The element is found after every
 * conversion, since a conversion can run Lua code that frees self. */
#define LNB_ELEM_METHODS(prefix, ctype, tname)                                \
  static inline char *prefix##_find(lua_State *L, int with_value, lnb_elem_args *a, \
                                    ctype **self) {                           \
    *self = lnb_hot_self(L, 1, tname);                                        \
    lnb_read_elem_args(L, with_value, a);                                     \
    return element_at(*self, a);                                              \
  }                                                                           \
  static int prefix##_get(lua_State *L) {                                     \
    lnb_elem_args a;                                                          \
    ctype *self;                                                              \
    char *p = prefix##_find(L, 0, &a, &self);                                 \
    if (p == NULL) return element_failed(L, self);                            \
    lnb_push_elem(L, a.kind, p);                                              \
    return 1;                                                                 \
  }                                                                           \
  static int prefix##_set(lua_State *L) {                                     \
    lnb_elem_args a;                                                          \
    ctype *self;                                                              \
    char *p = prefix##_find(L, 1, &a, &self);                                 \
    return p != NULL ? lnb_finish_set(L, &a, p) : element_failed(L, self);    \
  }

#endif
