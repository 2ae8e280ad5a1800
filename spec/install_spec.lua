-- The installed C library: `make install PREFIX=p` gives a host everything it
-- needs through pkg-config, and `make uninstall` takes it all away again.
local build = os.getenv("LNUMA_BUILD") or "build"
local H = dofile("spec/support/helpers.lua")

local sh = H.sh

local HOST = [[
#include <stdio.h>
#include <lauxlib.h>
#include <lualib.h>
#include <lnuma.h>
#include <lnuma_lua.h>

int main(int argc, char **argv) {
  lnuma_error err;
  lnuma_plan *plan = lnuma_plan_load(argv[argc - 1], NULL, &err);
  if (plan == NULL) { fprintf(stderr, "%s\n", err.msg); return 1; }
  lnuma_plan_applied *applied = lnuma_plan_apply(plan, &err);
  if (applied == NULL) { fprintf(stderr, "%s\n", err.msg); return 1; }
  const lnuma_plan_placed_region *ring = lnuma_plan_applied_region_named(applied, "ring");
  printf("regions %zu pools %zu ring %zu ok %d\n", lnuma_plan_applied_region_count(applied),
         lnuma_plan_applied_pool_count(applied), ring->size, ring->ok);
  lnuma_plan_applied_free(applied);
  lnuma_plan_free(plan);
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lnuma_lua_preload(L);
  if (luaL_dostring(L, "package.path = '/usr/share/lua/5.4/?.lua' package.cpath = '' "
                       "return require('lnuma')._VERSION") != LUA_OK) {
    fprintf(stderr, "%s\n", lua_tostring(L, -1));
    return 1;
  }
  printf("version %s lua %s\n", lnuma_version(), lua_tostring(L, -1));
  lua_close(L);
  return 0;
}
]]

describe("make install", function()
  it("installs a library, headers and lnuma.pc that build a host out of tree", function()
    local _, tmp = sh("mktemp -d")
    tmp = tmp:gsub("%s+$", "")
    finally(function() sh("rm -rf " .. tmp) end)
    local prefix = tmp .. "/prefix"
    local ok, out = sh(("make -s install BUILD=%s PREFIX=%s"):format(build, prefix))
    assert.is_true(ok, out)
    for _, f in ipairs { "include/lnuma.h", "include/lnuma_lua.h", "include/lnuma/plan.h",
                         "lib/liblnuma.a", "lib/liblnuma.so", "lib/liblnuma.so.0",
                         "lib/pkgconfig/lnuma.pc", "bin/lnuma", "share/lua/5.4/lnuma/plan.lua",
                         "lib/lua/5.4/lnuma/core.so" } do
      assert.is_true(sh("test -e " .. prefix .. "/" .. f), f .. " is not installed")
    end
    local _, soname = sh("objdump -p " .. prefix .. "/lib/liblnuma.so | grep SONAME")
    assert.matches("liblnuma%.so%.0", soname)

    -- The host lives elsewhere and knows lnuma only through pkg-config.
    local src = tmp .. "/host"
    assert(sh("mkdir -p " .. src))
    local f = assert(io.open(src .. "/host.c", "w"))
    f:write(HOST)
    f:close()
    assert(sh(("cp examples/host/engine.lua %s/plan.lua"):format(src)))
    local env = ("PKG_CONFIG_PATH=%s/lib/pkgconfig"):format(prefix)
    local ok2, out2 = sh(("cd %s && %s cc -std=c11 -Wall -Werror host.c -o host "
      .. "$(%s pkg-config --cflags --libs lnuma)"):format(src, env, env))
    assert.is_true(ok2, out2)
    local _, flags = sh(env .. " pkg-config --cflags --libs lnuma")
    assert.matches("%-I" .. prefix:gsub("%p", "%%%0") .. "/include", flags)
    assert.not_matches("csrc", flags)
    local ok3, out3 = sh(("cd / && LD_LIBRARY_PATH=%s/lib %s/host %s/plan.lua")
      :format(prefix, src, src))
    assert.is_true(ok3, out3)
    assert.matches("regions 2 pools 1 ring 4194304 ok 1", out3)
    local lnuma = require "lnuma"
    assert.matches("version " .. lnuma._VERSION:gsub("%.", "%%.") .. " lua "
                   .. lnuma._VERSION:gsub("%.", "%%."), out3)
    local _, ldd = sh(("LD_LIBRARY_PATH=%s/lib ldd %s/host"):format(prefix, src))
    assert.matches(prefix:gsub("%p", "%%%0") .. "/lib/liblnuma%.so%.0", ldd)
    -- Built as the README says (rpath from pkg-config), it starts with no
    -- LD_LIBRARY_PATH; without the rpath the loader says what is missing.
    local ok5, out5 = sh(("cd %s && %s cc -std=c11 -Wall -Werror host.c -o host-rpath "
      .. "$(%s pkg-config --cflags --libs lnuma) -Wl,-rpath,$(%s pkg-config --variable=libdir "
      .. "lnuma)"):format(src, env, env, env))
    assert.is_true(ok5, out5)
    local ok6, out6 = sh(("cd / && env -u LD_LIBRARY_PATH %s/host-rpath %s/plan.lua")
      :format(src, src))
    assert.is_true(ok6, out6)
    assert.matches("regions 2 pools 1 ring 4194304 ok 1", out6)
    local ok7, out7 = sh(("cd / && env -u LD_LIBRARY_PATH %s/host %s/plan.lua"):format(src, src))
    assert.is_falsy(ok7)
    assert.matches("liblnuma%.so%.0", out7)

    -- uninstall removes exactly what install put there
    local ok4, out4 = sh(("make -s uninstall BUILD=%s PREFIX=%s"):format(build, prefix))
    assert.is_true(ok4, out4)
    local _, left = sh("find " .. prefix .. " -mindepth 1")
    assert.equal("", left)
  end)
end)

describe("the version", function()
  it("is one string in C, in Lua, in the Makefile and in the rockspec", function()
    local lnuma = require "lnuma"
    local f = assert(io.open("csrc/include/lnuma.h"))
    local header = f:read("a")
    f:close()
    assert.equal(lnuma._VERSION, header:match('#define LNUMA_VERSION_STRING "([^"]+)"'))
    f = assert(io.open("Makefile"))
    local makefile = f:read("a")
    f:close()
    -- The Makefile reads it from the header (no copy of its own).
    assert.equal("$(VERSION)", makefile:match("\nSOVERSION%s*=%s*(%S+)"))
    assert.matches("\nVERSION%s*:=%s*$%(shell sed [^\n]*LNUMA_VERSION_STRING[^\n]*"
                   .. "csrc/include/lnuma%.h%)", makefile)
    local ok, out = dofile("spec/support/helpers.lua").sh("make -s -p -n all 2>/dev/null "
      .. "| grep -m1 '^VERSION :='")
    assert.is_true(ok)
    assert.equal("VERSION := " .. lnuma._VERSION, (out:gsub("%s+$", "")))
    local spec = {}
    f = assert(io.open("rockspec/lnuma-scm-1.rockspec"))
    assert(load(f:read("a"), "rockspec", "t", spec))()
    f:close()
    local base = spec.version:match("^(.-)%-%d+$")
    -- A development rock is "scm"; a release rock carries the version itself.
    assert.is_true(base == "scm" or base == lnuma._VERSION, spec.version)
  end)
end)
