--- Machine topology: NUMA nodes, CPUs, caches, devices, distances.
-- `lnuma.topology()` describes this machine (loaded once per Lua state);
-- `lnuma.topology{xml = path}` and `lnuma.topology{synthetic = "pack:2 numa:2 core:4 pu:2"}`
-- describe other machines, so placements can be planned for a production box
-- from a laptop.  A topology is a plain table (it survives `lnuma.report.json`)
-- whose methods are listed under `Topology` below; its fields:
--
--  * `topo.nodes`: array in ascending `os_index`, each `{os_index, cpus (array),
--    memory (bytes), free (bytes, this machine only, when loaded), distances
--    (array aligned with topo.nodes), memory_only, local_cpus, subtype}`
--  * `topo.cpus`: each PU `{os_index, core, package, node}` (`core` indexes
--    `topo.cores`, 0-based); `topo.cores`: `{index, os_index, package, node, cpus}`;
--    `topo.packages`: `{os_index, cpus, nodes}`
--  * `topo.caches`: `{level, type ("data", "instruction", "unified"), size,
--    line_size, associativity, cpus}`
--  * `topo.devices`: `{name, kind ("network", "block", "gpu", "openfabrics",
--    "dma", "coproc"), subtype, pci_bus, pci_id, cpus, nodes, node}`
--  * `topo.memattrs`: memory attributes (ACPI HMAT, or measured by lnuma and
--    written with `topo:export_xml(path, {attributes = matrix})`), one record
--    per value: `{name ("latency", "bandwidth", ...), unit ("ns", "MiB/s":
--    hwloc's units), initiator (node), initiator_cpus, target (node), value,
--    higher_is_better}`; `topo:memattr()` groups them by target and initiator
--  * `topo.allowed`: `{cpus, nodes}` this process may use (cpuset, taskset)
--  * `topo.source` ("system", "xml", "synthetic"), `topo.origin` (path or
--    description), `topo.default_distances` (true when the machine gave no
--    distance table and 10/20 stand in)
-- @module lnuma.topology

local core = require "lnuma.core"
local memattrs = require "lnuma.memattrs"

local M = {}

-- This machine's topology, loaded at the first call (this module is loaded
-- once per Lua state, so the cache is per state).
local this_machine

--- Loads a topology.
-- @tparam[opt] table opts nothing for this machine (cached), or one of
--   `xml` (path of an hwloc XML file, as `lstopo --of xml` or
--   `topo:export_xml` write) or `synthetic` (an hwloc synthetic description)
-- @treturn Topology the topology
-- @return[2] nil when this machine's topology cannot be read
-- @treturn[2] string message
-- @treturn[2] integer errno
-- @raise on unknown options, an unreadable or malformed XML file, a malformed
--   synthetic description
function M.topology(opts)
  if opts == nil or (type(opts) == "table" and next(opts) == nil) then
    if this_machine == nil then
      local topo, msg, code = core.topology()
      if not topo then return nil, msg, code end
      this_machine = topo
    end
    return this_machine
  end
  -- Errors point at the caller's line, not at this file.
  local ok, topo = pcall(core.topology, opts)
  if not ok then
    error((tostring(topo):gsub("to 'lnuma%.core%.topology'", "to 'topology'", 1)), 2)
  end
  return topo
end

-- ---- summary --------------------------------------------------------------------

local human = require("lnuma.options").size_text

local function list(array)
  if #array == 0 then return "none" end
  return core.cpulist(array)
end

local function plural(n, word)
  return ("%d %s%s"):format(n, word, n == 1 and "" or "s")
end

local CACHE_NAME = { data = "d", instruction = "i", unified = "" }

