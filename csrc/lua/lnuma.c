/* The C module lnuma.core: builds the table, sets _VERSION, and lets each
 * binding file register its area.  Nothing else lives here. */
#include "binding.h"

LNUMA_API int luaopen_lnuma_core(lua_State *L);

int luaopen_lnuma_core(lua_State *L) {
  int ctx = lnb_context_new(L); /* handed to the areas that share state */
  lua_newtable(L);
  lua_pushstring(L, lnuma_version());
  lua_setfield(L, -2, "_VERSION");
  lnuma_open_util(L);
  lnuma_open_sandbox(L);
  lnuma_open_memory(L); /* before arena and pool: they use its Buffer metatable */
  lnuma_open_arena(L);
  lnuma_open_pool(L);
  lnuma_open_mempolicy(L);
  lnuma_open_placement(L);
  lnuma_open_weights(L);
  lnuma_open_topology(L);
  lnuma_open_affinity(L);
  lnuma_open_clock(L, ctx);
  lnuma_open_histogram(L);
  lnuma_open_kernels(L, ctx);
  lnuma_open_exec(L);
  lnuma_open_sysinfo(L);
  /* areas: one lnuma_open_<area>(L) call each */
  lua_remove(L, ctx);
  return 1;
}
