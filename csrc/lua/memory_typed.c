/* Typed access to buffers: buf:get/set of one element, and the typed-range
 * methods buf:sum/min/max/fill that run a core loop (csrc/core/bulk.c) over
 * [first, first+n) elements instead of a Lua loop.  memory.c holds the
 * userdata itself.  Methods have the Buffer metatable as upvalue 1; get and
 * set allocate nothing and build no string unless they fail. */
#include <errno.h>
#include <string.h>

#include "buffer.h"

static const unsigned char kind_width[LNUMA_KIND_COUNT] = {1, 2, 4, 8, 1, 2, 4, 8, 4, 8};
/* log2 of the width: the hot path shifts where it would divide. */
static const unsigned char kind_shift[LNUMA_KIND_COUNT] = {0, 1, 2, 3, 0, 1, 2, 3, 2, 3};

/* "u8".."f64" -> LNUMA_KIND_*, or -1; decoded from the bytes (the hot path
 * of get/set: no table lookup, no string compare loop). */
static inline int decode_kind(const char *k, size_t n) {
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

static inline int kind_at(lua_State *L, int arg) {
  size_t n;
  const char *k = lua_type(L, arg) == LUA_TSTRING ? lua_tolstring(L, arg, &n) : NULL;
  int kind = k != NULL ? decode_kind(k, n) : -1;
  if (kind < 0)
    luaL_argerror(L, arg, "kind must be one of u8, u16, u32, u64, i8, i16, i32, i64, f32, f64");
  return kind;
}

int lnb_check_kind(lua_State *L, int arg) { return kind_at(L, arg); }

/* ---- one element ---------------------------------------------------------- */

/* The address of element i (argument 3) of kind, or an error naming it. */
static char *element(lua_State *L, lnb_buffer *b, int kind) {
  int isint = 0;
  lua_Integer i = lua_tointegerx(L, 3, &isint);
  unsigned shift = kind_shift[kind];
  size_t w = kind_width[kind];
  if (isint && (lua_Unsigned)i < (b->len >> shift)) return b->ptr + ((size_t)i << shift);
  if (!isint) luaL_argerror(L, 3, "index must be an integer");
  lua_pushfstring(L, "index %I out of range (0..%I for %I-byte elements)", i,
                  (lua_Integer)(b->len / w) - 1, (lua_Integer)w);
  luaL_argerror(L, 3, lua_tostring(L, -1));
  return NULL;
}

void lnb_push_element(lua_State *L, int kind, const char *p) {
  union {
    uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64;
    int8_t i8; int16_t i16; int32_t i32; int64_t i64; float f32; double f64;
  } v;
  memcpy(&v, p, kind_width[kind]);
  switch (kind) {
  case LNUMA_KIND_U8: lua_pushinteger(L, v.u8); break;
  case LNUMA_KIND_U16: lua_pushinteger(L, v.u16); break;
  case LNUMA_KIND_U32: lua_pushinteger(L, (lua_Integer)v.u32); break;
  case LNUMA_KIND_U64: lua_pushinteger(L, (lua_Integer)v.u64); break;
  case LNUMA_KIND_I8: lua_pushinteger(L, v.i8); break;
  case LNUMA_KIND_I16: lua_pushinteger(L, v.i16); break;
  case LNUMA_KIND_I32: lua_pushinteger(L, v.i32); break;
  case LNUMA_KIND_I64: lua_pushinteger(L, (lua_Integer)v.i64); break;
  case LNUMA_KIND_F32: lua_pushnumber(L, (lua_Number)v.f32); break;
  default: lua_pushnumber(L, (lua_Number)v.f64); break;
  }
}

static const lua_Integer kind_min[] = {0, 0, 0, LUA_MININTEGER, -128, -32768, -2147483647 - 1,
                                       LUA_MININTEGER};
static const lua_Integer kind_max[] = {255, 65535, 4294967295, LUA_MAXINTEGER, 127, 32767,
                                       2147483647, LUA_MAXINTEGER};

/* The value at arg checked for kind (the kind's name is at kind_arg). */
static lnuma_scalar check_value(lua_State *L, int kind, int kind_arg, int arg) {
  lnuma_scalar s = {0, 0, 0};
  if (kind >= LNUMA_KIND_F32) {
    int isnum = 0;
    s.d = lua_tonumberx(L, arg, &isnum);
    if (!isnum || lua_type(L, arg) != LUA_TNUMBER) luaL_typeerror(L, arg, "number");
    return s;
  }
  int isint = 0;
  lua_Integer x = lua_tointegerx(L, arg, &isint);
  if (!isint || lua_type(L, arg) != LUA_TNUMBER) {
    if (lua_type(L, arg) == LUA_TNUMBER) luaL_argerror(L, arg, "value must be an integer");
    luaL_typeerror(L, arg, "integer");
  }
  if (x < kind_min[kind] || x > kind_max[kind]) {
    lua_pushfstring(L, "value %I out of range for %s (%I..%I)", x, lua_tostring(L, kind_arg),
                    kind_min[kind], kind_max[kind]);
    luaL_argerror(L, arg, lua_tostring(L, -1));
  }
  s.is_int = 1;
  s.i = (int64_t)x;
  return s;
}

void lnb_store_element(lua_State *L, int kind, int kind_arg, int arg, char *p) {
  lnuma_scalar s = check_value(L, kind, kind_arg, arg);
  union {
    uint8_t u8; uint16_t u16; uint32_t u32; int64_t i64; float f32; double f64;
  } v;
  if (kind == LNUMA_KIND_F32)
    v.f32 = (float)s.d;
  else if (kind == LNUMA_KIND_F64)
    v.f64 = s.d;
  else
    switch (kind_width[kind]) {
    case 1: v.u8 = (uint8_t)s.i; break;
    case 2: v.u16 = (uint16_t)s.i; break;
    case 4: v.u32 = (uint32_t)s.i; break;
    default: v.i64 = s.i; break;
    }
  memcpy(p, &v, kind_width[kind]);
}

/* buf:get(kind, i) -> the element i (0-based) read as kind. */
static int buf_get(lua_State *L) {
  lnb_buffer *b = lnb_live_self(L, 1);
  int kind = kind_at(L, 2);
  lnb_push_element(L, kind, element(L, b, kind));
  return 1;
}

/* buf:set(kind, i, v) writes v at element i (0-based) as kind. */
static int buf_set(lua_State *L) {
  lnb_buffer *b = lnb_live_self(L, 1);
  int kind = kind_at(L, 2);
  lnb_store_element(L, kind, 2, 4, element(L, b, kind));
  return 0;
}

/* ---- typed ranges ---------------------------------------------------------- */

void lnb_read_elems(lua_State *L, int first_arg, lnb_elems *e) {
  e->first = lnb_opt_offset(L, first_arg, 0, "first");
  e->has_n = !lua_isnoneornil(L, first_arg + 1);
  e->n = lnb_opt_offset(L, first_arg + 1, 0, "n");
}

char *lnb_elems_at(lua_State *L, const lnb_buffer *b, int kind, int kind_arg, int first_arg,
                   lnb_elems *e) {
  size_t w = kind_width[kind], count = b->len / w;
  if ((uintptr_t)b->ptr % w != 0)
    lnb_opterror(L, kind_arg, "kind", "%s elements must be %d-byte aligned, and this buffer "
                 "starts at %p", lnuma_kind_name((lnuma_kind)kind), (int)w, (void *)b->ptr);
  if (e->first > count)
    lnb_opterror(L, first_arg, "first", "%I is past the end (%I %s elements)",
                 (lua_Integer)e->first, (lua_Integer)count, lnuma_kind_name((lnuma_kind)kind));
  if (!e->has_n) e->n = count - e->first;
  if (e->n > count - e->first) /* never first + n: it could wrap */
    lnb_opterror(L, first_arg + 1, "n", "%I elements from %I run past the end (%I %s elements)",
                 (lua_Integer)e->n, (lua_Integer)e->first, (lua_Integer)count,
                 lnuma_kind_name((lnuma_kind)kind));
  return b->ptr + e->first * w;
}

static void push_scalar(lua_State *L, const lnuma_scalar *s) {
  if (s->is_int)
    lua_pushinteger(L, (lua_Integer)s->i);
  else
    lua_pushnumber(L, (lua_Number)s->d);
}

typedef int (*reduce_fn)(const void *, lnuma_kind, size_t, lnuma_scalar *, lnuma_error *);

/* The body of sum/min/max(kind [, first [, n]]): arguments read, then the
 * buffer checked, then the core loop. */
static int reduce(lua_State *L, reduce_fn fn) {
  lnb_to_self(L, 1);
  int kind = kind_at(L, 2);
  lnb_elems e;
  lnb_read_elems(L, 3, &e);
  lnb_buffer *b = lnb_live_self(L, 1);
  const char *p = lnb_elems_at(L, b, kind, 2, 3, &e);
  lnuma_scalar s;
  lnuma_error err;
  if (fn(p, (lnuma_kind)kind, e.n, &s, &err) != 0) {
    if (err.code == ENODATA) {
      lua_pushnil(L);
      return 1;
    }
    return luaL_error(L, "%s", err.msg);
  }
  push_scalar(L, &s);
  return 1;
}

/* buf:sum(kind [, first [, n]]) -> the exact sum of n elements (default:
 * all from first): an integer, or a float when it does not fit (or for
 * f32/f64).  u64 elements count as unsigned. */
static int buf_sum(lua_State *L) { return reduce(L, lnuma_bulk_sum); }
/* buf:min/max(kind [, first [, n]]) -> the extreme element (NaN ignored),
 * nil for an empty range. */
static int buf_min(lua_State *L) { return reduce(L, lnuma_bulk_min); }
static int buf_max(lua_State *L) { return reduce(L, lnuma_bulk_max); }

/* buf:fill(kind, value [, first [, n]]) stores value into elements;
 * buf:fill(byte [, off [, len]]) sets bytes (all of them by default). */
static int buf_fill(lua_State *L) {
  if (lua_type(L, 2) == LUA_TSTRING && !lua_isnumber(L, 2)) { /* "7" stays a byte */
    lnb_to_self(L, 1);
    int kind = kind_at(L, 2);
    lnuma_scalar v = check_value(L, kind, 2, 3);
    lnb_elems e;
    lnb_read_elems(L, 4, &e);
    lnb_buffer *b = lnb_live_self(L, 1);
    char *p = lnb_elems_at(L, b, kind, 2, 4, &e);
    lnuma_error err;
    if (lnuma_bulk_fill(p, (lnuma_kind)kind, e.n, v, &err) != 0)
      return luaL_error(L, "%s", err.msg);
    return 0;
  }
  lnb_buffer *b = lnb_live_self(L, 1);
  int isint = 0;
  lua_Integer byte = lua_tointegerx(L, 2, &isint);
  if (!isint || byte < 0 || byte > 255) luaL_argerror(L, 2, "byte must be an integer 0..255");
  size_t off, len;
  lnb_opt_range(L, 3, b->len, &off, &len);
  memset(b->ptr + off, (int)byte, len);
  return 0;
}

const luaL_Reg lnb_typed_methods[] = {
    {"get", buf_get}, {"set", buf_set}, {"fill", buf_fill}, {"sum", buf_sum},
    {"min", buf_min}, {"max", buf_max}, {NULL, NULL},
};
