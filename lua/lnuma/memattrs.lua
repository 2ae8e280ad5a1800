--- Memory attributes (hwloc memattrs): measured matrices into an exported
-- topology, and the attributes a topology carries, by target and initiator.
--
-- hwloc (2.3+) keeps, per target NUMA node and per initiator (a set of
-- CPUs), a latency in nanoseconds and a bandwidth in MiB/s (2^20 bytes/s),
-- as integers.  Firmware fills them from the ACPI HMAT table, which most
-- machines lack; `topo:export_xml(path, {attributes = result})` writes lnuma's
-- measured matrices there instead, so that `lstopo --memattrs --input FILE`,
-- `hwloc-bind --best-memattr` and hwloc-based runtimes (MPI, OpenMP) read them.
--
-- What a `lnuma.bench.matrix` result becomes (rows: initiators, the cpuset of
-- the row node's CPUs; columns: targets):
--
--  * a latency matrix (a chase of dependent loads): `ReadLatency`, and
--    `Latency` (lnuma measures loads only, so the read latency stands for it);
--    ns rounded to the nearest ns;
--  * a bandwidth matrix of kernel `read`: `ReadBandwidth`; of `write` or
--    `write_nt`: `WriteBandwidth`; of `copy`, `copy_nt` or `triad` (reads
--    and writes): `Bandwidth`; GB/s (10^9 bytes/s) x 10^9 / 2^20 = MiB/s,
--    rounded.  `Bandwidth` is hwloc's average of reads and writes: when no
--    mixed matrix is given it is the mean of the read and write matrices, or
--    the one of them given.
--
-- A result with a cell without a value (a planned matrix, NaN, nil) is
-- refused, not skipped: a half-written attribute would read as complete.
-- @module lnuma.memattrs

local core = require "lnuma.core"

local M = {}

-- Captured when this module loads (plans call M.query: a host that changes
-- _G later does not reach it).
local format, sort = string.format, table.sort
local math_type, huge = math.type, math.huge
local error, ipairs, pairs, rawget, rawlen, tostring, type =
  error, ipairs, pairs, rawget, rawlen, tostring, type

-- ------------------------------------------------------ from results --

local BANDWIDTH_ATTR = { read = "ReadBandwidth", write = "WriteBandwidth",
                         write_nt = "WriteBandwidth", copy = "Bandwidth",
                         copy_nt = "Bandwidth", triad = "Bandwidth" }

local function refuse(msg, ...)
  error(format("bad argument #2 to 'export_xml' (attributes: " .. msg .. ")", ...), 0)
end

local function list(array)
  if #array == 0 then return "none" end
  return core.cpulist(array)
end

local function describe(x)
  if math_type(x) == "float" and x ~= x then return "nan" end
  return tostring(x)
end

-- The matrix results in attributes (one result or an array of them).
local function results_of(attributes)
  if type(attributes) ~= "table" then
    refuse("a result of lnuma.bench.matrix (or an array of them) expected, got %s",
           type(attributes))
  end
  if attributes.benchmark ~= nil then return { attributes } end
  local out = {}
  for i = 1, #attributes do out[i] = attributes[i] end
  if #out == 0 then refuse("a result of lnuma.bench.matrix (or an array of them) expected, "
                           .. "got an empty table") end
  return out
end

