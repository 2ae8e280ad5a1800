--- The `lnuma topo` command: the machine's topology as text (nodes, CPUs,
-- memory, distances, caches, devices, what this process may use) or as JSON.
-- Usage: `lnuma topo [--json] [--xml FILE | --synthetic DESC]`.
-- @module lnuma.cli.topo

local topo_cmd = {
  name = "topo",
  summary = "Show the NUMA topology: nodes, CPUs, memory, distances, caches, devices.",
}

function topo_cmd.setup(parser)
  parser:summary(topo_cmd.summary)
  parser:description(
    "Show the topology of this machine, of an hwloc XML file (as written by\n"
    .. "`lstopo --of xml` or topo:export_xml) or of a synthetic description:\n"
    .. "NUMA nodes with their CPUs, memory and free memory, the distance matrix,\n"
    .. "caches, I/O devices with the node they hang off, memory attributes\n"
    .. "(ACPI HMAT) and the CPUs and nodes this process is allowed to use.\n"
    .. "For this machine, also what it can do (lnuma.has): THP mode and defrag,\n"
    .. "hugetlb pages reserved per node, weighted interleave, move_pages,\n"
    .. "AVX2/AVX-512, invariant TSC and RDTSCP, NUMA balancing, SMT, hypervisor.")
  parser:epilog(
    "Examples:\n"
    .. "  lnuma topo\n"
    .. "  lnuma topo --json > machine.json\n"
    .. "  lnuma topo --xml prod.xml\n"
    .. "  lnuma topo --synthetic \"pack:2 numa:2 core:4 pu:2\"")
  parser:flag("--json", "Print the topology as one JSON object (with a `nodes` array).")
  parser:mutex(
    parser:option("--xml", "Describe the machine in an hwloc XML file instead of this one.")
      :argname("FILE"),
    parser:option("--synthetic",
      "Describe a synthetic machine, e.g. \"pack:2 numa:2 core:4 pu:2\".")
      :argname("DESC"))
end

-- "bad argument #1 to 'topology' (xml: cannot read ...)" -> "--xml: cannot read ...".
local function clean(msg)
  msg = tostring(msg)
  local inner = msg:match("%((.*)%)$")
  if inner then
    inner = inner:gsub("^xml: ", "--xml: "):gsub("^synthetic: ", "--synthetic: ")
    return inner
  end
  return msg
end

function topo_cmd.run(args)
  local lnuma = require "lnuma"
  local opts
  if args.xml then opts = { xml = args.xml }
  elseif args.synthetic then opts = { synthetic = args.synthetic } end
  local ok, topo, msg = pcall(lnuma.topology, opts)
  if not ok then error(clean(topo), 0) end
  if not topo then error(msg, 0) end
  local this = opts == nil -- capabilities are this machine's, not a described one's
  if args.json then
    local t = topo
    if this then
      t = {}
      for k, v in pairs(topo) do t[k] = v end
      t.has = require("lnuma.sysinfo").has()
    end
    io.stdout:write(lnuma.report.json(t, { indent = true }), "\n")
  else
    io.stdout:write(topo:summary())
    if this then
      local si = require "lnuma.sysinfo"
      io.stdout:write(si.has_text(si.has()))
    end
  end
  return 0
end

return topo_cmd
