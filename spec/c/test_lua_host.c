/* C tests of lnuma_lua.h: a host's own lua_State gets lnuma without search
 * paths, and memory the host allocated reaches Lua as the userdata Lua
 * itself makes, given away or lent. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lualib.h>

#include "lnuma.h"
#include "lnuma_lua.h"

static lua_State *new_state(void) {
  lua_State *L = luaL_newstate();
  assert_non_null(L);
  luaL_openlibs(L);
  lnuma_lua_preload(L);
  return L;
}

/* Runs code with the value on top of the stack as `...`; fails on error. */
static void run(lua_State *L, const char *code) {
  if (luaL_loadstring(L, code) != LUA_OK) fail_msg("%s", lua_tostring(L, -1));
  lua_insert(L, -2);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) fail_msg("%s", lua_tostring(L, -1));
}

static lnuma_buffer *new_buffer(size_t size) {
  lnuma_error err;
  lnuma_buffer *buf = lnuma_buffer_alloc(size, NULL, &err);
  if (buf == NULL) fail_msg("lnuma_buffer_alloc: %s", err.msg);
  return buf;
}

static void preload_opens_the_module_and_its_face(void **state) {
  (void)state;
  lua_State *L = new_state();
  assert_int_equal(luaL_dostring(L, "local lnuma = require 'lnuma'\n"
                                    "assert(package.loaded['lnuma.core'] == lnuma.core)\n"
                                    "assert(require 'lnuma.plan' == lnuma.plan)\n"
                                    "return lnuma._VERSION, lnuma.type(lnuma.alloc(4096))"),
                   LUA_OK);
  assert_string_equal(lua_tostring(L, -2), lnuma_version());
  assert_string_equal(lua_tostring(L, -1), "buffer");
  lua_close(L);
}

/* A host gets the module, not the command line or the SVG renderers: they
 * are not among the embedded files lnuma_lua_preload offers. */
static void the_host_embeds_the_module_without_cli_or_svg(void **state) {
  (void)state;
  lua_State *L = new_state();
  assert_int_equal(luaL_dostring(L, "local p = package.preload\n"
                                    "return p['lnuma'] ~= nil, p['lnuma.report.text'] ~= nil,\n"
                                    "  p['lnuma.cli'] == nil, p['lnuma.cli.bench'] == nil,\n"
                                    "  p['lnuma.report.svg'] == nil"),
                   LUA_OK);
  for (int i = -5; i <= -1; i++) assert_true(lua_toboolean(L, i));
  assert_int_equal(luaL_dostring(L, "return require('lnuma').report.text ~= nil"), LUA_OK);
  assert_true(lua_toboolean(L, -1));
  lua_close(L);
}

static void a_given_buffer_is_a_buffer_lua_frees(void **state) {
  (void)state;
  lua_State *L = new_state();
  lnuma_buffer *buf = new_buffer(8192);
  uint32_t *words = lnuma_buffer_data(buf);
  words[3] = 42;
  /* Before lnuma is required: the hand-off opens lnuma.core itself. */
  lnuma_lua_push_buffer(L, buf, LNUMA_LUA_GIVE);
  run(L, "local buf = ...\n"
         "local lnuma = require 'lnuma'\n"
         "assert(lnuma.type(buf) == 'buffer', lnuma.type(buf))\n"
         "assert(buf:size() == 8192 and #buf == 8192)\n"
         "assert(buf:get('u32', 3) == 42)\n"
         "buf:set('u32', 4, 7)\n"
         "assert(buf:placement().pages == 2)\n");
  assert_int_equal(words[4], 7);
  lua_close(L); /* the collector unmaps it: valgrind and ASan see no leak */
}

static void a_given_buffer_freed_in_lua_is_gone(void **state) {
  (void)state;
  lua_State *L = new_state();
  lnuma_lua_push_buffer(L, new_buffer(4096), LNUMA_LUA_GIVE);
  run(L, "local buf = ...\n"
         "local view = buf:view(0, 16)\n"
         "buf:free()\n"
         "assert(require('lnuma').type(buf) == 'freed buffer')\n"
         "assert(not pcall(buf.get, buf, 'u8', 0))\n"
         "assert(not pcall(view.get, view, 'u8', 0))\n"
         "buf:free() -- twice is harmless\n");
  lua_close(L);
}

static void a_lent_buffer_stays_the_hosts(void **state) {
  (void)state;
  lua_State *L = new_state();
  lnuma_buffer *buf = new_buffer(4096);
  lnuma_lua_push_buffer(L, buf, LNUMA_LUA_LEND);
  run(L, "local buf = ...\n"
         "buf:set('u64', 1, 123456789)\n"
         "buf:free() -- lets go of the handle only\n"
         "collectgarbage() collectgarbage()\n");
  lua_close(L);
  /* Still mapped and ours. */
  assert_int_equal(((uint64_t *)lnuma_buffer_data(buf))[1], 123456789);
  lnuma_buffer_free(buf);
}

static void pools_given_and_lent(void **state) {
  (void)state;
  lnuma_error err;
  lnuma_pool *pool = lnuma_pool_create(64, 10, 0, NULL, &err);
  assert_non_null(pool);
  lua_State *L = new_state();
  lnuma_lua_push_pool(L, pool, LNUMA_LUA_LEND);
  run(L, "local pool = ...\n"
         "assert(require('lnuma').type(pool) == 'pool')\n"
         "assert(pool:count() == 10 and pool:available() == 10)\n"
         "local a, b = pool:get(), pool:get()\n"
         "a:set('u8', 0, 9)\n"
         "pool:put(b)\n"
         "assert(pool:available() == 9)\n"
         "assert(not pcall(pool.put, pool, b)) -- double put\n"
         "pool:free()\n");
  lua_close(L);
  /* The host's pool lives on, with the object Lua kept. */
  assert_int_equal(lnuma_pool_available(pool), 9);
  lnuma_pool_destroy(pool);

  pool = lnuma_pool_create(128, 4, 0, NULL, &err);
  assert_non_null(pool);
  L = new_state();
  lnuma_lua_push_pool(L, pool, LNUMA_LUA_GIVE);
  run(L, "local pool = ...\n"
         "assert(pool:object_size() == 128)\n"
         "assert(pool:get())\n");
  lua_close(L); /* destroyed by the collector */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(preload_opens_the_module_and_its_face),
      cmocka_unit_test(the_host_embeds_the_module_without_cli_or_svg),
      cmocka_unit_test(a_given_buffer_is_a_buffer_lua_frees),
      cmocka_unit_test(a_given_buffer_freed_in_lua_is_gone),
      cmocka_unit_test(a_lent_buffer_stays_the_hosts),
      cmocka_unit_test(pools_given_and_lent),
  };
  return cmocka_run_group_tests_name("lua_host", tests, NULL, NULL);
}
