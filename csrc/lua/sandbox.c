/* A call with limits: lnuma.core.run_limited(limits, f, ...) runs f under an
 * instruction limit (a count hook) and a memory limit (an allocator wrapped
 * around the state's own for the length of the call), as pcall does, and
 * puts everything back afterwards.  Placement plans (lua/lnuma/plan.lua) run
 * through it, both in a script's state and in the private state a C host
 * loads plans in, so the limits are written once.
 *
 * The memory limit is on live memory: the bytes of the blocks allocated
 * during the call and not yet freed.  The wrapper keeps a record of those
 * blocks (a hash set of pointers, itself counted), so freeing a block that
 * was there before the call -- garbage the script made earlier, collected
 * while the plan runs -- gives no credit, and a plan can never hold more than
 * the limit.  A block made before the call and grown during it counts for
 * its growth.
 *
 * The collector paces itself by the size of the whole state, which may be a
 * script's large heap: garbage the call makes could pile up to the limit
 * before a cycle ends, and a buffer of lauxlib (string.rep, table.concat)
 * that is refused gets no emergency collection.  So when the call's live
 * memory passes halfway to the limit, the allocator asks the hook (set to
 * fire at the next instruction) for a full collection, and the hook charges
 * it to the instruction limit (GC_COST_PER_KIB instructions per KiB of the
 * state), so that a call cannot spend unbounded time in collections.
 *
 * The hook finds its limits through the allocator's user data (the wrapper
 * installed for the call), so there is no C global and no registry lookup.
 * Once a limit trips, the hook fires at every instruction and raises again,
 * so a plan cannot catch the error with pcall and carry on. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "binding.h"
#include "internal.h"

#define HOOK_STEP 1000 /* instructions between two looks at the counter */
#define GC_COST_PER_KIB 1 /* instructions charged per KiB a forced collection walks */

typedef struct block {
  void *ptr;     /* NULL: free slot */
  size_t charge; /* bytes of it counted in used */
} block;

typedef struct limits {
  lua_State *L;
  lua_Alloc alloc; /* the state's allocator, which does the work */
  void *alloc_ud;
  size_t used; /* live bytes allocated during the call, and the record */
  size_t max_memory;
  block *blocks; /* open addressing, linear probing; cap a power of 2 */
  size_t nblocks, cap;
  size_t gc_at; /* used past which a collection is asked for */
  int gc_wanted;
  int hook_count; /* what the hook is set to fire after */
  lua_Integer instructions; /* counted in steps of hook_count */
  lua_Integer max_instructions;
  int memory_tripped;
  int instructions_tripped;
} limits;

/* ---- the record of blocks made during the call ------------------------------- */

static size_t slot_of(const limits *lim, const void *ptr) {
  uint64_t h = (uint64_t)(uintptr_t)ptr;
  h ^= h >> 29;
  h *= UINT64_C(0x9E3779B97F4A7C15);
  return (size_t)(h >> 17) & (lim->cap - 1);
}

static block *find(limits *lim, const void *ptr) {
  if (lim->cap == 0) return NULL;
  for (size_t i = slot_of(lim, ptr);; i = (i + 1) & (lim->cap - 1)) {
    if (lim->blocks[i].ptr == ptr) return &lim->blocks[i];
    if (lim->blocks[i].ptr == NULL) return NULL;
  }
}

/* Only when there is room (reserve() was called). */
static void insert(limits *lim, void *ptr, size_t charge) {
  size_t i = slot_of(lim, ptr);
  while (lim->blocks[i].ptr != NULL) i = (i + 1) & (lim->cap - 1);
  lim->blocks[i].ptr = ptr;
  lim->blocks[i].charge = charge;
  lim->nblocks++;
}

/* Removes b, shifting back the entries of its run (no tombstones). */
static void erase(limits *lim, const block *b) {
  size_t mask = lim->cap - 1, i = (size_t)(b - lim->blocks);
  size_t j = i;
  lim->blocks[i].ptr = NULL;
  lim->nblocks--;
  for (;;) {
    j = (j + 1) & mask;
    if (lim->blocks[j].ptr == NULL) return;
    size_t home = slot_of(lim, lim->blocks[j].ptr);
    /* Entry j may move to i when its home is not in the cyclic range (i, j]. */
    if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
      lim->blocks[i] = lim->blocks[j];
      lim->blocks[j].ptr = NULL;
      i = j;
    }
  }
}

