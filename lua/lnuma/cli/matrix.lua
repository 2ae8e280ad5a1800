--- `lnuma matrix`: node-to-node latency or bandwidth matrix.
-- @module lnuma.cli.matrix

local cb = require "lnuma.cli.bench"

local cmd = {
  name = "matrix",
  summary = "Measure the node-to-node latency or bandwidth matrix.",
}

function cmd.setup(parser)
  parser:summary(cmd.summary)
  parser:description(
    "For every node with CPUs (rows) and every node with memory (columns,\n"
    .. "memory-only nodes included), the CPUs of the row node read memory bound\n"
    .. "to the column node: latency (one chasing thread) or bandwidth (all the\n"
    .. "node's allowed CPUs).  Each cell checks where its pages landed.  With\n"
    .. "--plan and --synthetic/--xml, the cells are planned on another machine's\n"
    .. "topology without measuring.  --export-xml writes this machine's topology\n"
    .. "with the measured matrix as hwloc memory attributes (latency in ns,\n"
    .. "bandwidth in MiB/s), which `lstopo --memattrs --input FILE` and\n"
    .. "hwloc-based runtimes read.")
  parser:epilog("Examples:\n"
    .. "  lnuma matrix\n"
    .. "  lnuma matrix --metric bandwidth --svg bw.svg\n"
    .. "  lnuma matrix --export-xml measured.xml && lstopo --memattrs --input measured.xml\n"
    .. "  lnuma matrix --plan --synthetic \"pack:2 numa:2 core:4 pu:2\" --json")
  parser:option("--metric", "latency (default) or bandwidth."):argname("M")
  parser:option("--size",
                "Bytes per cell (4 x the last-level cache; at least 256M for latency, 1G "
                .. "for bandwidth).")
    :argname("SIZE"):convert(cb.size)
  parser:option("--kernel", "Bandwidth kernel (default read)."):argname("K")
  parser:option("--threads", "Bandwidth threads per row node (default: its allowed CPUs).")
    :argname("N"):convert(cb.integer)
  parser:option("--pattern", "Latency chase pattern (default random)."):argname("P")
  cb.huge_option(parser)
  cb.repetitions_option(parser, 5)
  parser:flag("--plan", "Only plan the cells (with --synthetic or --xml: another machine).")
  parser:mutex(
    parser:option("--synthetic", "Plan on a synthetic topology."):argname("DESC"),
    parser:option("--xml", "Plan on the topology of an hwloc XML file."):argname("FILE"))
  parser:option("--export-xml",
                "Write this machine's topology with the measured values as hwloc memory "
                .. "attributes.")
    :argname("FILE")
  cb.output_options(parser)
end

function cmd.run(args)
  local lnuma = require "lnuma"
  local opts = cb.pick(args, {}, { "metric", "size", "kernel", "threads", "pattern", "huge",
                                   "repetitions", "plan" })
  if args.export_xml and args.plan then
    error("--export-xml: nothing is measured with --plan", 0)
  end
  if args.synthetic or args.xml then
    if not args.plan then error("--synthetic/--xml: only with --plan (this machine is the "
                                .. "only one that can be measured)", 0) end
    local ok, topo = pcall(lnuma.topology, args.synthetic and { synthetic = args.synthetic }
                                           or { xml = args.xml })
    if not ok then error("--" .. tostring(topo):gsub("^.-%((.*)%)$", "%1"), 0) end
    opts.topology = topo
  end
  local r = cb.call(lnuma.bench.matrix, opts,
                    { topology = args.synthetic and "--synthetic" or args.xml and "--xml" or nil })
  if r.planned and not args.json then
    local rows = {}
    for _, c in ipairs(r.cells) do
      rows[#rows + 1] = { c.cpu_node, c.memory_node, lnuma.cpulist(c.cpus) }
    end
    io.stdout:write(("%s matrix plan: %d x %d cells\n"):format(r.metric, #r.rows, #r.columns),
      lnuma.report.table({ "cpu node", "memory node", "cpus" }, rows), "\n")
    return 0
  end
  cb.emit(r, args)
  if args.export_xml then
    local topo, msg = lnuma.topology()
    local ok
    if topo then ok, msg = topo:export_xml(args.export_xml, { attributes = r }) end
    if not ok then error("--export-xml: " .. tostring(msg), 0) end
  end
  return 0
end

return cmd
