--- Placement plans: a Lua file that says which thread runs on which CPU and
-- where each memory region and pool lives, checked against a machine before
-- anything runs.
--
-- A plan file returns a table with `threads` (`name`, `cpus`, `uses`, `hot`),
-- `memory` (`name`, `size`, `node`, `policy`, `huge`) and `pools` (`name`,
-- `node`, `size`, `count`).  It runs in a sandbox: a fresh environment with
-- the safe parts of the standard library and a read-only global `topology`
-- (the target machine), under an instruction and a memory limit.
--
-- Limits: the instruction count is looked at every 1000 virtual-machine
-- instructions and memory at every allocation, so loops, recursion and
-- growing tables or strings stop within a second or two.  A single call into
-- a C function is not interrupted: a pathological string pattern over a long
-- subject (`("a"):rep(1e5):find(".-.-.-b")`) runs until it finishes.
--
-- This module is the one place where plans are checked: `lnuma_plan_load()`
-- in C runs it in a private Lua state.
-- @module lnuma.plan

local core = require "lnuma.core"

local plan = {}

--- Default limits of a plan's run: instructions executed and bytes allocated.
plan.LIMITS = { instructions = 50000000, memory = 32 * 1024 * 1024 }

--- Memory policies a region may ask for (as `lnuma.alloc` takes them).
plan.POLICIES = { "bind", "preferred", "preferred_many", "interleave",
                  "weighted_interleave", "local" }

local HUGE = { thp = "thp", ["2m"] = "2M", ["1g"] = "1G", none = "none", default = "default" }

local KEYS = {
  plan = { "threads", "memory", "pools" },
  thread = { "name", "cpus", "uses", "hot" },
  region = { "name", "size", "node", "policy", "huge" },
  pool = { "name", "node", "size", "count" },
}

local Plan = {}
Plan.__index = Plan

-- What a plan object knows but does not show (a topology is no plain data).
local private = setmetatable({}, { __mode = "k" })

-- ---------------------------------------------------------------- helpers --

local function fail(path, fmt, ...)
  error(path .. ": " .. fmt:format(...), 0)
end

local function key_path(path, key)
  if math.type(key) == "integer" then return ("%s[%d]"):format(path, key) end
  if type(key) == "string" and key:match("^[%a_][%w_]*$") then
    return path == "" and key or path .. "." .. key
  end
  return ("%s[%s]"):format(path, type(key) == "string" and ("%q"):format(key) or type(key))
end