static size_t record_bytes(size_t cap) { return cap * sizeof(block); }

/* Room for one more entry (load at most 1/2); the record counts as used. */
static int reserve(limits *lim) {
  if ((lim->nblocks + 1) * 2 <= lim->cap) return 0;
  size_t ncap = lim->cap ? lim->cap * 2 : 256;
  size_t grow = record_bytes(ncap) - record_bytes(lim->cap);
  if (grow > lim->max_memory - lim->used) return -1;
  block *nb = lim->alloc(lim->alloc_ud, NULL, 0, record_bytes(ncap));
  if (nb == NULL) return -1;
  memset(nb, 0, record_bytes(ncap));
  block *old = lim->blocks;
  size_t ocap = lim->cap;
  lim->blocks = nb;
  lim->cap = ncap;
  lim->nblocks = 0;
  for (size_t i = 0; i < ocap; i++)
    if (old[i].ptr != NULL) insert(lim, old[i].ptr, old[i].charge);
  if (old != NULL) lim->alloc(lim->alloc_ud, old, record_bytes(ocap), 0);
  lim->used += grow;
  return 0;
}

static void release_record(limits *lim) {
  if (lim->blocks != NULL) lim->alloc(lim->alloc_ud, lim->blocks, record_bytes(lim->cap), 0);
  lim->blocks = NULL;
  lim->cap = lim->nblocks = 0;
}

/* ---- the allocator and the hook ------------------------------------------------ */

static void limit_hook(lua_State *L, lua_Debug *ar);

static void *limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  limits *lim = ud;
  size_t old = ptr != NULL ? osize : 0; /* for a new block osize is a type tag */
  block *b = ptr != NULL ? find(lim, ptr) : NULL;
  size_t charge = b != NULL ? b->charge : 0;
  size_t base = old - charge; /* the part that was there before the call */
  size_t ncharge = nsize > base ? nsize - base : 0;
  if (nsize == 0) {
    lim->alloc(lim->alloc_ud, ptr, osize, 0);
    if (b != NULL) {
      lim->used -= charge;
      erase(lim, b);
    }
    return NULL;
  }
  if (ncharge > charge) { /* what counts grows: the only case that may be refused */
    if ((b == NULL && reserve(lim) != 0) || ncharge - charge > lim->max_memory - lim->used) {
      lim->memory_tripped = 1;
      return NULL;
    }
  }
  void *p = lim->alloc(lim->alloc_ud, ptr, osize, nsize);
  if (p == NULL) return NULL;
  lim->used = lim->used - charge + ncharge;
  if (b != NULL) erase(lim, b);
  if (ncharge > 0) insert(lim, p, ncharge);
  if (lim->used > lim->gc_at && !lim->gc_wanted) {
    /* lua_sethook may be called from anywhere; the hook collects. */
    lim->gc_wanted = 1;
    lim->hook_count = 1;
    lua_sethook(lim->L, limit_hook, LUA_MASKCOUNT, 1);
  }
  return p;
}

/* A collection the allocator asked for; the next one when live memory is
 * halfway from here to the limit (none when that is too close to bother). */
static void collect(lua_State *L, limits *lim) {
  lim->gc_wanted = 0;
  lim->instructions += (lua_Integer)lua_gc(L, LUA_GCCOUNT, 0) * GC_COST_PER_KIB;
  lua_gc(L, LUA_GCCOLLECT, 0);
  size_t room = lim->max_memory - lim->used;
  lim->gc_at = room >= lim->max_memory / 8 ? lim->used + room / 2 : SIZE_MAX;
}

