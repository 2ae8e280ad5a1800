/* Private helpers shared by the binding files of csrc/lua (never installed).
 * They keep argument checking and error pushing written once. */
#ifndef LNUMA_BINDING_H
#define LNUMA_BINDING_H

#include <lauxlib.h>
#include <lua.h>

#include "lnuma.h"

/* Each binding file registers its functions into the module table at -1. */
void lnuma_open_util(lua_State *L);
void lnuma_open_sandbox(lua_State *L);
void lnuma_open_memory(lua_State *L);
void lnuma_open_arena(lua_State *L);
void lnuma_open_pool(lua_State *L);
void lnuma_open_mempolicy(lua_State *L);
void lnuma_open_placement(lua_State *L);
void lnuma_open_weights(lua_State *L);
void lnuma_open_topology(lua_State *L);
void lnuma_open_affinity(lua_State *L);
void lnuma_open_clock(lua_State *L, int ctx);
void lnuma_open_clock_sync(lua_State *L, int ctx); /* into the clock table at -1 */
void lnuma_open_histogram(lua_State *L);
void lnuma_open_kernels(lua_State *L, int ctx);
void lnuma_open_exec(lua_State *L);
void lnuma_open_sysinfo(lua_State *L);
/* (areas add their lnuma_open_<area> here) */

/* The per-state context: what the bindings of one lua_State share, made
 * first by luaopen_lnuma_core and handed explicitly to each open function
 * that needs it (ctx: its stack index), which makes it upvalue 1 of its
 * functions.  So no binding finds another's state through a third
 * function, and the order the areas open in carries no weight.  (The
 * userdata metatables stay in the registry under their names: that is
 * where luaL_checkudata looks.) */
typedef struct lnb_context {
  const lnuma_clock *clock;        /* the process's clock (clock.c says why) */
  lnuma_clock_recalibrator *recal; /* this state's background recalibration */
} lnb_context;

/* Pushes a new context (its __gc stops the state's recalibration) and
 * returns its absolute stack index. */
int lnb_context_new(lua_State *L);

/* The context of a function opened with it (its upvalue 1). */
#define lnb_context_up(L) ((lnb_context *)lua_touserdata((L), lua_upvalueindex(1)))

/* The clock every lua_State of the process reads (clock.c), calibrated on
 * first use. */
lnuma_clock *lnb_process_clock(void);

/* Field setters for the table at -1 (result tables are built with them):
 * t[k] = v.  lnb_set_str skips NULL. */
void lnb_set_int(lua_State *L, const char *k, lua_Integer v);
void lnb_set_num(lua_State *L, const char *k, lua_Number v);
void lnb_set_str(lua_State *L, const char *k, const char *v);
void lnb_set_bool(lua_State *L, const char *k, int v);

/* How a binding reads what a script passes (issue 13: nothing a script
 * passes may crash the process).
 *
 * Copy first, then read raw.  lnb_check_options checks the keys (lua_next)
 * and, when the options table or one of its table values has a metatable,
 * replaces the table on the stack by a plain copy of its known keys, read
 * through __index/__len (lnb_array does the same for an array argument).
 * That copy is the only moment reading arguments runs Lua, and it comes
 * first.  Everything after it reads with raw access only (lua_rawget,
 * lua_rawlen, lua_rawgeti: the lnb_field_* helpers), so no metamethod can
 * free the buffer, arena or pool being worked on, or collect a string still
 * in use, half-way through; proxies and tables with defaults in __index
 * still read as Lua code sees them.
 *
 * Strings are copied into C buffers (lnb_field_text) or looked up into an
 * enum (lnb_field_option) at once: no binding keeps a pointer into a Lua
 * string it has popped.  Text that reaches C as a C string (sizes, lists,
 * names, paths) must hold no NUL byte, or it would be read cut short.
 * Array lengths are bounded before anything is allocated for them.
 *
 * What can still run Lua afterwards: any allocation (a table, string or
 * userdata) may take a collection step, which may call a __gc finalizer,
 * which may free anything.  So a binding (1) reads and copies every argument
 * and option, (2) allocates its scratch memory, (3) only then checks that
 * its objects are alive and takes pointers from them, and (4) allocates
 * nothing while it uses those pointers (results are pushed from C copies
 * afterwards).  New handles are pushed closed first and attached to their
 * memory after the check (lnb_buffer_push/lnb_buffer_attach, buffer.h). */

/* Raises "bad argument #arg to 'f' (KEY: message)" for an option field. */
int lnb_opterror(lua_State *L, int arg, const char *key, const char *fmt, ...);

/* Makes the table at idx a plain array: when it has a metatable, replaces
 * it on the stack by a copy read through __len and __index (this runs Lua:
 * call it before any object is checked).  Returns its raw length, raising
 * naming what when it has more than max elements (max at most 1000000). */
