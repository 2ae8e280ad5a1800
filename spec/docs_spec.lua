-- `make docs` renders the Lua API (LDoc) and the C API (Doxygen) with no
-- warning, a page for every module and header, and an entry for every
-- method of the userdata and objects whose methods are written in C (or set
-- on a metatable), found at run time from a real object's __index table: a
-- method added to a luaL_Reg table without its `@function Type:name` block
-- fails here, and so does an entry left behind for a method that is gone.

local lnuma = require "lnuma"

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok, _, code = p:close()
  return ok, out, code
end

local function read(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function lines(cmd)
  local out = {}
  for line in select(2, sh(cmd)):gmatch("[^\n]+") do out[#out + 1] = line end
  return out
end

local have_tools = sh("command -v ldoc >/dev/null && command -v doxygen >/dev/null")

-- The methods of an object: the function-valued keys of its metatable's
-- __index table (metamethods such as Plan.__index are left out).
local function methods_of(obj)
  local index = getmetatable(obj).__index
  assert.equals("table", type(index), "__index is not a table")
  local names = {}
  for k, v in pairs(index) do
    if type(k) == "string" and type(v) == "function" and not k:match("^__") then
      names[#names + 1] = k
    end
  end
  table.sort(names)
  return names
end

describe("make docs", function()
  local dir, ok, out

  lazy_setup(function()
    if not have_tools then return end
    dir = os.tmpname()
    os.remove(dir)
    -- -o deps: the packages are checked by `make deps`, not by this spec.
    ok, out = sh(("make -s -o deps docs BUILD=%s"):format(dir))
  end)

  lazy_teardown(function()
    if dir then os.execute(("rm -rf '%s'"):format(dir)) end
  end)

  local function page(rel)
    return read(dir .. "/docs/" .. rel)
  end

  it("renders both APIs with no warning (warnings are errors)", function()
    if not have_tools then return pending("ldoc or doxygen is not installed") end
    assert.is_true(ok, "make docs failed:\n" .. out)
    assert.is_not_nil(page("lua/index.html"), "no lua/index.html")
    assert.is_not_nil(page("c/html/index.html"), "no c/html/index.html")
  end)

  it("renders a page for every Lua module", function()
    if not have_tools then return pending("ldoc or doxygen is not installed") end
    local files = lines("find lua/lnuma -name '*.lua' | sort")
    assert.is_true(#files > 10, "no Lua modules found")
    local missing = {}
    for _, f in ipairs(files) do
      -- lua/lnuma/cli/topo.lua is lnuma.cli.topo; lua/lnuma/init.lua is lnuma.
      local name = f:match("^lua/(.-)%.lua$"):gsub("/init$", ""):gsub("/", ".")
      if not page("lua/modules/" .. name .. ".html") then missing[#missing + 1] = f end
    end
    assert.same({}, missing)
  end)

  it("renders a page for every C header", function()
    if not have_tools then return pending("ldoc or doxygen is not installed") end
    local files = lines("find csrc/include -name '*.h' | sort")
    assert.is_true(#files >= 3, "no headers found")
    local missing = {}
    for _, f in ipairs(files) do
      -- Doxygen's file page: "_" doubled, "." as "_8" (lnuma_lua.h: lnuma__lua_8h.html).
      local html = f:match("([^/]+)$"):gsub("_", "__"):gsub("%.", "_8") .. ".html"
      if not page("c/html/" .. html) then missing[#missing + 1] = f end
    end
    assert.same({}, missing)
  end)

  -- Type, the page that documents it, and how to make one.
  local types = {
    { "Buffer", "lnuma.memory", function() return assert(lnuma.alloc(4096)) end },
    { "Arena", "lnuma.memory", function() return assert(lnuma.arena { size = 4096 }) end },
    { "Pool", "lnuma.memory", function() return assert(lnuma.pool { size = 64, count = 2 }) end },
    { "Histogram", "lnuma", function() return lnuma.histogram() end },
    { "Topology", "lnuma.topology", function()
      return lnuma.topology { synthetic = "pack:1 numa:2 core:1 pu:1" }
    end },
    { "Plan", "lnuma.plan", function()
      local topo = lnuma.topology { synthetic = "pack:1 numa:2 core:1 pu:1" }
      return assert(lnuma.plan.check({ threads = { { name = "t", cpus = 0 } } },
                                     { topology = topo }))
    end },
  }

  for _, t in ipairs(types) do
    local tname, module, make = t[1], t[2], t[3]
    it("documents every method of " .. tname .. ", and no other", function()
      if not have_tools then return pending("ldoc or doxygen is not installed") end
      local obj = make()
      local names = methods_of(obj)
      if type(obj) == "userdata" and obj.free then obj:free() end
      assert.is_true(#names >= 3, tname .. ": no methods found")
      local html = page("lua/modules/" .. module .. ".html")
      assert.is_not_nil(html, "no page for " .. module)
      local missing = {}
      for _, m in ipairs(names) do
        if not html:find(('name = "%s:%s"'):format(tname, m), 1, true) then
          missing[#missing + 1] = tname .. ":" .. m
        end
      end
      assert.same({}, missing)
      -- And no entry for a method the object does not have (renamed, removed).
      local have, stale = {}, {}
      for _, m in ipairs(names) do have[m] = true end
      for m in html:gmatch('name = "' .. tname .. ':([%w_]+)"') do
        if not have[m] then stale[#stale + 1] = tname .. ":" .. m end
      end
      assert.same({}, stale)
    end)
  end
end)
