/* Paces the collector by the memory lnuma maps for Lua.
 *
 * The collector sees a buffer, arena or pool as a userdata of a few dozen
 * bytes; the memory it maps is invisible to it.  A script that drops 32 MiB
 * buffers in a loop would map gigabytes before a cycle ran their finalizers
 * (the Lua heap grows by bytes per buffer, so the collector has no reason to
 * run).  So the bindings count the bytes they map and, once that count
 * passes a step, run a full collection before mapping more: the garbage
 * buffers are unmapped, and the memory held by dropped ones stays under
 * the step.  The step is 64 MiB, or four times the Lua heap when that is
 * larger, so that a large heap is not traversed for every few megabytes. */
#include "buffer.h"

#include <stdint.h>

#define PACE_MIN_STEP ((size_t)64 << 20)

typedef struct lnb_pacer {
  size_t mapped_since_collect;
} lnb_pacer;

static const char pacer_key = 0; /* its address keys the registry entry */

/* The state's pacer, made on first use and kept in the registry. */
static lnb_pacer *state_pacer(lua_State *L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &pacer_key);
  lnb_pacer *p = (lnb_pacer *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (p == NULL) {
    p = (lnb_pacer *)lua_newuserdatauv(L, sizeof *p, 0);
    p->mapped_since_collect = 0;
    lua_rawsetp(L, LUA_REGISTRYINDEX, &pacer_key);
  }
  return p;
}

void lnb_pace_mapping(lua_State *L, size_t bytes) {
  lnb_pacer *p = state_pacer(L);
  size_t heap = (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024;
  size_t step = heap > PACE_MIN_STEP / 4 ? heap * 4 : PACE_MIN_STEP;
  size_t since = p->mapped_since_collect;
  since = bytes > SIZE_MAX - since ? SIZE_MAX : since + bytes;
  if (since < step) {
    p->mapped_since_collect = since;
    return;
  }
  p->mapped_since_collect = 0;
  /* Does nothing (returns -1) inside a finalizer, where Lua forbids it. */
  lua_gc(L, LUA_GCCOLLECT, 0);
}
