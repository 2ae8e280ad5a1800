/* Typed access to buffers: buf:get/set of one element, and the typed-range
 * methods buf:sum/min/max/fill that run a core loop (csrc/core/bulk.c) over
 * [first, first+n) elements instead of a Lua loop.  memory.c holds the
 * userdata itself.  Methods have the Buffer metatable as upvalue 1; get and
 * set allocate nothing and build no string unless they fail. */
#include <errno.h>
#include <string.h>

#include "element.h"

static inline int kind_at(lua_State *L, int arg) {
  int kind = lua_type(L, arg) == LUA_TSTRING ? lnb_peek_kind(L, arg) : -1;
  if (kind < 0)
    luaL_argerror(L, arg, "kind must be one of u8, u16, u32, u64, i8, i16, i32, i64, f32, f64");
  return kind;
}

int lnb_check_kind(lua_State *L, int arg) { return kind_at(L, arg); }

/* ---- one element ---------------------------------------------------------- */

/* The value at arg checked for kind (type, range; the kind's name is at
 * kind_arg), or an error that says what is wrong with it. */
void lnb_check_value(lua_State *L, int kind, int kind_arg, int arg, lua_Integer *x,
                     lua_Number *d) {
  if (lnb_peek_value(L, kind, arg, x, d)) return;
  if (kind >= LNUMA_KIND_F32) luaL_typeerror(L, arg, "number");
  int isint = 0;
  *x = lua_tointegerx(L, arg, &isint);
  if (!isint || lua_type(L, arg) != LUA_TNUMBER) {
    if (lua_type(L, arg) == LUA_TNUMBER) luaL_argerror(L, arg, "value must be an integer");
    luaL_typeerror(L, arg, "integer");
  }
  if (*x < lnb_kind_min[kind] || *x > lnb_kind_max[kind]) {
    lua_pushfstring(L, "value %I out of range for %s (%I..%I)", *x, lua_tostring(L, kind_arg),
                    lnb_kind_min[kind], lnb_kind_max[kind]);
    luaL_argerror(L, arg, lua_tostring(L, -1));
  }
}

/* Why buf:get/set(kind, i, ...) did not take the fast path, raised in the
 * order the arguments come: the buffer, the kind, the index (the
 * metatable lnb_hot_self left is popped first). */
static int element_failed(lua_State *L, const lnb_buffer *b) {
  lua_pop(L, 1);
  if (!lnb_in_use(b)) lnb_unusable(L, b);
  int kind = kind_at(L, 2);
  int isint = 0;
  lua_Integer i = lua_tointegerx(L, 3, &isint);
  if (!isint) return luaL_argerror(L, 3, "index must be an integer");
  size_t w = lnb_kind_width[kind];
  lua_pushfstring(L, "index %I out of range (0..%I for %I-byte elements)", i,
                  (lua_Integer)(b->len / w) - 1, (lua_Integer)w);
  return luaL_argerror(L, 3, lua_tostring(L, -1));
}

/* The address of the element the arguments name in b when they were read
 * and b is usable, else NULL. */
static inline char *element_at(const lnb_buffer *b, const lnb_elem_args *a) {
  if (a->kind < 0 || !a->isint || !lnb_in_use(b)) return NULL;
  unsigned shift = lnb_kind_shift[a->kind];
  return (lua_Unsigned)a->at < (b->len >> shift) ? b->ptr + ((size_t)a->at << shift) : NULL;
}

/* buf:get(kind, i) -> the element i (0-based) read as kind; buf:set(kind,
 * i, v) writes v at element i as kind.  The hot paths: six calls of the Lua
 * API, nothing allocated. */
LNB_ELEM_METHODS(buf, lnb_buffer, LNB_BUFFER)

/* ---- typed ranges ---------------------------------------------------------- */

void lnb_read_elems(lua_State *L, int first_arg, lnb_elems *e) {
  e->first = lnb_opt_offset(L, first_arg, 0, "first");
  e->has_n = !lua_isnoneornil(L, first_arg + 1);
  e->n = lnb_opt_offset(L, first_arg + 1, 0, "n");
}

char *lnb_elems_at(lua_State *L, const lnb_buffer *b, int kind, int kind_arg, int first_arg,
                   lnb_elems *e) {
  size_t w = lnb_kind_width[kind], count = b->len / w;
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
    lnuma_scalar v = {0, 0, 0};
    lua_Integer x = 0;
    lnb_check_value(L, kind, 2, 3, &x, &v.d);
    if (kind < LNUMA_KIND_F32) v.is_int = 1, v.i = (int64_t)x;
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
