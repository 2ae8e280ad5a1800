-- The rock is how most Lua users install lnuma: it must build from the same
-- sources as the Makefile and work from a tree of its own.

local H = dofile("spec/support/helpers.lua")
local read, sh = H.read, H.sh


local function listdir(pattern)
  local _, out = sh("ls " .. pattern)
  local files = {}
  for line in out:gmatch("[^\n]+") do files[#files + 1] = line end
  table.sort(files)
  return files
end

describe("the rockspec", function()
  local text = read("rockspec/lnuma-scm-1.rockspec")
  local spec = {}
  assert(load(text, "rockspec", "t", spec))()

  it("compiles exactly the C sources the Makefile compiles", function()
    local sources = {}
    for _, s in ipairs(spec.build.modules["lnuma.core"].sources) do sources[#sources + 1] = s end
    table.sort(sources)
    local expected = listdir("csrc/core/*.c csrc/lua/*.c")
    assert.same(expected, sources)
  end)

  -- luarocks compiles at -O2, where GCC leaves some sums scalar (half the
  -- speed): the measured loops carry their -O3 in optimize.h instead.
  it("builds the measured loops -O3 at any -O: optimize.h comes first in each", function()
    local files = listdir("csrc/core/kernels_*.c csrc/core/bulk*.c")
    assert.is_true(#files >= 10)
    for _, file in ipairs(files) do
      local first = read(file):match('#include%s+(%S+)')
      assert.equal('"optimize.h"', first, file)
    end
  end)

  it("maps every Lua module under lua/lnuma", function()
    local mapped = {}
    for name, file in pairs(spec.build.modules) do
      if type(file) == "string" then mapped[#mapped + 1] = file end
      if name == "lnuma" then assert.equal("lua/lnuma/init.lua", file) end
    end
    table.sort(mapped)
    assert.same(listdir("lua/lnuma/*.lua lua/lnuma/*/*.lua"), mapped)
  end)

  it("declares libnuma and hwloc as external dependencies", function()
    assert.is_table(spec.external_dependencies.NUMA)
    assert.is_table(spec.external_dependencies.HWLOC)
  end)

  it("installs into a throw-away tree, and lnuma loads from there", function()
    if not sh("command -v luarocks >/dev/null") then
      pending("luarocks is not installed (make deps installs it)")
      return
    end
    local _, tmp = sh("mktemp -d")
    tmp = tmp:gsub("%s+$", "")
    finally(function() sh("rm -rf " .. tmp) end)
    -- Build from a copy, so that the rock's in-tree objects do not touch the checkout.
    -- argparse and dkjson come from Debian here (no rock server is reachable),
    -- hence --deps-mode=none.
    assert(sh(("mkdir -p %s/src && cp -r csrc lua bin rockspec %s/src"):format(tmp, tmp)))
    local ok, out = sh(("cd %s/src && luarocks --lua-version=5.4 make "
      .. "--deps-mode=none rockspec/lnuma-scm-1.rockspec --tree=%s/tree"):format(tmp, tmp))
    assert.is_true(ok, out)
    local tree = tmp .. "/tree"
    local lua = ("cd / && LUA_PATH='%s/share/lua/5.4/?.lua;%s/share/lua/5.4/?/init.lua;;' "
      .. "LUA_CPATH='%s/lib/lua/5.4/?.so' lua5.4 -e "):format(tree, tree, tree)
    local ok2, version = sh(lua .. "'local l = require \"lnuma\"; io.write(l._VERSION, \" \", "
      .. "package.searchpath(\"lnuma.core\", package.cpath))'")
    assert.is_true(ok2, version)
    assert.matches("^" .. require("lnuma")._VERSION:gsub("%.", "%%.") .. " " .. tree, version)
    -- The rock's own wrapper (bin/lnuma) activates the rock through the luarocks
    -- loader, which refuses it here since argparse/dkjson are Debian's, not
    -- rocks; so run the installed script with the tree's paths instead.
    local script = tree .. "/lib/luarocks/rocks-5.4/lnuma/scm-1/bin/lnuma"
    local ok3, cli = sh(lua:gsub(" %-e $", " ") .. script .. " --version")
    assert.is_true(ok3, cli)
    assert.matches("^lnuma %d+%.%d+%.%d+", cli)
  end)

  it("make rock writes a release rock that installs where there is no checkout", function()
    if not sh("command -v luarocks >/dev/null") then
      pending("luarocks is not installed (make deps installs it)")
      return
    end
    local _, tmp = sh("mktemp -d")
    tmp = tmp:gsub("%s+$", "")
    finally(function() sh("rm -rf " .. tmp) end)
    local version = require("lnuma")._VERSION
    local ok, out = sh(("make -s rock ROCK_DIR=%s/rock"):format(tmp))
    assert.is_true(ok, out)
    local release = read(("%s/rock/lnuma-%s-1.rockspec"):format(tmp, version))
    assert.matches('\nversion = "' .. version:gsub("%.", "%%.") .. '%-1"\n', release)
    -- Elsewhere, with only the .src.rock: the archive travels inside it.
    assert(sh(("mkdir %s/away && mv %s/rock/lnuma-%s-1.src.rock %s/away/ && rm -rf %s/rock")
      :format(tmp, tmp, version, tmp, tmp)))
    local ok2, out2 = sh(("cd %s/away && luarocks --lua-version=5.4 install --deps-mode=none "
      .. "--tree=%s/tree ./lnuma-%s-1.src.rock"):format(tmp, tmp, version))
    assert.is_true(ok2, out2)
    local tree = tmp .. "/tree"
    local script = ("%s/lib/luarocks/rocks-5.4/lnuma/%s-1/bin/lnuma"):format(tree, version)
    local ok3, cli = sh(("cd / && LUA_PATH='%s/share/lua/5.4/?.lua;%s/share/lua/5.4/?/init.lua;;' "
      .. "LUA_CPATH='%s/lib/lua/5.4/?.so' lua5.4 %s topo --json"):format(tree, tree, tree, script))
    assert.is_true(ok3, cli)
    assert.matches('"nodes"', cli)
  end)
end)