-- Checks one result against topo; returns its attribute name, rows, columns, values.
local function check_result(topo, r, k, many)
  local which = many and format("result %d: ", k) or ""
  if type(r) ~= "table" or r.benchmark ~= "matrix" then
    refuse("%sa result of lnuma.bench.matrix expected, got %s", which,
           type(r) == "table" and format("a '%s' result", tostring(r.benchmark)) or type(r))
  end
  if r.planned then
    refuse("%sthe matrix was only planned (plan = true): it has no measured values", which)
  end
  local attr
  if r.metric == "latency" then
    attr = "ReadLatency"
  elseif r.metric == "bandwidth" then
    local kernel = type(r.parameters) == "table" and r.parameters.kernel or nil
    attr = BANDWIDTH_ATTR[kernel]
    if not attr then refuse("%sbandwidth kernel '%s' is not one of read, write, write_nt, "
                            .. "copy, copy_nt, triad", which, tostring(kernel)) end
  else
    refuse("%smetric '%s' is neither latency nor bandwidth", which, tostring(r.metric))
  end
  local rows, columns, values = r.rows, r.columns, r.values
  if type(rows) ~= "table" or type(columns) ~= "table" or type(values) ~= "table"
      or #rows == 0 or #columns == 0 or #values ~= #rows then
    refuse("%sthe result has no rows x columns of values", which)
  end
  local nodes = {}
  for _, n in ipairs(topo.nodes) do nodes[n.os_index] = n end
  local ids = {}
  for _, n in ipairs(topo.nodes) do ids[#ids + 1] = n.os_index end
  for i, node in ipairs(rows) do
    local n = nodes[node]
    if n == nil then
      refuse("%srow node %s is not a node of this topology (nodes %s)", which,
             tostring(node), list(ids))
    end
    if #n.cpus == 0 then
      refuse("%srow node %d has no CPUs: it cannot be an initiator", which, node)
    end
    if type(values[i]) ~= "table" then
      refuse("%sthe result has no values for row node %d", which, node)
    end
  end
  for _, node in ipairs(columns) do
    if nodes[node] == nil then
      refuse("%scolumn node %s is not a node of this topology (nodes %s)", which,
             tostring(node), list(ids))
    end
  end
  for i, node in ipairs(rows) do
    for j, mem in ipairs(columns) do
      local v = values[i][j]
      if type(v) ~= "number" or v ~= v or v <= 0 or v == huge then
        refuse("%s%s matrix cell node %d -> node %d has no measured value (%s)", which,
               r.metric, node, mem, describe(v))
      end
    end
  end
  return attr, rows, columns, values
end

--- The values `topo:export_xml` writes for attributes, as the core takes them.
-- @tparam table topo the topology exported (its nodes are checked)
-- @tparam table attributes a `lnuma.bench.matrix` result or an array of them
-- @treturn table array of `{name, initiator, target, value}` (value in ns or GB/s)
-- @raise naming the result and cell that cannot be written
function M.values_from(topo, attributes)
  local results = results_of(attributes)
  local by_attr, from = {}, {}
  for k, r in ipairs(results) do
    local attr, rows, columns, values = check_result(topo, r, k, #results > 1)
    if by_attr[attr] then
      refuse("results %d and %d would both write %s", from[attr], k, attr)
    end
    local m = {}
    for i, node in ipairs(rows) do
      for j, mem in ipairs(columns) do m[node .. ">" .. mem] = values[i][j] end
    end
    by_attr[attr], from[attr] = { rows = rows, columns = columns, cells = m }, k
  end
  -- The generic attributes hwloc-based runtimes ask for.
  if by_attr.ReadLatency then by_attr.Latency = by_attr.ReadLatency end
  local rd, wr = by_attr.ReadBandwidth, by_attr.WriteBandwidth
  if not by_attr.Bandwidth and (rd or wr) then
    if rd and wr then
      local mean = {}
      for key, v in pairs(rd.cells) do
        if wr.cells[key] then mean[key] = (v + wr.cells[key]) / 2 end
      end
      by_attr.Bandwidth = { rows = rd.rows, columns = rd.columns, cells = mean }
    else
      by_attr.Bandwidth = rd or wr
    end
  end
  local out = {}
  for _, attr in ipairs { "Latency", "ReadLatency", "Bandwidth", "ReadBandwidth",
                          "WriteBandwidth" } do
    local a = by_attr[attr]
    if a then
      for _, node in ipairs(a.rows) do
        for _, mem in ipairs(a.columns) do
          local v = a.cells[node .. ">" .. mem]
          if v then out[#out + 1] = { name = attr, initiator = node, target = mem, value = v } end
        end
      end
    end
  end
  return out
end

-- ------------------------------------------------- reading them back --

-- Raw reads only: the sandbox passes the records of any table shaped like a
-- topology, and no metamethod of theirs may run.
local function field(t, k, want)
  local v = rawget(t, k)
  if want == "integer" then return math_type(v) == "integer" and v or nil end
  return type(v) == want and v or nil
end

-- Integers of a raw array (anything else is skipped), in a fresh table;
-- the plan sandbox reads topology records with it too.
local function integers(t)
  local out = {}
  if type(t) ~= "table" then return out end
  for i = 1, rawlen(t) do
    local x = rawget(t, i)
    if math_type(x) == "integer" then out[#out + 1] = x end
  end
  return out
end

-- {name = attribute} from the records of topo.memattrs.
local function group(records)
  local attrs = {}
  for i = 1, rawlen(records) do
    local rec = rawget(records, i)
    local name = type(rec) == "table" and field(rec, "name", "string")
    local target = name and field(rec, "target", "integer")
    local value = target and field(rec, "value", "integer")
    if value then
      local a = attrs[name]
      if not a then
        a = { name = name, unit = field(rec, "unit", "string") or "",
              higher_is_better = field(rec, "higher_is_better", "boolean") or false,
              targets = {}, by_target = {} }
        attrs[name] = a
      end
      local t = a.by_target[target]
      if not t then
        t = { node = target, initiators = {} }
        a.by_target[target] = t
        a.targets[#a.targets + 1] = t
      end
      t.initiators[#t.initiators + 1] = { node = field(rec, "initiator", "integer"),
        cpus = integers(rawget(rec, "initiator_cpus")), value = value }
    end
  end
  local function by_node(x, y)
    if x.node == nil or y.node == nil then return y.node == nil and x.node ~= nil end
    return x.node < y.node
  end
  for _, a in pairs(attrs) do
    a.by_target = nil
    sort(a.targets, by_node)
    for _, t in ipairs(a.targets) do sort(t.initiators, by_node) end
  end
  return attrs
end

--- The memory attributes of a topology by target node and initiator
-- (`topo:memattr`, also in plans).
-- @tparam table records `topo.memattrs` (read raw)
-- @tparam[opt] string name "latency", "bandwidth", "read_latency", ... (as
--   in `topo.memattrs`); nil for all
-- @tparam[opt] integer target with initiator: one value
-- @tparam[opt] integer initiator node whose CPUs are the initiator
-- @treturn table without name: `{[name] = attribute}`; with name: the
--   attribute `{name, unit ("ns" or "MiB/s", hwloc's units), higher_is_better,
--   targets = {{node, initiators = {{node, cpus, value}, ...}}, ...}}`
--   (ascending nodes), or nil when the topology has no such values; with
--   target and initiator: the value (integer) and the unit, or nil
function M.query(records, name, target, initiator)
  local attrs = group(type(records) == "table" and records or {})
  if name == nil then return attrs end
  local a = attrs[name]
  if target == nil and initiator == nil then return a end
  if a == nil then return nil end
  for _, t in ipairs(a.targets) do
    if t.node == target then
      for _, i in ipairs(t.initiators) do
        if i.node == initiator then return i.value, a.unit end
      end
    end
  end
  return nil
end

--- Checks the arguments of `topo:memattr` (raising like the C methods do).
-- @tparam string fname the method's name in messages
-- @tparam integer level as `error` takes it (0 in plans: no position)
-- @param name the attribute's name, as `M.query` takes it
-- @param target the target node, as `M.query` takes it
-- @param initiator the initiator node, as `M.query` takes it
function M.check_query(fname, level, name, target, initiator)
  if name ~= nil and type(name) ~= "string" then
    error(format("bad argument #1 to '%s' (name: string expected, got %s)", fname,
                 type(name)), level)
  end
  if (target == nil) ~= (initiator == nil) then
    error(format("bad argument #%d to '%s' (%s: give both target and initiator, or neither)",
                 target == nil and 2 or 3, fname, target == nil and "target" or "initiator"), level)
  end
  for i, v in ipairs { target or 0, initiator or 0 } do
    if math_type(v) ~= "integer" then
      error(format("bad argument #%d to '%s' (%s: integer expected, got %s)", i + 1, fname,
                   i == 1 and "target" or "initiator",
                   math_type(v) == "float" and "a fraction" or type(v)), level)
    end
  end
  if name == nil and target ~= nil then
    error(format("bad argument #1 to '%s' (name: a name is needed with a target)", fname), level)
  end
end

M.raw_integers = integers

return M
