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
void lnuma_open_topology(lua_State *L);
void lnuma_open_affinity(lua_State *L);
void lnuma_open_clock(lua_State *L);
void lnuma_open_histogram(lua_State *L);
void lnuma_open_kernels(lua_State *L);
/* (areas add their lnuma_open_<area> here) */

/* Raises "bad argument #arg to 'f' (KEY: message)" for an option field. */
int lnb_opterror(lua_State *L, int arg, const char *key, const char *fmt, ...);

/* Checks that the table at arg (nil is allowed when optional) has only keys
 * from the NULL-terminated list known; an unknown key raises an error that
 * names it.  Returns 1 when a table is present, 0 for nil/none. */
int lnb_check_options(lua_State *L, int arg, const char *const known[], int optional);

/* Reads a set of CPUs/nodes from the value at index idx: an array of
 * integers, a cpulist string ("0-3,8") or a single integer.  what names the
 * argument in errors (e.g. "cpus").  Raises on malformed input. */
void lnb_to_set(lua_State *L, int idx, int arg, const char *what, lnuma_set *out);

/* Reads a size at idx: a non-negative integer or a string like "64M". */
size_t lnb_to_size(lua_State *L, int idx, int arg, const char *what);

/* Field helpers for the options table at arg: each returns 1 when the field
 * is present (and not nil), 0 otherwise; wrong types raise naming the key. */
int lnb_field_set(lua_State *L, int arg, const char *key, lnuma_set *out);
int lnb_field_size(lua_State *L, int arg, const char *key, size_t *out);
int lnb_field_integer(lua_State *L, int arg, const char *key, lua_Integer *out);
int lnb_field_number(lua_State *L, int arg, const char *key, lua_Number *out);
int lnb_field_boolean(lua_State *L, int arg, const char *key, int *out);
/* String field restricted to the NULL-terminated list options (like
 * luaL_checkoption); returns the index in options, or -1 when absent. */
int lnb_field_option(lua_State *L, int arg, const char *key, const char *const options[]);
/* Any string field; returns NULL when absent. */
const char *lnb_field_string(lua_State *L, int arg, const char *key);

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