lua_Integer lnb_array(lua_State *L, int idx, int arg, const char *what, lua_Integer max);

/* Makes the table at idx, keyed by node number (from 0), plain: when it has
 * a metatable, checks its own keys raw (node numbers 0..LNUMA_MAX_NODES-1
 * only, raising naming what) and replaces it on the stack by a copy of every
 * node's value read through __index (this runs Lua: call it before any
 * object is checked).  lnb_check_options does this for the keys of
 * node-keyed options ("weights"). */
void lnb_node_map(lua_State *L, int idx, int arg, const char *what);

/* The string at idx (a string, not a number) and its length; raises naming
 * what when it is not one or holds a NUL byte.  The pointer is valid while
 * the value stays at idx and no Lua runs. */
const char *lnb_to_text(lua_State *L, int idx, int arg, const char *what, size_t *len);

/* Checks that the table at arg (nil is allowed when optional) has only keys
 * from the NULL-terminated list known; an unknown key raises an error that
 * names it.  Then makes it plain (see above: may run Lua, and replaces the
 * value at arg).  Call it before any object is checked.  Returns 1 when a
 * table is present, 0 for nil/none. */
int lnb_check_options(lua_State *L, int arg, const char *const known[], int optional);

/* Reads a set of CPUs/nodes from the value at index idx: an array of
 * integers (at most LNUMA_SET_BITS of them), a cpulist string ("0-3,8") or
 * a single integer.  what names the argument in errors (e.g. "cpus").
 * Raises on malformed input.  Runs Lua only for a table with a metatable
 * (lnb_array), never for a field of an options table already checked. */
void lnb_to_set(lua_State *L, int idx, int arg, const char *what, lnuma_set *out);

/* Reads a size at idx: a non-negative integer or a string like "64M", at
 * most LUA_MAXINTEGER bytes (so that it comes back to Lua as it went in). */
size_t lnb_to_size(lua_State *L, int idx, int arg, const char *what);

/* Reads a page kind at idx, the one vocabulary of `huge` (issue 14): false
 * means base pages, true transparent huge pages, and a string is a word of
 * lnuma_huge_parse ("none", "no", "4K", "thp", "2M", "1G", "default", any
 * case).  what names the option in errors.  Runs no Lua. */
lnuma_huge lnb_to_huge(lua_State *L, int idx, int arg, const char *what);

/* Field helpers for the options table at arg, after lnb_check_options (raw
 * access, see above): each returns 1 when the field is present (and not
 * nil), 0 otherwise; wrong types raise naming the key.  None runs Lua. */
int lnb_field_set(lua_State *L, int arg, const char *key, lnuma_set *out);
int lnb_field_size(lua_State *L, int arg, const char *key, size_t *out);
int lnb_field_integer(lua_State *L, int arg, const char *key, lua_Integer *out);
int lnb_field_number(lua_State *L, int arg, const char *key, lua_Number *out);
int lnb_field_boolean(lua_State *L, int arg, const char *key, int *out);
/* String field restricted to the NULL-terminated list options (like
 * luaL_checkoption); returns the index in options, or -1 when absent. */
int lnb_field_option(lua_State *L, int arg, const char *key, const char *const options[]);
/* A string field copied into out (cap bytes, NUL-terminated); raises when it
 * is not a string, holds a NUL byte or needs more than cap - 1 bytes.
 * Returns 1 when present, 0 (out = "") when absent. */
int lnb_field_text(lua_State *L, int arg, const char *key, char *out, size_t cap);
/* Pushes opts[key] (raw) and returns its type; LUA_TNIL (nothing pushed)
 * when arg is not a table or the field is absent. */
int lnb_field_push(lua_State *L, int arg, const char *key);

/* Pushes where a team thread ran ({cpu_asked, cpu_start, cpu_end, node,
 * migrated}), or an array of n of them. */
void lnb_push_thread(lua_State *L, const lnuma_team_thread *t);
void lnb_push_threads(lua_State *L, const lnuma_team_thread *t, int n);

/* Pushes a set as a Lua array of integers in ascending order. */
void lnb_push_set(lua_State *L, const lnuma_set *set);

/* The environment-failure convention: pushes nil, err->msg, err->code and
 * returns 3 (as luaL_fileresult does). */
int lnb_fail(lua_State *L, const lnuma_error *err);

/* Creates (or fetches) the metatable tname with methods in __index, the given
 * metamethods, and __name; leaves it on the stack. */
void lnb_new_class(lua_State *L, const char *tname, const luaL_Reg *methods,
                   const luaL_Reg *metamethods);

/* Pushes a topology table (with the lnuma.Topology methods) for topo, which
 * the Lua state then owns and frees when the table is collected.  For hosts
 * and plans that load a topology in C.  Returns 1. */
int lnb_push_topology(lua_State *L, lnuma_topology *topo);

#endif
