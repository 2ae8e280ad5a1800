--- The sandbox a placement plan runs in (used by `lnuma.plan`).
--
-- A plan sees pure data and pure functions, nothing that touches the outside:
--
--  * an environment built from an allow-list of the standard library
--    (`ALLOWED` below): no I/O, no `os`, no `require`, no `debug`, no
--    `collectgarbage`, no `string.dump`, no `math.random` (it moves the host's
--    generator); `load` takes text chunks only; `setmetatable` refuses `__gc`
--    (a finalizer would run after the plan, outside its limits);
--  * strings whose methods are those of the state it runs in: the string
--    library, read-only to the plan (`getmetatable("")` is refused), whose
--    one function beyond the allow-list, `string.dump`, serialises
--    functions the plan already holds;
--  * `topology`: a read-only view of the target machine as plain data (only
--    tables, strings, numbers and booleans show through, read raw, so no
--    metamethod or function of the real table runs) with the query
--    functions `node_of_cpu`, `cpus_of`, `distance`, `nearest`,
--    `node_of_device` and `memattr` (memory attributes by target and
--    initiator: it only reads), computed here from that data.  `export_xml`
--    is refused, with or without attributes: a plan writes nothing.
-- @module lnuma.plan_sandbox

local core = require "lnuma.core"
local memattrs = require "lnuma.memattrs"

local M = {}

-- Captured when this module loads: a host that changes _G later does not
-- reach the code below, nor does a plan that replaces its own functions.
local format, sub, sort = string.format, string.sub, table.sort
local pack, unpack = table.pack, table.unpack
local error, next, pcall, rawget, rawlen, select, type =
  error, next, pcall, rawget, rawlen, select, type
local math_type, tostring = math.type, tostring
-- Named as a plan calls them, so that their own argument errors read
-- "bad argument #1 to 'setmetatable'".
local setmetatable, getmetatable, load = setmetatable, getmetatable, load

--- What a plan may call, by library ("_G" for the base functions).  Each is
-- a pure function of its arguments (the ones that call back, such as
-- `pcall`, `pairs` and `table.sort`, call only what the plan gives them).
M.ALLOWED = {
  _G = { "assert", "error", "ipairs", "next", "pairs", "pcall", "xpcall", "rawequal",
         "rawget", "rawlen", "select", "tonumber", "tostring", "type" },
  string = { "byte", "char", "find", "format", "gmatch", "gsub", "len", "lower", "match",
             "pack", "packsize", "rep", "reverse", "sub", "unpack", "upper" },
  table = { "concat", "insert", "move", "pack", "remove", "sort", "unpack" },
  math = { "abs", "acos", "asin", "atan", "ceil", "cos", "deg", "exp", "floor", "fmod",
           "huge", "log", "max", "maxinteger", "min", "mininteger", "modf", "pi", "rad",
           "sin", "sqrt", "tan", "tointeger", "type", "ult" },
  utf8 = { "char", "charpattern", "codepoint", "codes", "len", "offset" },
}

local LIBS = { _G = _G, string = string, table = table, math = math, utf8 = utf8 }
local CAPTURED = {}
for lib, names in next, M.ALLOWED do
  CAPTURED[lib] = {}
  for _, name in ipairs(names) do CAPTURED[lib][name] = LIBS[lib][name] end
end

-- Standard names a plan does not get, said plainly instead of "attempt to
-- call a nil value".
local REFUSED = {
  print = "it writes to the terminal", io = "a plan does no I/O",
  os = "a plan does not touch the system", require = "a plan loads no modules",
  package = "a plan loads no modules", dofile = "a plan reads no files",
  loadfile = "a plan reads no files", debug = "it reaches outside the sandbox",
  collectgarbage = "the collector belongs to the host", coroutine = "a plan runs straight through",
  rawset = "the topology is read-only", warn = "it writes to the terminal",
}

