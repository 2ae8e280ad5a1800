--- Checking a placement plan's table against a machine (used by
-- `lnuma.plan`): every key known, every value of the right type, every CPU
-- and node present on the target, and warnings for what is legal but
-- doubtful.  Messages name the key path (`threads[2].cpus: ...`).  Reads the
-- plan's tables raw: no metamethod of theirs runs here.
-- @module lnuma.plan_check

local core = require "lnuma.core"
local O = require "lnuma.options"

local M = {}

--- Memory policies a region may ask for (as `lnuma.alloc` takes them).
M.POLICIES = { "bind", "preferred", "preferred_many", "interleave",
               "weighted_interleave", "local", "weighted" }

local KEYS = {
  plan = { "threads", "memory", "pools" },
  thread = { "name", "cpus", "uses", "hot" },
  region = { "name", "size", "node", "policy", "huge", "weights" },
  pool = { "name", "node", "size", "count" },
}

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
  if t == "number" or t == "boolean" or t == "nil" then return tostring(v) end
  return "a " .. t
end

local human = O.size_text

local function cpulist(set)
  if #set == 0 then return "none" end
  return core.cpulist(set)
end

local function contains(set, x)
  for _, v in ipairs(set) do if v == x then return true end end
  return false
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
  local n, msg = O.parse_size(v)
  if not n then fail(path, "%s", msg) end
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
  if t == "table" then -- a raw copy: the core reads it as every set is read
    local n = check_list(v, path)
    local copy = {}
    for i = 1, n do copy[i] = rawget(v, i) end
    v = copy
  end
  local set, msg = O.parse_set(v)
  if not set then fail(path, "%s", msg) end
  if t == "table" then set = core.cpulist(core.cpulist(set)) end -- a set: ascending, once each
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
  local info = facts.node[v]
  if info == nil then
    fail(path, "node %d does not exist %s (nodes %s)", v, facts.where, cpulist(facts.nodes))
  end
  -- A node with CPUs and no memory (memoryless) can hold no page.
  if rawget(info, "memory") == 0 then
    local with = {}
    for _, id in ipairs(facts.nodes) do
      if rawget(facts.node[id], "memory") ~= 0 then with[#with + 1] = id end
    end
    fail(path, "node %d has no memory %s (CPUs only); nodes with memory: %s", v, facts.where,
         cpulist(with))
  end
  return v
end

-- weights = {[node] = weight, ...}: read raw, checked as lnuma.alloc checks
-- them (the core's caps), each node existing with memory.  Returns a copy
-- and the nodes of positive weight.
local function check_weights(v, path, facts)
  if type(v) ~= "table" then
    fail(path, "a table {[node] = weight, ...} expected, got %s", show(v))
  end
  local copy, n = {}, 0
  for node, weight in next, v do
    n = n + 1
    if n > 64 then fail(path, "more than 64 nodes") end
    check_node(node, key_path(path, node), facts)
    if math.type(weight) ~= "integer" then
      fail(key_path(path, node), "an integer weight expected, got %s", show(weight))
    end
    copy[node] = weight
  end
  local ok, err = pcall(core.weights_pattern, copy, 1)
  if not ok then
    fail(path, "%s", tostring(err):match("%(weights: (.*)%)$") or tostring(err))
  end
  local nodes = {}
  for node, weight in pairs(copy) do
    if weight > 0 then nodes[#nodes + 1] = node end
  end
  table.sort(nodes)
  return copy, nodes
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
      if type(policy) ~= "string" or not contains(M.POLICIES, policy:lower()) then
        fail(path .. ".policy", "%s is not a policy (expected one of %s)", show(policy),
             table.concat(M.POLICIES, ", "))
      end
      policy = policy:lower()
    end
    local node, nodes = nil, {}
    local nv = rawget(t, "node")
    local wv, weights = rawget(t, "weights"), nil
    if wv ~= nil then
      if policy ~= nil and policy ~= "weighted" then
        fail(path .. ".weights", "only with policy \"weighted\", not %s", show(policy))
      end
      if nv ~= nil then fail(path .. ".node", "give node or weights, not both") end
      policy = "weighted"
      weights, nodes = check_weights(wv, path .. ".weights", facts)
      if #nodes == 1 then node = nodes[1] end
    elseif policy == "weighted" then
      fail(path .. ".weights", "missing (policy \"weighted\" takes weights = {[node] = "
           .. "weight, ...})")
    elseif nv == nil then
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
    local huge, why = O.parse_huge(rawget(t, "huge"))
    if not huge then fail(path .. ".huge", "%s", why) end
    regions[i] = { name = name, size = size, node = node, nodes = nodes, policy = policy,
                   huge = huge, weights = weights }
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
    if r.weights then
      local total = 0
      for _, w in pairs(r.weights) do total = total + w end
      for _, node in ipairs(r.nodes) do
        take(node, r.size * r.weights[node] // total, ("memory[%d].size"):format(i), true)
      end
    elseif r.policy == "bind" or r.policy == "preferred" then
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

M.resolve = resolve
M.facts_of = facts_of
M.human = human
M.show = show

return M
