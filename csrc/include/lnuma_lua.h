/** @file
 * lnuma_lua.h -- for C hosts that own a lua_State: open lnuma into it, and
 * hand memory the host allocated with the C API to Lua scripts.
 *
 * Include after lua.h (this header includes it).  Link with -llnuma (the
 * library carries the C module and the Lua face, so no search path is
 * needed).  A lua_State is used by one thread at a time, as Lua requires;
 * distinct states may be used from distinct threads concurrently.
 */
#ifndef LNUMA_LUA_H
#define LNUMA_LUA_H

#include <lua.h>

#include "lnuma.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opens the C module lnuma.core and pushes its table (what
 *  `require "lnuma.core"` returns).  One thread per state. */
LNUMA_API int luaopen_lnuma_core(lua_State *L);

/**
 * Registers lnuma in the state's package.preload: "lnuma", every "lnuma.*"
 * module of the Lua face (embedded in the library when it was built) and
 * "lnuma.core", so that `require "lnuma"` works without package.path or
 * package.cpath and uses this library.  Call it after luaL_openlibs (or at
 * least after opening the package library).  One thread per state.
 */
LNUMA_API void lnuma_lua_preload(lua_State *L);

/* ---- Handing memory to Lua ------------------------------------------------ */

/**
 * Who frees memory a host hands to Lua with lnuma_lua_push_buffer and
 * lnuma_lua_push_pool:
 *  - LNUMA_LUA_GIVE: the state owns it from then on.  Lua frees it with the
 *    value's free(), __close or __gc (at the latest in lua_close).  The host
 *    must not free it, and must stop using it once Lua may have freed it.
 *  - LNUMA_LUA_LEND: the host keeps it and frees it itself, after lua_close
 *    (or once no Lua value refers to it any more).  In Lua, free() and the
 *    garbage collector only let go of the handle.  Freeing it while Lua
 *    still uses it is the host's bug (Lua cannot know).
 */
enum { LNUMA_LUA_LEND = 0, LNUMA_LUA_GIVE = 1 };

/**
 * Pushes a buffer made with lnuma_buffer_alloc as an "lnuma.Buffer", the
 * userdata lnuma.alloc returns: get/set, read/write, view, placement, migrate
 * and the rest work on it.  Opens lnuma.core in the state if needed.  Raises
 * a Lua error on out of memory (a given buffer is freed then).  One thread
 * per state; a lent buffer may be used by C and Lua at once only as any
 * shared memory may.
 */
LNUMA_API void lnuma_lua_push_buffer(lua_State *L, lnuma_buffer *buf, int mode);

/**
 * Pushes a pool made with lnuma_pool_create as an "lnuma.Pool" (get, put,
 * available, placement, ...).  A pool is one thread's at a time: while Lua
 * uses it, C must not call get/put on it.  Ownership and errors as for
 * lnuma_lua_push_buffer.
 */
LNUMA_API void lnuma_lua_push_pool(lua_State *L, lnuma_pool *pool, int mode);

#ifdef __cplusplus
}
#endif

#endif /* LNUMA_LUA_H */
