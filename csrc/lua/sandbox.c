/* A call with limits: lnuma.core.run_limited(limits, f, ...) runs f under an
 * instruction limit (a count hook) and a memory limit (an allocator wrapped
 * around the state's own for the length of the call), as pcall does, and
 * puts everything back afterwards.  Placement plans (lua/lnuma/plan.lua) run
 * through it, both in a script's state and in the private state a C host
 * loads plans in, so the limits are written once.
 *
 * The hook finds its limits through the allocator's user data (the wrapper
 * installed for the call), so there is no C global and no registry lookup.
 * Once a limit trips, the hook fires at every instruction and raises again,
 * so a plan cannot catch the error with pcall and carry on. */
#include <stdint.h>

#include "binding.h"

#define HOOK_STEP 1000 /* instructions between two looks at the counter */

typedef struct limits {
  lua_Alloc alloc; /* the state's allocator, which does the work */
  void *alloc_ud;
  long long used; /* bytes allocated during the call, net of frees */
  long long max_memory;
  lua_Integer instructions; /* counted in steps of HOOK_STEP */
  lua_Integer max_instructions;
  int memory_tripped;
  int instructions_tripped;
} limits;

static void *limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  limits *lim = ud;
  size_t old = ptr != NULL ? osize : 0;
  if (nsize > old && lim->used + (long long)(nsize - old) > lim->max_memory) {
    lim->memory_tripped = 1;
    return NULL;
  }
  void *p = lim->alloc(lim->alloc_ud, ptr, osize, nsize);
  if (nsize == 0)
    lim->used -= (long long)old;
  else if (p != NULL)
    lim->used += (long long)nsize - (long long)old;
  return p;
}

static void limit_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  void *ud;
  if (lua_getallocf(L, &ud) != limited_alloc) return;
  limits *lim = ud;
  lim->instructions += lim->instructions_tripped ? 1 : HOOK_STEP;
  if (lim->instructions > lim->max_instructions) {
    if (!lim->instructions_tripped) {
      lim->instructions_tripped = 1;
      lua_sethook(L, limit_hook, LUA_MASKCOUNT, 1);
    }
    /* In a hook, level 0 is the Lua function being run: name its line. */
    lua_Debug where;
    if (lua_getstack(L, 0, &where) && lua_getinfo(L, "Sl", &where) && where.currentline > 0)
      lua_pushfstring(L, "%s:%d: ", where.short_src, where.currentline);
    else
      lua_pushliteral(L, "");
    lua_pushfstring(L, "instruction limit of %I exceeded (an endless loop?)",
                    (lua_Integer)lim->max_instructions);
    lua_concat(L, 2);
    lua_error(L);
  }
}

/* Reads a positive integer limit from the limits table at index 1. */
static lua_Integer limit_field(lua_State *L, const char *key) {
  lua_Integer v = 0;
  if (!lnb_field_integer(L, 1, key, &v)) lnb_opterror(L, 1, key, "missing");
  if (v <= 0) lnb_opterror(L, 1, key, "must be positive");
  return v;
}

/* run_limited({instructions = n, memory = bytes}, f, ...) -> true, results... |
 * false, message.  The message of a tripped limit says which limit. */
static int sandbox_run_limited(lua_State *L) {
  static const char *const known[] = {"instructions", "memory", NULL};
  lnb_check_options(L, 1, known, 0);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  limits lim = {0};
  lim.max_instructions = limit_field(L, "instructions");
  lim.max_memory = (long long)limit_field(L, "memory");
  int nargs = lua_gettop(L) - 2;
  lua_Hook old_hook = lua_gethook(L);
  int old_mask = lua_gethookmask(L), old_count = lua_gethookcount(L);
  lim.alloc = lua_getallocf(L, &lim.alloc_ud);

  lua_setallocf(L, limited_alloc, &lim);
  lua_sethook(L, limit_hook, LUA_MASKCOUNT, HOOK_STEP);
  int status = lua_pcall(L, nargs, LUA_MULTRET, 0);
  lua_sethook(L, old_hook, old_mask, old_count);
  lua_setallocf(L, lim.alloc, lim.alloc_ud);

  if (status == LUA_OK) { /* the results follow the limits table at 1 */
    lua_pushboolean(L, 1);
    lua_replace(L, 1);
    return lua_gettop(L);
  }
  lua_pushboolean(L, 0);
  if (lim.memory_tripped && !lim.instructions_tripped)
    lua_pushfstring(L, "memory limit of %I bytes exceeded", (lua_Integer)lim.max_memory);
  else if (lua_type(L, -2) == LUA_TSTRING)
    lua_pushvalue(L, -2);
  else
    lua_pushfstring(L, "error object is a %s value", luaL_typename(L, -2));
  return 2;
}

void lnuma_open_sandbox(lua_State *L) {
  static const luaL_Reg funcs[] = {
      {"run_limited", sandbox_run_limited},
      {NULL, NULL},
  };
  luaL_setfuncs(L, funcs, 0);
}
