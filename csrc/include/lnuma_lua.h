/*
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

#ifdef __cplusplus
}
#endif

#endif /* LNUMA_LUA_H */