-- A value as a message shows it (never calls a metamethod).
local function show(v)
  local t = type(v)
  if t == "string" then return format("%q", #v > 40 and sub(v, 1, 40) .. "..." or v) end
  if t == "number" or t == "boolean" or t == "nil" then return tostring(v) end
  return "a " .. t
end

-- ------------------------------------------------------- the topology --

local function list(array)
  if #array == 0 then return "none" end
  return core.cpulist(array)
end

-- Integers of a raw array (anything else is skipped), in a fresh table.
local integers = memattrs.raw_integers

-- Raw records of a list field of the topology (tables only).
local function records(root, key)
  local out, t = {}, rawget(root, key)
  if type(t) ~= "table" then return out end
  for i = 1, rawlen(t) do
    local x = rawget(t, i)
    if type(x) == "table" then out[#out + 1] = x end
  end
  return out
end

-- The query functions of a plan's topology, over the raw data of root.
-- Their messages are those of the C methods (lnuma.topology():cpus_of(9)).
local function queries(root, view)
  local nodes = records(root, "nodes")
  local node_ids, pos = {}, {}
  for i, n in ipairs(nodes) do
    local id = rawget(n, "os_index")
    node_ids[i] = id
    if math_type(id) == "integer" then pos[id] = i end
  end
  local cpu_node, cpu_ids = {}, {}
  for _, c in ipairs(records(root, "cpus")) do
    local id = rawget(c, "os_index")
    if math_type(id) == "integer" then
      cpu_ids[#cpu_ids + 1] = id
      cpu_node[id] = rawget(c, "node")
    end
  end
  sort(cpu_ids)

  local function argerror(fname, i, what, msg, ...)
    error(format("bad argument #%d to '%s' (%s: " .. msg .. ")", i, fname, what, ...), 0)
  end
  local function check_self(fname, self)
    if self ~= view then
      error(format("calling '%s' on bad self (call it as topology:%s(...))", fname, fname), 0)
    end
  end
  -- Checks self and the integer argument i (1 = the first after self).
  local function int_arg(fname, what, i, self, ...)
    check_self(fname, self)
    local v = (select(i, ...))
    if math_type(v) == "integer" then return v end
    local got = select("#", ...) < i and "no value"
      or (math_type(v) == "float" and "a fraction" or type(v))
    argerror(fname, i, what, "integer expected, got %s", got)
  end
  local function node_arg(fname, what, i, ...)
    local v = int_arg(fname, what, i, ...)
    if pos[v] == nil then
      argerror(fname, i, what, "node %d does not exist (nodes %s)", v, list(integers(node_ids)))
    end
    return v
  end
  local function distance(a, b)
    local row = rawget(nodes[pos[a]], "distances")
    local d = type(row) == "table" and rawget(row, pos[b])
    if math_type(d) ~= "integer" then
      error(format("the topology gives no distance from node %d to node %d", a, b), 0)
    end
    return d
  end

  -- Each raises without a position; method() below adds the plan's line.
  local q = {}
  function q.node_of_cpu(...)
    local cpu = int_arg("node_of_cpu", "cpu", 1, ...)
    if cpu_node[cpu] == nil then
      argerror("node_of_cpu", 1, "cpu", "CPU %d does not exist (CPUs %s)", cpu, list(cpu_ids))
    end
    return cpu_node[cpu]
  end
  function q.cpus_of(...)
    local node = node_arg("cpus_of", "node", 1, ...)
    return integers(rawget(nodes[pos[node]], "cpus"))
  end
  function q.distance(...)
    local a = node_arg("distance", "a", 1, ...)
    local b = node_arg("distance", "b", 2, ...)
    return distance(a, b)
  end
  function q.nearest(...)
    local node = node_arg("nearest", "node", 1, ...)
    local order = {}
    for _, id in ipairs(node_ids) do
      if id ~= node and math_type(id) == "integer" then
        order[#order + 1] = { id = id, d = distance(node, id) }
      end
    end
    sort(order, function(x, y) return x.d < y.d or (x.d == y.d and x.id < y.id) end)
    local out = { node } -- the node itself first even if a broken table says otherwise
    for _, x in ipairs(order) do out[#out + 1] = x.id end
    return out
  end
  function q.node_of_device(...)
    local self, name = ...
    check_self("node_of_device", self)
    if type(name) ~= "string" then
      error(format("bad argument #1 to 'node_of_device' (string expected, got %s)",
                   select("#", ...) < 2 and "no value" or type(name)), 0)
    end
    for _, d in ipairs(records(root, "devices")) do
      if rawget(d, "name") == name or rawget(d, "pci_bus") == name then
        local node = rawget(d, "node")
        if math_type(node) == "integer" then return node end
        return nil, format("device '%s' is not local to one node (the machine does not "
                           .. "say where it hangs off)", name)
      end
    end
    return nil, format("no device named '%s'", name)
  end
  function q.memattr(...)
    local self, name, target, initiator = ...
    check_self("memattr", self)
    memattrs.check_query("memattr", 0, name, target, initiator)
    return memattrs.query(rawget(root, "memattrs"), name, target, initiator)
  end
  function q.export_xml()
    error("topology:export_xml is not available in a plan (a plan writes no files; "
          .. "export from a script: lnuma.topology():export_xml(path))", 0)
  end
  return q
end

-- A query as the plan calls it: errors point at the plan's line.
local function method(raw)
  return function(...)
    local res = pack(pcall(raw, ...))
    if not res[1] then error(res[2], 2) end
    return unpack(res, 2, res.n)
  end
end

--- A read-only view of a topology as plain data, with the query functions.
-- @tparam table root a topology (`lnuma.topology()` or a table shaped like one)
-- @treturn table the view a plan sees as `topology`
function M.topology_view(root)
  local proxies = {}
  local wrap
  local function value(v)
    local t = type(v)
    if t == "table" then return wrap(v) end
    if t == "string" or t == "number" or t == "boolean" then return v end
    return nil -- functions, userdata and threads of the real table stay hidden
  end
  function wrap(real, methods)
    local p = proxies[real]
    if p then return p end
    p = {}
    proxies[real] = p
    setmetatable(p, {
      __index = function(_, k)
        if methods and methods[k] ~= nil then return methods[k] end
        return value(rawget(real, k))
      end,
      __newindex = function(_, k)
        error(format("topology is read-only (cannot set %s)", show(k)), 2)
      end,
      __len = function() return rawlen(real) end,
      __pairs = function()
        local function iter(_, k)
          local nk, nv = k
          repeat
            nk, nv = next(real, nk)
            local tk = type(nk)
          until nk == nil or ((tk == "string" or tk == "number") and value(nv) ~= nil)
          if nk == nil then return nil end
          return nk, value(nv)
        end
        return iter, p, nil
      end,
      __metatable = "read-only",
    })
    return p
  end
  local methods = {}
  local view = wrap(root, methods)
  for k, f in next, queries(root, view) do methods[k] = method(f) end
  return view
end

-- ------------------------------------------------------ the environment --

--- A fresh environment for one plan.
-- @tparam[opt] table topology the target machine (`topology` in the plan)
-- @treturn table the environment
function M.env(topology)
  local env = {}
  for lib, fns in next, CAPTURED do
    local t = lib == "_G" and env or {}
    for name, f in next, fns do t[name] = f end
    if lib ~= "_G" then env[lib] = t end
  end
  env._VERSION = _VERSION
  env.setmetatable = function(t, mt)
    if type(t) ~= "table" then
      error(format("bad argument #1 to 'setmetatable' (table expected, got %s)", type(t)), 2)
    end
    if mt ~= nil and type(mt) ~= "table" then
      error(format("bad argument #2 to 'setmetatable' (nil or table expected, got %s)",
                   type(mt)), 2)
    end
    if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
      error("setmetatable: __gc is not allowed in a plan", 2)
    end
    local ok, err = pcall(setmetatable, t, mt) -- a protected metatable is refused
    if not ok then error(err, 2) end
    return t
  end
  env.getmetatable = function(v)
    if type(v) == "string" then
      error("getmetatable: the string metatable is not available in a plan", 2)
    end
    return getmetatable(v)
  end
  env.load = function(chunk, name, mode, e)
    if mode ~= nil and mode ~= "t" then
      error("load: only text chunks may be loaded in a plan (mode \"t\")", 2)
    end
    return load(chunk, name, "t", e or env)
  end
  if topology ~= nil then env.topology = M.topology_view(topology) end
  env._G = env
  setmetatable(env, { __index = function(_, k)
    local why = REFUSED[k]
    if why then error(format("%s is not available in a plan (%s)", k, why), 2) end
  end })
  return env
end

return M
