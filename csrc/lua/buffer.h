/* The buffer userdata shared by the memory bindings (memory.c, arena.c,
 * pool.c): buffers, their views, and the views arenas and pools hand out.
 * Private to csrc/lua; never installed. */
#ifndef LNUMA_LUA_BUFFER_H
#define LNUMA_LUA_BUFFER_H

#include "binding.h"

#define LNB_BUFFER "lnuma.Buffer"
#define LNB_ARENA "lnuma.Arena"
#define LNB_POOL "lnuma.Pool"

/* Memory that buffer userdata point into, shared by a buffer and its views
 * (or by an arena or pool and the views it hands out).  Counted, so that a
 * view knows when the memory under it was freed, whatever the order in
 * which Lua collects them. */
typedef struct lnb_region {
  int refs;          /* userdata pointing here */
  int alive;         /* 0 once the owner freed the memory */
  lnuma_buffer *buf; /* the buffer under it (placement, info); NULL once freed */
} lnb_region;

/* Flags of a buffer userdata. */
enum {
  LNB_ROOT = 1, /* owns its region: free() unmaps the memory */
  LNB_VIEW = 2, /* a view of a buffer or an arena allocation */
  LNB_SLOT = 4  /* an object of a pool (len 0 while returned to the pool) */
};

/* The "lnuma.Buffer" userdata.  region NULL: this handle was freed. */
typedef struct lnb_buffer {
  char *ptr;
  size_t len;
  lnb_region *region;
  size_t full; /* a pool object's size (len is 0 while it is in the pool) */
  size_t slot; /* a pool object's index */
  int flags;
  /* A view of a pool object: that object (kept alive by the view's user
   * value), and the issue it was made in; a pool object: how many times it
   * was put back.  The view dies with the issue, so it cannot reach the slot
   * once it is handed to someone else. */
  const struct lnb_buffer *owner;
  unsigned issue;
} lnb_buffer;

/* A region (refs 0, alive) over buf, or NULL when out of memory. */
lnb_region *lnb_region_new(lua_State *L, lnuma_buffer *buf);
/* Drops one reference; the region goes when the last one does. */
void lnb_region_release(lnb_region *r);

/* A live lnuma.Buffer at idx (for bindings outside memory.c), or an error
 * that says why it cannot be used (freed, parent freed, put back). */
lnb_buffer *lnb_check_live_buffer(lua_State *L, int idx);

/* Raises the reason b cannot be used (freed, parent freed, put back). */
int lnb_unusable(lua_State *L, const lnb_buffer *b);

/* 1 while the memory under b exists (b not freed, its owner not freed). */
static inline int lnb_usable(const lnb_buffer *b) {
  return b->region != NULL && b->region->alive;
}

/* 1 when b's memory may be touched: usable, and not a pool object (or a
 * view of one) that was put back. */
static inline int lnb_in_use(const lnb_buffer *b) {
  return lnb_usable(b) && !((b->flags & LNB_SLOT) && b->len == 0) &&
         !(b->owner != NULL && b->owner->issue != b->issue);
}

/* The hot-path checkers of the Buffer methods, whose closures hold the
 * Buffer metatable as upvalue 1 (one rawequal, no registry lookup):
 * lnb_to_self raises unless idx is a buffer, lnb_live_self also unless it
 * can be used. */
static inline lnb_buffer *lnb_to_self(lua_State *L, int idx) {
  lnb_buffer *b = (lnb_buffer *)lua_touserdata(L, idx);
  if (b == NULL || !lua_getmetatable(L, idx)) luaL_typeerror(L, idx, LNB_BUFFER);
  if (!lua_rawequal(L, -1, lua_upvalueindex(1))) luaL_typeerror(L, idx, LNB_BUFFER);
  lua_pop(L, 1);
  return b;
}

static inline lnb_buffer *lnb_live_self(lua_State *L, int idx) {
  lnb_buffer *b = lnb_to_self(L, idx);
  if (!lnb_in_use(b)) lnb_unusable(L, b);
  return b;
}

/* An optional non-negative integer argument (an offset or a length; what
 * names it in errors), def when none/nil. */
size_t lnb_opt_offset(lua_State *L, int arg, size_t def, const char *what);
/* Raises unless [off, off+len) lies within n bytes. */
void lnb_check_range(lua_State *L, int arg, size_t off, size_t len, size_t n);
/* The optional (offset, length) pair at arg, arg+1 of a method on a buffer
 * of size: length defaults to the rest; the range must fit. */
void lnb_opt_range(lua_State *L, int arg, size_t size, size_t *off, size_t *len);

/* ---- typed access (memory_typed.c) ---------------------------------------- */

/* The methods of lnuma.Buffer that read and write typed elements (get, set,
 * fill, sum, min, max); registered with the Buffer metatable as upvalue 1. */
extern const luaL_Reg lnb_typed_methods[];

/* The element kind (lnuma_kind) named by the string at arg, or an error
 * listing the kinds. */
int lnb_check_kind(lua_State *L, int arg);
/* A range of elements of one kind: [first, first+n). */
typedef struct lnb_elems {
  size_t first, n;
  int has_n; /* 0: n is "the rest of the buffer" */
} lnb_elems;
/* Reads the optional first and n at first_arg, first_arg+1 (non-negative
 * integers; errors name them).  Runs no Lua. */