-- A value as an error message shows it (never calls a metamethod).
local function show(v)
  local t = type(v)
  if t == "string" then return ("%q"):format(#v > 40 and v:sub(1, 40) .. "..." or v) end
  if t == "number" or t == "boolean" then return tostring(v) end
  return "a " .. t
end

local function human(bytes)
  local units = { "bytes", "KiB", "MiB", "GiB", "TiB" }
  local v, u = bytes, 1
  while v >= 1024 and u < #units do v, u = v / 1024, u + 1 end
  if u == 1 then return ("%d bytes"):format(bytes) end
  return (v == math.floor(v) and "%d %s" or "%.1f %s"):format(v, units[u])
end

local function cpulist(set)
  if #set == 0 then return "none" end
  return core.cpulist(set)
end

local function contains(set, x)
  for _, v in ipairs(set) do if v == x then return true end end
  return false
end

-- The message of an argument error raised by a C function, without the
-- "bad argument #1 to 'f' (what: ...)" wrapping.
local function inner(msg)
  return tostring(msg):match("%(%w+: (.*)%)$") or tostring(msg)
end

-- --------------------------------------------------------- plain records --

-- Checks that t is a table whose keys are exactly 1..#t (raw access only:
-- a plan's tables are data, and no metamethod of theirs runs here).
local function check_list(t, path)
  if type(t) ~= "table" then fail(path, "a list expected, got %s", show(t)) end
  local n = rawlen(t)
  for k in next, t do
    if math.type(k) ~= "integer" or k < 1 or k > n then
      fail(key_path(path, k), "unexpected key in a list (write %s = { {...}, {...} })",
           path:match("[%w_]+$") or path)
    end
  end
  return n
end

local function check_record(t, path, known)
  if type(t) ~= "table" then fail(path, "a table expected, got %s", show(t)) end
  for k in next, t do
    local ok = false
    for _, name in ipairs(known) do if k == name then ok = true end end
    if not ok then
      fail(key_path(path, k), "unknown key (expected %s)", table.concat(known, ", "))
    end
  end
end

local function field_name(t, path)
  local v = rawget(t, "name")
  if v == nil then fail(path .. ".name", "missing") end
  if type(v) ~= "string" or v == "" then
    fail(path .. ".name", "a non-empty string expected, got %s", show(v))
  end
  return v
end

local function field_size(v, path)
  if v == nil then fail(path, "missing") end
  if type(v) ~= "number" and type(v) ~= "string" then
    fail(path, "a size expected (bytes or a string like \"64M\"), got %s", show(v))
  end
  local ok, n = pcall(core.size, v)
  if not ok then fail(path, "%s", inner(n)) end
  if n <= 0 then fail(path, "must be positive, got %s", show(v)) end
  return n
end

local function field_count(v, path)
  if v == nil then fail(path, "missing") end
  if math.type(v) ~= "integer" or v <= 0 then
    fail(path, "a positive integer expected, got %s", show(v))
  end
  return v
end

-- A set of CPUs or nodes: an integer, a list of integers or a cpulist string.
local function field_set(v, path)
  if v == nil then fail(path, "missing") end
  local t = type(v)
  if t == "table" then
    local n = check_list(v, path)
    for i = 1, n do
      local x = rawget(v, i)
      if math.type(x) ~= "integer" then
        fail(key_path(path, i), "an integer expected, got %s", show(x))
      end
    end
  elseif t ~= "string" and math.type(v) ~= "integer" then
    fail(path, "an integer, a list or a cpulist string such as \"0-3,8\" expected, got %s", show(v))
  end
  local ok, set = pcall(function()
    local text = t == "string" and v or core.cpulist(v)
    return core.cpulist(text)
  end)
  if not ok then fail(path, "%s", inner(set)) end
  if #set == 0 then fail(path, "empty set") end
  return set
end

-- -------------------------------------------------------------- machines --

-- The facts a check needs, read once from a topology (lnuma.topology()).
local function facts_of(topo, live)
  local f = {
    where = live and "on this machine" or "on the target machine",
    cpu_node = {}, cpu_core = {}, node = {}, cpus = {}, nodes = {},
  }
  for _, n in ipairs(topo.nodes) do
    f.node[n.os_index] = n
    f.nodes[#f.nodes + 1] = n.os_index
    for _, c in ipairs(n.cpus or {}) do f.cpu_node[c] = n.os_index end
  end
  for _, c in ipairs(topo.cpus or {}) do
    local id = c.os_index
    f.cpus[#f.cpus + 1] = id
    if c.node ~= nil and f.cpu_node[id] == nil then f.cpu_node[id] = c.node end
    if c.core ~= nil then f.cpu_core[id] = tostring(c.package or 0) .. ":" .. tostring(c.core) end
  end
  table.sort(f.cpus)
  table.sort(f.nodes)
  local allowed = topo.allowed
  if type(allowed) == "table" and allowed.cpus then
    f.allowed = {}
    for _, c in ipairs(allowed.cpus) do f.allowed[c] = true end
    f.allowed_list = allowed.cpus
  end
  f.distance = function(a, b)
    if type(topo.distance) == "function" then
      local ok, d = pcall(topo.distance, topo, a, b)
      if ok then return d end
    end
    return nil
  end
  return f
end

-- The node a thread's CPUs are on, or nil when they span several.
local function home_node(facts, cpus)
  local node
  for _, c in ipairs(cpus) do
    local n = facts.cpu_node[c]
    if node ~= nil and n ~= node then return nil end
    node = n
  end
  return node
end

-- ------------------------------------------------------------ resolving --

local function resolve_threads(src, facts, warnings)
  local threads = {}
  if src == nil then return threads end
  local n = check_list(src, "threads")
  local seen = {}
  for i = 1, n do
    local path = ("threads[%d]"):format(i)
    local t = rawget(src, i)
    check_record(t, path, KEYS.thread)
    local name = field_name(t, path)
    if seen[name] then
      fail(path .. ".name", "duplicate name %s (also %s)", show(name), seen[name])
    end
    seen[name] = path
    local cpus = field_set(rawget(t, "cpus"), path .. ".cpus")
    for _, c in ipairs(cpus) do
      if not contains(facts.cpus, c) then
        fail(path .. ".cpus", "CPU %d does not exist %s (%s)", c, facts.where, cpulist(facts.cpus))
      end
    end
    local uses = {}
    local u = rawget(t, "uses")
    if u ~= nil then
      local nu = check_list(u, path .. ".uses")
      for k = 1, nu do
        local v = rawget(u, k)
        if type(v) ~= "string" then
          fail(("%s.uses[%d]"):format(path, k), "a region or pool name expected, got %s", show(v))
        end
        uses[k] = v
      end
    end
    local hot = rawget(t, "hot")
    if hot == nil then hot = true end
    if type(hot) ~= "boolean" then fail(path .. ".hot", "a boolean expected, got %s", show(hot)) end
    for _, c in ipairs(cpus) do
      if facts.allowed and not facts.allowed[c] then
        warnings[#warnings + 1] = ("%s.cpus: CPU %d is outside this process's allowed CPUs (%s)")
          :format(path, c, cpulist(facts.allowed_list))
      end
    end
    threads[i] = { name = name, cpus = cpus, uses = uses, hot = hot,
                   node = home_node(facts, cpus) }
  end
  return threads
end

-- Region and pool names share one namespace (a thread's `uses` names both).
local function check_region_name(t, path, names)
  local name = field_name(t, path)
  if names[name] then
    fail(path .. ".name", "duplicate name %s (also %s)", show(name), names[name])
  end
  names[name] = path
  return name
end

local function check_node(v, path, facts)
  if math.type(v) ~= "integer" then fail(path, "a node number expected, got %s", show(v)) end
  if facts.node[v] == nil then
    fail(path, "node %d does not exist %s (nodes %s)", v, facts.where, cpulist(facts.nodes))
  end
  return v
end

local function resolve_memory(src, facts, names)
  local regions = {}
  if src == nil then return regions end
  local n = check_list(src, "memory")
  for i = 1, n do
    local path = ("memory[%d]"):format(i)
    local t = rawget(src, i)
    check_record(t, path, KEYS.region)
    local name = check_region_name(t, path, names)
    local size = field_size(rawget(t, "size"), path .. ".size")
    local policy = rawget(t, "policy")
    if policy ~= nil then
      if type(policy) ~= "string" or not contains(plan.POLICIES, policy:lower()) then
        fail(path .. ".policy", "%s is not a policy (expected one of %s)", show(policy),
             table.concat(plan.POLICIES, ", "))
      end
      policy = policy:lower()
    end
    local node, nodes = nil, {}
    local nv = rawget(t, "node")
    if nv == nil then
      if policy ~= "local" then
        fail(path .. ".node", "missing (or say policy = \"local\")")
      end
    else
      if policy == "local" then fail(path .. ".node", "policy \"local\" takes no node") end
      if math.type(nv) == "integer" then
        nodes = { check_node(nv, path .. ".node", facts) }
      else
        nodes = field_set(nv, path .. ".node")
        for _, x in ipairs(nodes) do check_node(x, path .. ".node", facts) end
      end
      if #nodes == 1 then node = nodes[1] end
    end
    policy = policy or "bind"
    local huge = rawget(t, "huge")
    if huge == nil then huge = "default"
    elseif huge == true then huge = "thp"
    elseif huge == false then huge = "none"
    else
      local h = type(huge) == "string" and HUGE[huge:lower()]
      if not h then
        fail(path .. ".huge", "%s is not a page kind (expected false, \"thp\", \"2M\" or \"1G\")",
             show(huge))
      end
      huge = h
    end
    regions[i] = { name = name, size = size, node = node, nodes = nodes, policy = policy,
                   huge = huge }
  end
  return regions
end

local function resolve_pools(src, facts, names)
  local pools = {}
  if src == nil then return pools end
  local n = check_list(src, "pools")
  for i = 1, n do
    local path = ("pools[%d]"):format(i)
    local t = rawget(src, i)
    check_record(t, path, KEYS.pool)
    local name = check_region_name(t, path, names)
    local nv = rawget(t, "node")
    if nv == nil then fail(path .. ".node", "missing") end
    local node = check_node(nv, path .. ".node", facts)
    local size = field_size(rawget(t, "size"), path .. ".size")
    local count = field_count(rawget(t, "count"), path .. ".count")
    if size > math.maxinteger // count then
      fail(path .. ".count", "%d objects of %s do not fit in memory", count, human(size))
    end
    pools[i] = { name = name, node = node, size = size, count = count, bytes = size * count }
  end
  return pools
end

-- Memory asked of each node: an error where a strict policy cannot be met on
-- a memory-only node, a warning elsewhere.
local function check_room(regions, pools, facts, warnings)
  local asked, warned = {}, {}
  local function take(node, bytes, path, strict)
    asked[node] = (asked[node] or 0) + bytes
    local info = facts.node[node]
    local room = info and (info.free or info.memory)
    if room == nil or asked[node] <= room then return end
    local what = info.free and "free" or "in all"
    if strict and info.memory_only then
      fail(path, "node %d is memory-only with %s %s; policy \"bind\" cannot place %s there",
           node, human(room), what, human(asked[node]))
    end
    if not warned[node] then
      warned[node] = true
      warnings[#warnings + 1] = ("%s: the plan asks %s of node %d, which has %s %s")
        :format(path, human(asked[node]), node, human(room), what)
    end
  end
  for i, r in ipairs(regions) do
    if r.policy == "bind" or r.policy == "preferred" then
      local share = r.size // #r.nodes
      for _, node in ipairs(r.nodes) do
        take(node, share, ("memory[%d].size"):format(i), r.policy == "bind")
      end
    end
  end
  for i, p in ipairs(pools) do take(p.node, p.bytes, ("pools[%d].count"):format(i), true) end
end

local function check_threads(threads, regions, pools, facts, warnings)
  local by_name = {}
  for _, r in ipairs(regions) do by_name[r.name] = { node = r.node, kind = "memory" } end
  for _, p in ipairs(pools) do by_name[p.name] = { node = p.node, kind = "pool" } end
  for i, t in ipairs(threads) do
    for k, name in ipairs(t.uses) do
      local path = ("threads[%d].uses[%d]"):format(i, k)
      local r = by_name[name]
      if r == nil then
        local known = {}
        for _, x in ipairs(regions) do known[#known + 1] = x.name end
        for _, x in ipairs(pools) do known[#known + 1] = x.name end
        fail(path, "no region or pool is named %s (names: %s)", show(name),
             #known > 0 and table.concat(known, ", ") or "none")
      end
      if r.node ~= nil and t.node ~= nil and r.node ~= t.node then
        local d = facts.distance(t.node, r.node)
        warnings[#warnings + 1] = ("%s: %s %s is on node %d, remote from %s's node %d%s")
          :format(path, r.kind, show(name), r.node, t.name, t.node,
                  d and (" (distance %s)"):format(d) or "")
      end
    end
  end
  -- Hot threads that compete for a CPU or for the core of an SMT pair.
  for i = 1, #threads do
    for j = i + 1, #threads do
      local a, b = threads[i], threads[j]
      if a.hot and b.hot then
        local shared
        for _, c in ipairs(b.cpus) do
          if contains(a.cpus, c) then shared = c break end
        end
        local path = ("threads[%d].cpus"):format(j)
        if shared then
          warnings[#warnings + 1] = ("%s: %s shares CPU %d with %s (threads[%d]); both are hot")
            :format(path, b.name, shared, a.name, i)
        elseif #a.cpus == 1 and #b.cpus == 1 then
          local ca, cb = facts.cpu_core[a.cpus[1]], facts.cpu_core[b.cpus[1]]
          if ca ~= nil and ca == cb then
            warnings[#warnings + 1] = ("%s: CPU %d of %s and CPU %d of %s (threads[%d]) are SMT "
              .. "siblings of one core; both are hot"):format(path, b.cpus[1], b.name, a.cpus[1],
                                                              a.name, i)
          end
        end
      end
    end
  end
end

local function resolve(t, facts)
  if type(t) ~= "table" then
    error(("a plan must return a table, got %s"):format(show(t)), 0)
  end
  check_record(t, "plan", KEYS.plan)
  local warnings, names = {}, {}
  local threads = resolve_threads(rawget(t, "threads"), facts, warnings)
  local regions = resolve_memory(rawget(t, "memory"), facts, names)
  local pools = resolve_pools(rawget(t, "pools"), facts, names)
  check_room(regions, pools, facts, warnings)
  check_threads(threads, regions, pools, facts, warnings)
  return { threads = threads, memory = regions, pools = pools, warnings = warnings }
end

-- -------------------------------------------------------------- sandbox --

-- The standard functions a plan may call, captured when this module loads
-- (so a host that changes _G later does not widen the sandbox).
local SAFE = {
  assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs,
  pcall = pcall, xpcall = xpcall, rawequal = rawequal, rawget = rawget, rawlen = rawlen,
  select = select, tonumber = tonumber, tostring = tostring, type = type,
  _VERSION = _VERSION,
}
local SAFE_LIBS = {
  string = { "byte", "char", "find", "format", "gmatch", "gsub", "len", "lower", "match",
             "pack", "packsize", "rep", "reverse", "sub", "unpack", "upper" },
  table = { "concat", "insert", "move", "pack", "remove", "sort", "unpack" },
  math = { "abs", "ceil", "cos", "deg", "exp", "floor", "fmod", "huge", "log", "max",
           "maxinteger", "min", "mininteger", "modf", "pi", "rad", "random", "sin", "sqrt",
           "tan", "tointeger", "type", "ult", "atan", "asin", "acos" },
  utf8 = { "char", "charpattern", "codes", "codepoint", "len", "offset" },
  os = { "clock", "date", "difftime", "getenv", "time" },
}
local LIBS = { string = string, table = table, math = math, utf8 = utf8, os = os }
local rawsetmetatable, rawgetmetatable, rawload = setmetatable, getmetatable, load

-- A read-only view of a topology: reads go through, writes raise, methods
-- are called on the real object and return copies the plan may change.
local function readonly(root)
  local proxies, real = {}, setmetatable({}, { __mode = "k" })
  local wrap
  local function copy(v, seen)
    if type(v) == "function" then return wrap(v) end
    if type(v) ~= "table" then return v end
    if seen[v] then return seen[v] end
    local c = {}
    seen[v] = c
    for k, x in next, v do c[copy(k, seen)] = copy(x, seen) end
    return c
  end
  local function unwrap(...)
    local args = table.pack(...)
    for i = 1, args.n do
      if real[args[i]] then args[i] = real[args[i]] end
    end
    return table.unpack(args, 1, args.n)
  end
  function wrap(v)
    if type(v) == "table" then
      if proxies[v] then return proxies[v] end
      local p = {}
      proxies[v] = p
      real[p] = v
      rawsetmetatable(p, {
        __index = function(_, k) return wrap(v[k]) end,
        __newindex = function(_, k)
          error(("topology is read-only (cannot set %s)"):format(show(k)), 2)
        end,
        __len = function() return #v end,
        __pairs = function()
          return function(_, k)
            local nk, nv = next(v, k)
            return nk, wrap(nv)
          end, p, nil
        end,
        __metatable = "read-only",
      })
      return p
    elseif type(v) == "function" then
      if proxies[v] then return proxies[v] end
      local f = function(...)
        local res = table.pack(v(unwrap(...)))
        for i = 1, res.n do res[i] = copy(res[i], {}) end
        return table.unpack(res, 1, res.n)
      end
      proxies[v] = f
      return f
    end
    return v
  end
  return wrap(root)
end

local function new_env(topology)
  local env = {}
  for k, v in pairs(SAFE) do env[k] = v end
  for lib, names in pairs(SAFE_LIBS) do
    local t = {}
    for _, name in ipairs(names) do t[name] = LIBS[lib][name] end
    env[lib] = t
  end
  env.setmetatable = function(t, mt)
    if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
      error("setmetatable: __gc is not allowed in a plan", 2)
    end
    return rawsetmetatable(t, mt)
  end
  env.getmetatable = function(v)
    if type(v) == "string" then
      error("getmetatable: the string metatable is not available in a plan", 2)
    end
    return rawgetmetatable(v)
  end
  env.load = function(chunk, name, mode, e)
    if mode ~= nil and mode ~= "t" then
      error("load: only text chunks may be loaded in a plan (mode \"t\")", 2)
    end
    return rawload(chunk, name, "t", e or env)
  end
  env.topology = topology and readonly(topology)
  env._G = env
  return env
end

-- ----------------------------------------------------------------- load --

local OPTIONS = { topology = true, instructions = true, memory = true }

local function check_opts(opts, fname, extra)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error(("bad argument #2 to '%s' (table expected, got %s)"):format(fname, type(opts)), 3)
  end
  for k in pairs(opts) do
    if not OPTIONS[k] and k ~= extra then
      error(("bad argument #2 to '%s' (unknown option '%s')"):format(fname, tostring(k)), 3)
    end
  end
  for _, k in ipairs { "instructions", "memory" } do
    local v = opts[k]
    if v ~= nil and (math.type(v) ~= "integer" or v <= 0) then
      error(("bad argument #2 to '%s' (%s: a positive integer expected)"):format(fname, k), 3)
    end
  end
  return opts
end

-- The topology to check against, and whether it is this machine's (a
-- topology says where it came from: "system", "xml" or "synthetic").
local function target(opts)
  local topo = opts.topology
  if topo == nil then
    local msg
    topo, msg = require("lnuma").topology()
    if topo == nil then return nil, "this machine's topology: " .. tostring(msg) end
  end
  local source = type(topo) == "table" and rawget(topo, "source")
  return topo, source == "system"
end

local function make(resolved, file, topo, live)
  resolved.file = file
  resolved.target = live and "this machine" or "another machine"
  local p = rawsetmetatable(resolved, Plan)
  private[p] = { topology = topo, live = live }
  return p
end

--- Loads a plan file, runs it in the sandbox and checks it.
-- @tparam string path the plan file
-- @tparam[opt] table opts `topology` (a topology to check against instead of
--   this machine's, e.g. `lnuma.topology{xml = "prod.xml"}`), `instructions`
--   and `memory` (limits of the plan's run; defaults in `plan.LIMITS`)
-- @treturn[1] table the resolved plan: `threads`, `memory`, `pools`, `warnings`
-- @return[2] nil
-- @treturn[2] string "file: key.path: what is wrong" (or "file:line: ...")
function plan.load(path, opts)
  if type(path) ~= "string" then
    error(("bad argument #1 to 'load' (string expected, got %s)"):format(type(path)), 2)
  end
  opts = check_opts(opts, "load")
  local topo, live = target(opts)
  if topo == nil then return nil, path .. ": " .. live end
  local env = new_env(topo)
  local chunk, err = loadfile(path, "t", env)
  if not chunk then return nil, err end
  local limits = { instructions = opts.instructions or plan.LIMITS.instructions,
                   memory = opts.memory or plan.LIMITS.memory }
  local ok, t = core.run_limited(limits, chunk)
  if not ok then
    if not t:find(path, 1, true) then t = path .. ": " .. t end
    return nil, t
  end
  local ok2, resolved = core.run_limited(limits, resolve, t, facts_of(topo, live))
  if not ok2 then return nil, path .. ": " .. resolved end
  return make(resolved, path, topo, live)
end

--- Checks a plan given as a table (as a plan file would return it).
-- @tparam table t the plan
-- @tparam[opt] table opts as for `load`; `name` names the plan in messages
-- @treturn[1] table the resolved plan
-- @return[2] nil
-- @treturn[2] string the message
function plan.check(t, opts)
  opts = check_opts(opts, "check", "name")
  local name = opts.name ~= nil and tostring(opts.name) or "plan"
  local topo, live = target(opts)
  if topo == nil then return nil, name .. ": " .. live end
  local limits = { instructions = opts.instructions or plan.LIMITS.instructions,
                   memory = opts.memory or plan.LIMITS.memory }
  local ok, resolved = core.run_limited(limits, resolve, t, facts_of(topo, live))
  if not ok then return nil, name .. ": " .. resolved end
  return make(resolved, name, topo, live)
end

-- ---------------------------------------------------------------- plans --

local function find(list, name, what)
  for i, x in ipairs(list) do
    if x.name == name then return x, i end
  end
  return nil, ("no %s named %s"):format(what, show(name))
end

--- The thread, region or pool of that name (nil when there is none).
function Plan:thread(name) return (find(self.threads, name, "thread")) end
function Plan:region(name) return (find(self.memory, name, "region")) end
function Plan:pool(name) return (find(self.pools, name, "pool")) end

--- The topology the plan was checked against.
function Plan:topology() return private[self].topology end

--- The resolved plan as plain data (for JSON).
function Plan:data()
  local function copy(v)
    if type(v) ~= "table" then return v end
    local c = {}
    for k, x in pairs(v) do c[k] = copy(x) end
    return c
  end
  return { file = self.file, target = self.target, threads = copy(self.threads),
           memory = copy(self.memory), pools = copy(self.pools),
           warnings = copy(self.warnings) }
end

local function require_live(self, what)
  if not private[self].live then
    error(("%s: the plan was checked against another machine's topology; load it without "
      .. "a topology to use it here"):format(what), 3)
  end
  return require "lnuma"
end

--- Allocates the plan's regions and pools with verified placement.
-- @treturn[1] table `memory` and `pools` by name, and `report`: per region
--   and pool what was asked and what happened (pages per node)
-- @return[2] nil
-- @treturn[2] string message naming the region or pool
-- @treturn[2] integer errno
function Plan:apply()
  local lnuma = require_live(self, "apply")
  local out = { memory = {}, pools = {}, report = { memory = {}, pools = {} } }
  local function undo()
    for _, b in pairs(out.memory) do b:free() end
    for _, p in pairs(out.pools) do if p.free then p:free() end end
  end
  for i, r in ipairs(self.memory) do
    local opts = { policy = r.policy }
    if r.huge == "none" then
      opts.huge = false
    elseif r.huge ~= "default" then
      opts.huge = r.huge
    end
    if #r.nodes == 1 then opts.node = r.nodes[1] elseif #r.nodes > 1 then opts.nodes = r.nodes end
    local buf, msg, errno = lnuma.alloc(r.size, opts)
    if not buf then
      undo()
      return nil, ("memory[%d] (%s): %s"):format(i, r.name, msg), errno
    end
    out.memory[r.name] = buf
    local got = buf:placement()
    local on_target = 0
    for node, pages in pairs(got.by_node) do
      if #r.nodes == 0 or contains(r.nodes, node) then on_target = on_target + pages end
    end
    out.report.memory[i] = {
      name = r.name,
      asked = { size = r.size, nodes = r.nodes, policy = r.policy, huge = r.huge },
      got = { pages = got.pages, page_size = got.page_size, by_node = got.by_node,
              pages_by_size = got.pages_by_size, huge_fraction = got.huge_fraction,
              huge_method = got.huge_method },
      ok = on_target == got.pages,
    }
  end
  for i, p in ipairs(self.pools) do
    local pool, msg, errno = lnuma.pool { node = p.node, size = p.size, count = p.count }
    if not pool then
      undo()
      return nil, ("pools[%d] (%s): %s"):format(i, p.name, msg), errno
    end
    out.pools[p.name] = pool
    local entry = { name = p.name, asked = { node = p.node, size = p.size, count = p.count } }
    if pool.placement then
      local got = pool:placement()
      entry.got = { pages = got.pages, page_size = got.page_size, by_node = got.by_node }
      entry.ok = (got.by_node[p.node] or 0) == got.pages
    end
    out.report.pools[i] = entry
  end
  return out
end

--- Pins the calling thread to the CPUs of the plan's thread `name`.
-- @treturn[1] table `name`, `cpus` (asked), `cpu_seen`, `node_seen`, `ok`
-- @return[2] nil
-- @treturn[2] string message
-- @treturn[2] integer errno
function Plan:apply_thread(name)
  local lnuma = require_live(self, "apply_thread")
  local t = find(self.threads, name, "thread")
  if t == nil then
    error(("bad argument #1 to 'apply_thread' (no thread named %s)"):format(show(name)), 2)
  end
  local ok, msg, errno = lnuma.bind { cpus = t.cpus }
  if not ok then return nil, ("thread %s: %s"):format(t.name, msg), errno end
  local cpu, node = lnuma.current()
  return { name = t.name, cpus = t.cpus, cpu_seen = cpu, node_seen = node,
           ok = contains(t.cpus, cpu) }
end

Plan.__tostring = function(self)
  return ("lnuma.plan %s (%d threads, %d regions, %d pools, %d warnings)")
    :format(self.file, #self.threads, #self.memory, #self.pools, #self.warnings)
end

plan.human = human

return plan