local function summary_caches(topo, out)
  -- One line per level and type, with the CPUs of each instance.
  local groups, order = {}, {}
  for _, c in ipairs(topo.caches) do
    local key = ("L%d%s %s"):format(c.level, CACHE_NAME[c.type] or "", human(c.size))
    local g = groups[key]
    if not g then
      g = { cache = c, instances = {} }
      groups[key] = g
      order[#order + 1] = key
    end
    g.instances[#g.instances + 1] = list(c.cpus)
  end
  if #order == 0 then out[#out + 1] = "  (none reported)" end
  for _, key in ipairs(order) do
    local g = groups[key]
    local shown = g.instances
    if #shown > 8 then
      shown = { table.unpack(g.instances, 1, 8) }
      shown[#shown + 1] = "..."
    end
    local line = g.cache.line_size > 0 and (", line %d B"):format(g.cache.line_size) or ""
    out[#out + 1] = ("  %-14s x%d%s: CPUs %s"):format(key, #g.instances, line,
      table.concat(shown, " | "))
  end
end

local function summary_distances(topo, out)
  local head = { "  node" }
  for _, n in ipairs(topo.nodes) do head[#head + 1] = ("%4d"):format(n.os_index) end
  out[#out + 1] = table.concat(head)
  for _, n in ipairs(topo.nodes) do
    local row = { ("  %4d"):format(n.os_index) }
    for _, d in ipairs(n.distances) do row[#row + 1] = ("%4d"):format(d) end
    out[#out + 1] = table.concat(row)
  end
end

local function summary_devices(topo, out)
  if #topo.devices == 0 then out[#out + 1] = "  (none reported)" end
  for _, d in ipairs(topo.devices) do
    local where = d.node and ("node " .. d.node)
      or (#d.nodes > 0 and ("nodes " .. list(d.nodes)) or "locality unknown")
    local pci = d.pci_bus and ("  PCI %s [%s]"):format(d.pci_bus, d.pci_id) or ""
    out[#out + 1] = ("  %-12s %-11s %s%s"):format(d.name, d.kind, where, pci)
  end
end

local function summary_memattrs(topo, out)
  if #topo.memattrs == 0 then
    out[#out + 1] = "  (none reported: no ACPI HMAT; `lnuma matrix --export-xml FILE` "
      .. "measures them)"
    return
  end
  for _, m in ipairs(topo.memattrs) do
    local from = m.initiator and ("node " .. m.initiator) or ("CPUs " .. list(m.initiator_cpus))
    out[#out + 1] = ("  %-16s %s -> node %d: %d %s"):format(m.name, from, m.target, m.value, m.unit)
  end
end

--- A topology (a plain table with the metatable `lnuma.Topology`, made by
-- `topology`).  Its fields are listed at the top of this page; its methods
-- only read it.  Nodes and CPUs are OS indexes.
-- @type Topology

--- The home node of a CPU.
-- @function Topology:node_of_cpu
-- @tparam integer cpu the CPU (PU) OS index
-- @treturn integer the node
-- @raise when the CPU does not exist in this topology ("bad argument #1 to
--   'node_of_cpu' (cpu: ...)")

--- The CPUs of a node.
-- @function Topology:cpus_of
-- @tparam integer node
-- @treturn {integer,...} the CPUs in ascending order (empty for a
--   memory-only node)
-- @raise when the node does not exist

--- The distance between two nodes, in ACPI SLIT units (10 = local; the
-- conventional 10/20 when the machine gave none, see `default_distances`).
-- @function Topology:distance
-- @tparam integer a the node whose CPUs access memory
-- @tparam integer b the node whose memory is accessed
-- @treturn integer the distance
-- @raise when either node does not exist (naming `a` or `b`)

--- Every node ordered by distance from a node.
-- @function Topology:nearest
-- @tparam integer node
-- @treturn {integer,...} the nodes, `node` itself first, ties by OS index
-- @raise when the node does not exist

--- The node an I/O device hangs off: the lowest node with CPUs in its
-- locality.
-- @function Topology:node_of_device
-- @tparam string name an OS device name ("eth0", "nvme0n1") or a PCI bus id
--   ("0000:3b:00.0")
-- @treturn[1] integer the node
-- @return[2] nil when there is no such device, or its locality is the whole
--   machine of several nodes (the firmware does not say which node)
-- @treturn[2] string why

-- ---- memory attributes ----------------------------------------------------------

-- The C method (also core.Topology.export_xml until this module replaces it).
local raw_export = core.topology_export_xml

-- The C method's errors, as if the script had called it directly.
local function export_error(msg)
  msg = tostring(msg)
  local n, rest = msg:match("^bad argument #(%d+) to '[^']*' (.*)$")
  if n == "1" then return "calling 'export_xml' on bad self " .. rest end
  if n then return ("bad argument #%d to 'export_xml' %s"):format(tonumber(n) - 1, rest) end
  return msg
end

--- Writes the topology as an hwloc XML file, optionally with measured
-- memory attributes (see `lnuma.memattrs`): `lstopo --memattrs --input FILE`
-- and hwloc-based runtimes then read lnuma's latencies and bandwidths.
-- @function Topology:export_xml
-- @tparam string path the file to write
-- @tparam[opt] table opts `attributes`: a result of `lnuma.bench.matrix` (or
--   an array of them: a latency and a bandwidth matrix), measured on this
--   topology's nodes; written as hwloc's Latency/ReadLatency (ns) and
--   Bandwidth/ReadBandwidth/WriteBandwidth (MiB/s) per target node and
--   initiator (the row node's CPUs)
-- @treturn[1] boolean true
-- @return[2] nil when the file cannot be written
-- @treturn[2] string message naming the path
-- @treturn[2] integer errno
-- @raise on unknown options, a result that is not a measured matrix, a cell
--   without a value (such a result is refused, never half written), nodes
--   that are not this topology's
-- @usage local lat = lnuma.bench.matrix{metric = "latency"}
-- local bw = lnuma.bench.matrix{metric = "bandwidth"}
-- assert(lnuma.topology():export_xml("measured.xml", {attributes = {lat, bw}}))
function core.Topology.export_xml(topo, path, opts)
  local values
  if opts ~= nil then
    if type(opts) ~= "table" then
      error(("bad argument #2 to 'export_xml' (table expected, got %s)"):format(type(opts)), 2)
    end
    for k in pairs(opts) do
      if k ~= "attributes" then
        error(("bad argument #2 to 'export_xml' (unknown option '%s')"):format(tostring(k)), 2)
      end
    end
    -- Not a topology: the C method says so below.
    if opts.attributes ~= nil and type(topo) == "table" and type(rawget(topo, "nodes")) == "table"
    then
      local ok, v = pcall(memattrs.values_from, topo, opts.attributes)
      if not ok then error(v, 2) end
      values = v
    end
  end
  local res = table.pack(pcall(raw_export, topo, path, values))
  if not res[1] then error(export_error(res[2]), 2) end
  return table.unpack(res, 2, res.n)
end

--- The memory attributes by target node and initiator, in hwloc's units.
-- `topo:memattr()` gives every attribute by name; `topo:memattr("latency")`
-- one: `{name, unit, higher_is_better, targets = {{node, initiators = {{node,
-- cpus, value}, ...}}, ...}}` (nil when the topology has none);
-- `topo:memattr("latency", target, initiator)` one value and its unit.
-- Also available to plans (it only reads).
-- @function Topology:memattr
-- @tparam[opt] string name "latency", "read_latency", "bandwidth",
--   "read_bandwidth", "write_bandwidth", ... (as in `topo.memattrs`)
-- @tparam[opt] integer target the node whose memory is accessed
-- @tparam[opt] integer initiator the node whose CPUs access it
-- @treturn table|integer|nil the attributes, one attribute, or one value
-- @treturn[opt] string the unit of a value ("ns" or "MiB/s")
-- @usage local ns, unit = topo:memattr("latency", 1, 0) -- node 0's CPUs reading node 1
function core.Topology.memattr(topo, name, target, initiator)
  memattrs.check_query("memattr", 3, name, target, initiator)
  return memattrs.query(type(topo) == "table" and rawget(topo, "memattrs") or nil, name, target,
                        initiator)
end

--- The text `lnuma topo` prints: nodes with CPUs and memory, the distance
-- matrix, caches, devices, memory attributes and what this process may use.
-- @function Topology:summary
-- @treturn string
function core.Topology.summary(topo)
  local out = {}
  local what = topo.source == "system" and "this machine"
    or ("%s %s"):format(topo.source, topo.origin or "")
  out[#out + 1] = ("Topology of %s: %s, %s, %s, %s"):format(what,
    plural(#topo.packages, "package"), plural(#topo.cores, "core"),
    plural(#topo.cpus, "CPU"), plural(#topo.nodes, "NUMA node"))
  out[#out + 1] = ""
  out[#out + 1] = "NUMA nodes"
  for _, n in ipairs(topo.nodes) do
    local cpus = n.memory_only and "no CPUs (memory-only)" or ("CPUs " .. list(n.cpus))
    local free = n.free and (", free " .. human(n.free)) or ""
    local sub = n.subtype and (" [" .. n.subtype .. "]") or ""
    out[#out + 1] = ("  node %d%s: %s, memory %s%s"):format(n.os_index, sub, cpus,
      human(n.memory), free)
  end
  out[#out + 1] = ""
  out[#out + 1] = topo.default_distances
    and "Distances (none reported: the usual 10 local / 20 remote assumed)"
    or "Distances (ACPI SLIT, 10 = local)"
  summary_distances(topo, out)
  out[#out + 1] = ""
  out[#out + 1] = "Caches"
  summary_caches(topo, out)
  out[#out + 1] = ""
  out[#out + 1] = "Devices"
  summary_devices(topo, out)
  out[#out + 1] = ""
  out[#out + 1] = "Memory attributes"
  summary_memattrs(topo, out)
  out[#out + 1] = ""
  out[#out + 1] = topo.source == "system" and "Allowed to this process"
    or "Allowed (everything: not this machine)"
  out[#out + 1] = ("  CPUs %s; nodes %s"):format(list(topo.allowed.cpus),
    list(topo.allowed.nodes))
  return table.concat(out, "\n") .. "\n"
end

return M
