--- Adversarial values for the API fuzzer (spec/fuzz/fuzz.lua): numbers at
-- every edge, garbage and NUL-bearing strings, option tables built from the
-- words the sources use, live and freed objects, and "trap" tables and
-- functions whose metamethods free objects, run the collector, raise or
-- re-enter the API in the middle of a call.
--
-- A generator is made per run (`gen.new(rng, ctx)`); ctx holds the pool of
-- objects the run made, the dictionary and the paths.  Nothing here uses
-- math.random: the run's own generator (rng) makes it reproducible from its
-- seed whatever the code under test does to math.random.

local gen = {}

-- ---- the run's random numbers: splitmix64 ------------------------------------------

--- A seeded generator: `r.int(n)` in 1..n, `r.chance(p)`, `r.pick(array)`.
function gen.rng(seed)
  local state = seed
  local r = {}
  local function next64()
    state = state + 0x9E3779B97F4A7C15
    local z = state
    z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * 0x94D049BB133111EB
    return z ~ (z >> 31)
  end
  r.next64 = next64
  function r.int(n) return (next64() >> 1) % n + 1 end
  function r.range(lo, hi) return lo + (next64() >> 1) % (hi - lo + 1) end
  function r.chance(p) return (next64() >> 11) * (1.0 / 9007199254740992.0) < p end
  function r.pick(t) return t[r.int(#t)] end
  return r
end

-- ---- scalars ------------------------------------------------------------------------

local MAXI, MINI = math.maxinteger, math.mininteger
-- Edges a binding must check: type widths, sign, overflow of n * size.
local EDGE_INTS = { MAXI, MINI, MAXI - 1, MINI + 1, -1, -2, 2147483647, 2147483648,
                    -2147483648, 4294967295, 4294967296, 4294967296 + 64, 1 << 53,
                    (1 << 53) + 1, 1 << 62, (1 << 62) + 1, 1 << 44, 1 << 48, 65535, 65536,
                    1 << 59, 1 << 60 }
-- The same, without the values a cost limit would accept as large and valid
-- (a 2^31 min_time or size is legal and slow, not an edge).
local SMALL_EDGE_INTS = { MINI, MINI + 1, -1, -2, -2147483648, -4294967296, 0, 1 }
local EDGE_FLOATS = { 0 / 0, -(0 / 0), math.huge, -math.huge, -0.0, 0.5, -0.5, 1e308,
                      -1e308, 2.0 ^ 63, -(2.0 ^ 63), 2.0 ^ 64, 1e-300, 4096.0, 1.5,
                      2.0 ^ 53 + 2, 2.0 ^ 31 }
local SMALL_EDGE_FLOATS = { 0 / 0, math.huge, -math.huge, -0.0, 0.5, -0.5, 1e308, -1e308,
                            2.0 ^ 63, 2.0 ^ 64, 1e-300, 1.5, -(2.0 ^ 63) }
local SIZE_STRINGS = { "4K", "64K", "1M", "2M", "4k", "1m", "16M", "0", "1", "64", "4096",
                       "1K ", " 1K", "1.5M", "1KB", "1KiB", "-1", "-4K", "0x1000", "1e3",
                       "1T", "1P", "1E", "16E", "99999999999G", "9223372036854775807",
                       "9223372036854775808", "18446744073709551616", "1M\0garbage",
                       "\0", "1\0", "K", "M", "", " ", "4096K\0", "0K", "1G" }
local SMALL_SIZE_STRINGS = { "4K", "64K", "4k", "0", "1", "64", "1K ", "1.5K", "1KB",
                             "-1", "-4K", "0x10", "1e3", "1T", "1P", "1E", "16E",
                             "99999999999G", "9223372036854775808", "18446744073709551616",
                             "1M\0garbage", "\0", "K", "", " " }
local CPULISTS = { "0", "0-1", "1", "0,1", "0-3,8", "1-0", "0-", "-1", "0--1", ",", "0,,1",
                   "0-100000000", "0-8191", "8191", "8192", "2147483647", "4294967296",
                   "0-1\0", "a-b", "0x1", "0-1:2", "all", "0-3,0-3", " 0", "0 ", "00" }
local FORMATS = { "%s", "%d%d%d%d", "%n", "%99999999d", "%", "%q", "%.9999f", "%I", "%p%p",
                  "%U", "%f", "%c" }
local SYNTHETIC = { "pack:2 numa:1 core:2 pu:2", "pack:2 numa:2 core:2 pu:2",
                    "pack:1 numa:1 core:1 pu:1", "numa:4 core:2 pu:1", "pack:0", "pu:0",
                    "pack:2 numa:1", "garbage", "", "pack:2 numa:1 core:2 pu:2\0x",
                    "pack:9999999", "pack:4 numa:4 core:4 pu:2", "node:2 pu:2",
                    "pack:2 [numa(memory=1)] core:1 pu:1", "pack:2 numa:2 pu:2 numa:2" }

gen.SMALL_SIZE_STRINGS = SMALL_SIZE_STRINGS
gen.SYNTHETIC = SYNTHETIC

--- A generator of values for one run.
-- @param r the run's rng
-- @param ctx `objects` (the pool: `{list = {...}}` of live and freed values),
--   `words` (dictionary), `paths`, `callables` (functions fit to pass as
--   values), `keys_for(fname)` (option keys learned for a function)
function gen.new(r, ctx)
  local g = { traps = 0 }
  local pick, int, chance = r.pick, r.int, r.chance

  function g.integer(small)
    local x = int(100)
    if x <= 40 then return r.range(0, 16) end
    if x <= 58 then
      local e = r.range(0, small and 6 or 16)
      return (1 << e) + r.range(-1, 1)
    end
    if x <= 66 then return r.range(0, small and 64 or (1 << 20)) end
    if x <= 74 then return -r.range(1, 16) end
    return pick(small and SMALL_EDGE_INTS or EDGE_INTS)
  end

  --- A value at an edge: what a replayed call gets in place of one argument.
  function g.edge(small)
    local x = int(10)
    if x <= 2 and not small then return pick { MAXI, MINI, -1, 0, 1 << 32, 1 << 62 } end
    if x <= 4 then return pick(small and SMALL_EDGE_INTS or EDGE_INTS) end
    if x <= 6 then return pick(small and SMALL_EDGE_FLOATS or EDGE_FLOATS) end
    if x == 7 then return pick(small and SMALL_SIZE_STRINGS or SIZE_STRINGS) end
    if x == 8 then return g.trap({}, small) end
    if x == 9 then return g.object() end
    return pick { false, "", "\0", -1, 0 }
  end

  function g.number(small)
    if chance(0.75) then return g.integer(small) end
    return pick(small and SMALL_EDGE_FLOATS or EDGE_FLOATS)
  end

  local function bytes(n)
    local t = {}
    for i = 1, n do t[i] = string.char(r.range(0, 255)) end
    return table.concat(t)
  end

  function g.string(small)
    local x = int(100)
    if x <= 22 then return pick(ctx.words) end
    if x <= 34 then return pick(small and SMALL_SIZE_STRINGS or SIZE_STRINGS) end
    if x <= 42 then return pick(CPULISTS) end
    if x <= 50 then return pick(ctx.paths) end
    if x <= 56 then return pick(SYNTHETIC) end
    if x <= 62 then return pick(FORMATS) end
    if x <= 70 then return tostring(g.number(small)) end
    if x <= 80 then return bytes(r.range(0, 12)) end
    if x <= 86 then return pick(ctx.words) .. "\0" .. bytes(r.range(0, 4)) end
    if x <= 92 then return "" end
    -- Long strings: names, paths and messages built from them must cope.
    return string.rep(pick { "x", "\0", "%", "0-1,", "\255" }, pick { 255, 256, 4096, 65537 })
  end

  -- ---- objects and functions ---------------------------------------------------------

  function g.object()
    local list = ctx.objects.list
    if #list == 0 then return nil end
    return list[int(#list)]
  end

  -- The destructive moves a trap makes in the middle of a call.  free_one
  -- frees mostly an object the call is working on (ctx.current: its
  -- self and arguments), else any object of the pool.
  local function free_one()
    local cur = ctx.current
    local o
    if cur and #cur > 0 and chance(0.75) then o = cur[int(#cur)] else o = g.object() end
    if o == nil then return end
    local mt = getmetatable(o)
    local idx = type(mt) == "table" and rawget(mt, "__index")
    if type(idx) ~= "table" then return end
    for _, m in ipairs { "free", "reset", "put" } do
      local f = rawget(idx, m)
      if type(f) == "function" and chance(0.7) then
        pcall(f, o, m == "put" and g.object() or nil)
        return
      end
    end
  end

  -- A full collection, at most a few times a call (a trap in a loop of the
  -- callee would otherwise collect thousands of times).
  local function collect()
    ctx.collects = ctx.collects + 1
    if ctx.collects <= 4 then collectgarbage("collect") end
  end

  local function drop_and_collect()
    local list = ctx.objects.list
    if #list > 0 then table.remove(list, int(#list)) end
    collect()
  end

  -- A call of a random function from inside a trap: at most a few a call
  -- (each may leave a buffer to the collector, which does not see the
  -- memory behind it).
  local function reenter(small)
    local f = pick(ctx.callables)
    ctx.reentries = ctx.reentries + 1
    if ctx.depth >= 1 or ctx.reentries > 4 then return end
    ctx.depth = ctx.depth + 1
    pcall(f, g.value(1, small), g.value(1, small))
    ctx.depth = ctx.depth - 1
  end

  -- An evil action; returns a description and the function that does it.
  local ACTIONS = { "free", "free", "free", "gc", "collect", "error", "errobj", "value",
                    "value", "yield", "reenter", "free+value", "free+value", "fresh", "fresh" }

  -- A string nothing else refers to (long strings are not interned), so the
  -- next collection frees it: a binding that keeps a pointer into a string
  -- it popped reads freed memory.  Spaces keep numbers numbers ("1   ").
  local function fresh_string()
    local base = chance(0.5) and pick(ctx.words) or tostring(r.range(0, 64))
    return base .. string.rep(" ", r.range(41, 60))
  end
  local function action(small)
    local a = pick(ACTIONS)
    local v = g.value(2, small)
    local fns = {
      free = function() free_one() end,
      gc = function() drop_and_collect() end,
      collect = function() collect() end,
      error = function() error("fuzz trap") end,
      errobj = function()
        error(setmetatable({}, { __tostring = function() error("fuzz __tostring") end }))
      end,
      value = function() return v end,
      yield = function() if coroutine.isyieldable() then coroutine.yield(v) end return v end,
      reenter = function() reenter(small) return v end,
      ["free+value"] = function() free_one() collect() return v end,
      fresh = function() collect() return fresh_string() end,
    }
    g.traps = g.traps + 1
    ctx.trapped[a] = true
    return a, fns[a]
  end

  --- A callback: a function that does one evil action when called.
  function g.callback(small)
    local a, f = action(small)
    local cb = function(...) return f(...) end
    ctx.names[cb] = "cb<" .. a .. ">"
    return cb
  end

  -- The metamethods C code runs (lua_getfield, luaL_len, lua_next through
  -- __pairs in Lua) come first.
  local META = { "__index", "__index", "__index", "__index", "__len", "__len", "__len",
                 "__pairs", "__pairs", "__newindex", "__call", "__tostring", "__eq", "__lt",
                 "__le", "__concat", "__close", "__name", "__unm", "__add" }

  --- Wraps t in a metatable of one to three trap metamethods (distinct).
  function g.trap(t, small)
    local mt, parts = {}, {}
    for _ = 1, r.range(1, 3) do
      local m = pick(META)
      if mt[m] == nil then
        local a, f = action(small)
        if m == "__len" and chance(0.6) then
          local n = pick { 1 << 60, -1, MAXI, 0 / 0, 2.5, "12", 1 << 31, 1 << 59, 1 << 62 }
          mt.__len = function() f() return n end
          a = a .. ":" .. tostring(n)
        elseif m == "__name" then
          mt.__name = pick { 42, {}, "lnuma.Buffer", "x\0y" }
        elseif m == "__pairs" then
          mt.__pairs = function(tt)
            f()
            return next, tt, nil
          end
        else
          mt[m] = function(...) return f(...) end
        end
        parts[#parts + 1] = m .. "=" .. a
      end
    end
    setmetatable(t, mt)
    ctx.names[t] = "trap{" .. table.concat(parts, ",") .. "}"
    return t
  end

  -- ---- tables --------------------------------------------------------------------------

  --- An options table: keys the function is known to take, words of the
  -- sources, now and then a non-string key.
  function g.options(fname, depth, small)
    local t = {}
    local known = ctx.keys_for(fname)
    for _ = 1, r.range(0, 3) do
      local k
      if #known > 0 and chance(0.6) then
        k = pick(known)
      elseif chance(0.9) then
        k = pick(ctx.words)
      else
        k = pick { 1, true, 0.5, "", "\0" }
      end
      t[k] = g.value(depth + 1, small)
    end
    return t
  end

  function g.array(depth, small)
    local t = {}
    local n = pick { 0, 1, 2, 3, 5, 10, 64 }
    local kind = int(4)
    for i = 1, n do
      if kind == 1 then t[i] = g.integer(small)
      elseif kind == 2 then t[i] = g.number(small)
      elseif kind == 3 then t[i] = g.value(depth + 1, small)
      else t[i] = r.range(0, 3) end
    end
    if chance(0.1) then t[n + 2] = 1 end -- a hole
    return t
  end

  -- A deep copy of a result with one value swapped for a bad one (the
  -- tampered result a renderer must survive).
  local function tamper(v, depth, small, seen)
    if type(v) ~= "table" or getmetatable(v) ~= nil or depth > 6 then return v end
    seen = seen or {}
    if seen[v] then return seen[v] end
    local c = {}
    seen[v] = c
    local keys = {}
    for k, x in next, v do
      c[k] = tamper(x, depth + 1, small, seen)
      keys[#keys + 1] = k
    end
    if #keys > 0 and chance(0.4) then
      c[pick(keys)] = g.value(3, small)
    end
    return c
  end

  function g.result(depth, small)
    local list = ctx.results
    if #list == 0 then return g.options(nil, depth, small) end
    local res = list[int(#list)]
    if chance(0.5) then return res end
    return tamper(res, depth, small)
  end

  --- Any value.  depth bounds nesting; small leaves out values a cost limit
  -- would accept as large (sizes, times, counts).
  function g.value(depth, small)
    depth = depth or 0
    local x = int(100)
    if x <= 8 then return nil end
    if x <= 12 then return chance(0.5) end
    if x <= 36 then return g.number(small) end
    if x <= 56 then return g.string(small) end
    if depth >= 3 then return g.integer(small) end
    if x <= 66 then
      local t = g.options(nil, depth, small)
      if chance(0.25) then g.trap(t, small) end
      return t
    end
    if x <= 72 then
      local t = g.array(depth, small)
      if chance(0.2) then g.trap(t, small) end
      return t
    end
    if x <= 77 then return g.result(depth, small) end
    if x <= 92 then return g.object() end
    if x <= 96 then return g.callback(small) end
    if #ctx.callables > 0 then return pick(ctx.callables) end
    return nil
  end

  return g
end

-- ---- descriptions (the log line of a call) -----------------------------------------------

--- A short, single-line text for a value, without running any metamethod.
function gen.describe(v, names, depth)
  depth = depth or 0
  local tv = type(v)
  if tv == "nil" or tv == "boolean" then return tostring(v) end
  if tv == "number" then
    if v ~= v then return "0/0" end
    if v == math.huge then return "1/0" end
    if v == -math.huge then return "-1/0" end
    if math.type(v) == "integer" then return string.format("%d", v) end
    return string.format("%.17g", v)
  end
  if tv == "string" then
    if #v > 48 then return string.format("%q..(%d bytes)", v:sub(1, 24), #v):gsub("\n", "n") end
    return (string.format("%q", v):gsub("\\\n", "\\n"))
  end
  local name = names[v]
  if tv ~= "table" then return name or ("<" .. tv .. ">") end
  if name and name:sub(1, 1) == "<" then return name end
  if depth >= 2 then return name or "{...}" end
  local parts, n = {}, 0
  for k, x in next, v do
    n = n + 1
    if n > 8 then parts[#parts + 1] = "..." break end
    local ks = type(k) == "string" and k:match("^[%a_][%w_]*$") and k
               or "[" .. gen.describe(k, names, depth + 1) .. "]"
    parts[#parts + 1] = ks .. "=" .. gen.describe(x, names, depth + 1)
  end
  local body = "{" .. table.concat(parts, ",") .. "}"
  if name then return name .. body end
  return body
end

return gen