static void limit_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  void *ud;
  if (lua_getallocf(L, &ud) != limited_alloc) return;
  limits *lim = ud;
  lim->instructions += lim->hook_count;
  if (lim->gc_wanted) {
    collect(L, lim);
    if (!lim->instructions_tripped) {
      lim->hook_count = HOOK_STEP;
      lua_sethook(L, limit_hook, LUA_MASKCOUNT, HOOK_STEP);
    }
  }
  if (lim->instructions > lim->max_instructions) {
    if (!lim->instructions_tripped) {
      lim->instructions_tripped = 1;
      lim->hook_count = 1;
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

/* ---- run_limited --------------------------------------------------------------- */

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
  limits lim;
  memset(&lim, 0, sizeof lim);
  lim.max_instructions = limit_field(L, "instructions");
  lua_Integer max_memory = limit_field(L, "memory");
  lim.max_memory = (uint64_t)max_memory > SIZE_MAX ? SIZE_MAX : (size_t)max_memory;
  luaL_checktype(L, 2, LUA_TFUNCTION);
  int nargs = lua_gettop(L) - 2;
  lua_Hook old_hook = lua_gethook(L);
  int old_mask = lua_gethookmask(L), old_count = lua_gethookcount(L);
  lim.L = L;
  lim.gc_at = lim.max_memory / 2;
  lim.hook_count = HOOK_STEP;
  lim.alloc = lua_getallocf(L, &lim.alloc_ud);

  lua_setallocf(L, limited_alloc, &lim);
  lua_sethook(L, limit_hook, LUA_MASKCOUNT, HOOK_STEP);
  int status = lua_pcall(L, nargs, LUA_MULTRET, 0);
  lua_sethook(L, old_hook, old_mask, old_count);
  lua_setallocf(L, lim.alloc, lim.alloc_ud);
  release_record(&lim);

  if (status == LUA_OK) { /* the results follow the limits table at 1 */
    lua_pushboolean(L, 1);
    lua_replace(L, 1);
    return lua_gettop(L);
  }
  lua_pushboolean(L, 0);
  if (lim.instructions_tripped && lua_type(L, -2) == LUA_TSTRING &&
      strstr(lua_tostring(L, -2), "instruction limit") != NULL)
    lua_pushvalue(L, -2);
  else if (lim.instructions_tripped)
    lua_pushfstring(L, "instruction limit of %I exceeded (an endless loop?)",
                    (lua_Integer)lim.max_instructions);
  else if (lim.memory_tripped && status == LUA_ERRMEM)
    lua_pushfstring(L, "memory limit of %I bytes exceeded", max_memory);
  else if (lua_type(L, -2) == LUA_TSTRING)
    lua_pushvalue(L, -2);
  else
    lua_pushfstring(L, "error object is a %s value", luaL_typename(L, -2));
  return 2;
}

/* ---- read_input ---------------------------------------------------------------- */

#define INPUT_MT "lnuma.InputBuffer"

/* The bytes read, held by a userdata until they are a Lua string, so that a
 * memory error while making the string does not leak them. */
typedef struct input_box {
  char *bytes;
} input_box;

static int input_box_free(lua_State *L) {
  input_box *box = luaL_checkudata(L, 1, INPUT_MT);
  free(box->bytes);
  box->bytes = NULL;
  return 0;
}

/* read_input(path, max_bytes, what) -> string | nil, message, errno: the
 * whole of a regular file of at most max_bytes (anything else is refused
 * before a byte is read: a FIFO, a device, a larger file); what names the
 * file in messages ("plan file"). */
static int sandbox_read_input(lua_State *L) {
  size_t plen;
  const char *path = luaL_checklstring(L, 1, &plen);
  lua_Integer max = luaL_checkinteger(L, 2);
  const char *what = luaL_checkstring(L, 3);
  luaL_argcheck(L, strlen(path) == plen, 1, "path: contains a NUL byte");
  luaL_argcheck(L, max >= 0, 2, "max_bytes: must not be negative");
  input_box *box = lua_newuserdatauv(L, sizeof *box, 0);
  box->bytes = NULL;
  if (luaL_newmetatable(L, INPUT_MT)) {
    lua_pushcfunction(L, input_box_free);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  size_t len;
  lnuma_error err;
  if (lnuma__read_input(path, (uint64_t)max > SIZE_MAX ? SIZE_MAX : (size_t)max, what,
                        &box->bytes, &len, &err) != 0)
    return lnb_fail(L, &err);
  lua_pushlstring(L, box->bytes, len);
  free(box->bytes);
  box->bytes = NULL;
  return 1;
}

void lnuma_open_sandbox(lua_State *L) {
  static const luaL_Reg funcs[] = {
      {"run_limited", sandbox_run_limited},
      {"read_input", sandbox_read_input},
      {NULL, NULL},
  };
  luaL_setfuncs(L, funcs, 0);
}