void lnb_read_elems(lua_State *L, int first_arg, lnb_elems *e);
/* For a buffer b checked live after the arguments were read: the address of
 * element e->first of kind, with e->n resolved (the rest by default).
 * Raises, naming kind, first or n, when b's memory is not aligned to the
 * kind or the range does not fit (first + n is never computed: no wrap). */
char *lnb_elems_at(lua_State *L, const lnb_buffer *b, int kind, int kind_arg, int first_arg,
                   lnb_elems *e);
/* The value at arg checked for kind (an integer in range for an integer
 * kind, 3.0 taken as 3; a number for f32/f64) into *x or *d, or an error
 * that says what is wrong (the kind's name is read from kind_arg).
 * Allocates only to raise. */
void lnb_check_value(lua_State *L, int kind, int kind_arg, int arg, lua_Integer *x,
                     lua_Number *d);

/* Pushes a closed buffer userdata (it refuses to work until attached).  mt
 * is the stack index of the "lnuma.Buffer" metatable; parent, when not 0,
 * is the stack index of the value the new one keeps alive.  Allocates: a
 * finalizer may run, so the owner of the memory is checked alive after this
 * and before lnb_buffer_attach (binding.h). */
lnb_buffer *lnb_buffer_push(lua_State *L, int mt, int flags, int parent);
/* Points b at [ptr, ptr+len) of the live region r, taking a reference.
 * Allocates nothing. */
void lnb_buffer_attach(lnb_buffer *b, lnb_region *r, char *ptr, size_t len);

/* The options of every :placement([opts]) method. */
typedef struct lnb_placement_opts {
  int pages;                    /* page_nodes wanted */
  lnuma_pagesize_method method; /* how to count page sizes */
} lnb_placement_opts;

/* Reads the options table at arg (nil: defaults); raises on unknown keys and
 * bad values.  May run Lua (metamethods): call it before checking that the
 * buffer, arena or pool is alive. */
void lnb_read_placement_opts(lua_State *L, int arg, lnb_placement_opts *o);

/* The memory a :placement() method looks at, as the check of its object
 * finds it; the check raises when the object cannot be used. */
typedef struct lnb_range {
  const char *ptr;
  size_t len;
  size_t page_size;
} lnb_range;
typedef void (*lnb_range_fn)(lua_State *L, lnb_range *out);

/* The body of every :placement([opts]) method (csrc/lua/placement.c): pushes
 * the placement of the range where() finds as a table (page_nodes when
 * asked, the page sizes that back it); on failure pushes nil, msg, errno.
 * where() is called again after the scratch memory is allocated, so a
 * finalizer that freed the object meanwhile gives its error.  Returns the
 * count. */
int lnb_push_placement(lua_State *L, const lnb_placement_opts *o, lnb_range_fn where);
/* The methods of lnuma.Buffer that say where its memory is, move it, and
 * read its policy back (placement.c). */
int lnb_buf_placement(lua_State *L);
int lnb_buf_migrate(lua_State *L);
int lnb_buf_policy(lua_State *L);

/* Pushes the info table of a buffer (what was asked and what happened);
 * buf is read before anything is allocated. */
void lnb_push_info(lua_State *L, const lnuma_buffer *buf);
/* Pushes the placement of [ptr, ptr+len) in pages of page_size as short text
 * ("0:512 1:512", "-" when nothing is there).  pl is scratch the caller made
 * before it checked its object: nothing allocates before the range is read. */
void lnb_push_placement_text(lua_State *L, lnuma_placement *pl, size_t page_size,
                             const char *ptr, size_t len);

/* Reads the allocation options shared by alloc, arena and pool from the
 * table at arg (none/nil: defaults).  Keys other than these and the extra
 * ones (NULL-terminated, may be NULL) raise. */
void lnb_read_alloc_opts(lua_State *L, int arg, lnuma_alloc_opts *o, const char *const extra[]);
/* Reads a policy name field (see lnuma_mempolicy_parse); raises on an
 * unknown name.  Returns 1 when present. */
int lnb_field_policy(lua_State *L, int arg, const char *key, lnuma_mempolicy *out);
/* Reads a weight table {[node] = weight, ...} at idx (raw: make it plain
 * with lnb_node_map first), raising "weights: ..." errors on arg. */
void lnb_to_weights(lua_State *L, int idx, int arg, lnuma_weights *w);
/* After a failed core allocation: raises for mistakes the core could only
 * see late (ENODEV: no such node or CPU), else pushes nil, msg, errno. */
int lnb_alloc_failure(lua_State *L, int arg, const lnuma_error *err);
/* Checks options the core rejects for good (size, combinations) and raises. */
void lnb_check_alloc(lua_State *L, int arg, size_t size, const lnuma_alloc_opts *o);
/* Counts bytes about to be mapped for Lua and runs a full collection when the
 * count since the last one passes a step (pacing.c).  Runs finalizers: call
 * it before checking that the objects worked on are alive. */
void lnb_pace_mapping(lua_State *L, size_t bytes);

/* Pushes an "lnuma.Pool" userdata over a pool a C host made (lnuma_lua.h);
 * with borrowed, its free()/__gc let go of it without destroying it.  The
 * Pool metatable must exist (lnuma.core opened).  Raises on out of memory
 * (after destroying the pool unless borrowed). */
void lnb_pool_push(lua_State *L, lnuma_pool *pool, int borrowed);

/* Pushes a size as text with a binary unit ("4.0 MiB"). */
void lnb_push_bytes(lua_State *L, size_t n);

#endif
