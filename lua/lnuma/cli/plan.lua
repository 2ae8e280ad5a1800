--- The `lnuma plan` command: checks a placement plan against this machine
-- or another one, and draws which thread and region sit where.
-- Usage: `lnuma plan check FILE [--xml F | --synthetic DESC] [--json]` and
-- `lnuma plan show FILE [--svg OUT]`.
-- @module lnuma.cli.plan

local plan_cmd = {
  name = "plan",
  summary = "Check a placement plan against a machine, or draw it.",
}

local function add_target(parser)
  parser:mutex(
    parser:option("--xml", "Check against the machine in an hwloc XML file instead of this one.")
      :argname("FILE"),
    parser:option("--synthetic",
      "Check against a synthetic machine, e.g. \"pack:2 numa:2 core:4 pu:2\".")
      :argname("DESC"))
end

function plan_cmd.setup(parser)
  parser:summary(plan_cmd.summary)
  parser:description(
    "A plan is a Lua file that returns `threads` (name, cpus, uses, hot), `memory`\n"
    .. "(name, size, node, policy, huge) and `pools` (name, node, size, count).  It runs\n"
    .. "in a sandbox with a read-only global `topology` (the target machine), and is\n"
    .. "checked before anything runs.")
  parser:command_target("plan_command")
  parser:require_command(true)
  local check = parser:command("check", "Check a plan; print the resolved plan and its warnings.")
  check:description("Loads FILE, checks it against this machine (or --xml/--synthetic) and\n"
    .. "prints the resolved plan (sizes in bytes, CPU lists expanded) and the\n"
    .. "warnings.  Exits 0 when the plan is valid, 1 with the error otherwise.")
  check:argument("file", "The plan file.")
  add_target(check)
  check:flag("--json", "Print one JSON object: {valid, plan | error}.")
  local show = parser:command("show", "Draw which thread and region sit on which node and CPU.")
  show:argument("file", "The plan file.")
  add_target(show)
  show:option("--svg", "Also write the drawing as SVG to OUT."):argname("OUT")
end

-- "bad argument #1 to 'topology' (xml: cannot read ...)" -> "--xml: cannot read ...".
local function clean(msg)
  msg = tostring(msg)
  local inner = msg:match("%((.*)%)$")
  if inner then return (inner:gsub("^xml: ", "--xml: "):gsub("^synthetic: ", "--synthetic: ")) end
  return msg
end

-- After an error against this machine: what it was checked against, and
-- how to check it for the machine it was written for.
local function this_machine_hint(args)
  if args.xml or args.synthetic then return "" end
  local topo = require("lnuma").topology()
  if not topo then return "" end
  return ("\n(checked against this machine: %d CPUs, %d node%s; to check it for another "
          .. "machine, pass --synthetic DESC or --xml FILE)"):format(#topo.cpus, #topo.nodes,
                                                                    #topo.nodes == 1 and "" or "s")
end

local function load(args)
  local lnuma = require "lnuma"
  local opts = {}
  if args.xml or args.synthetic then
    local ok, topo, msg = pcall(lnuma.topology, args.xml and { xml = args.xml }
                                                or { synthetic = args.synthetic })
    if not ok then error(clean(topo), 0) end
    if not topo then error(msg, 0) end
    opts.topology = topo
  end
  return lnuma.plan.load(args.file, opts)
end

local function list(set)
  if #set == 0 then return "-" end
  return require("lnuma").cpulist(set)
end

local function human(n) return require("lnuma.plan").human(n) end

local function pad(s, n) return s .. string.rep(" ", math.max(1, n - #s)) end

-- The resolved plan as text (what `plan check` prints).
local function resolved_text(p)
  local out = {}
  local function add(...) out[#out + 1] = table.concat({ ... }) end
  add(p.file, ": valid on ", p.target)
  if #p.threads > 0 then add("threads:") end
  for _, t in ipairs(p.threads) do
    add("  ", pad(t.name, 14), pad("CPUs " .. list(t.cpus), 20),
        pad(t.node and ("node " .. t.node) or "nodes vary", 11),
        t.hot and "hot" or "not hot",
        #t.uses > 0 and ("  uses " .. table.concat(t.uses, ", ")) or "")
  end
  if #p.memory > 0 then add("memory:") end
  for _, r in ipairs(p.memory) do
    add("  ", pad(r.name, 14), pad(("%d bytes"):format(r.size), 20),
        pad(#r.nodes > 0 and ("node " .. list(r.nodes)) or "first touch", 11),
        r.policy, ", pages ", r.huge, "  (", human(r.size), ")")
  end
  if #p.pools > 0 then add("pools:") end
  for _, q in ipairs(p.pools) do
    add("  ", pad(q.name, 14), pad(("%d x %d bytes"):format(q.count, q.size), 20),
        pad("node " .. q.node, 11), "(", human(q.bytes), ")")
  end
  add("warnings: ", #p.warnings == 0 and "none" or tostring(#p.warnings))
  for _, w in ipairs(p.warnings) do add("  ", w) end
  return table.concat(out, "\n") .. "\n"
end

-- What sits on each node: threads by CPU, regions and pools.
local function layout(p)
  local topo = p:topology()
  local nodes, by_index = {}, {}
  for _, n in ipairs(topo.nodes) do
    local entry = { os_index = n.os_index, cpus = n.cpus or {}, memory = n.memory, free = n.free,
                    memory_only = n.memory_only, threads = {}, regions = {} }
    nodes[#nodes + 1] = entry
    by_index[n.os_index] = entry
  end
  local spread = { threads = {}, regions = {} }
  for _, t in ipairs(p.threads) do
    local home = t.node and by_index[t.node] or spread
    home.threads[#home.threads + 1] = t
  end
  for _, r in ipairs(p.memory) do
    local home = r.node and by_index[r.node] or spread
    home.regions[#home.regions + 1] = { name = r.name, bytes = r.size,
      what = ("%s, %s%s"):format(human(r.size), r.policy,
                                 r.huge ~= "default" and ", " .. r.huge or ""),
      nodes = r.nodes }
  end
  for _, q in ipairs(p.pools) do
    local home = by_index[q.node]
    home.regions[#home.regions + 1] = { name = q.name, bytes = q.bytes, pool = true,
      what = ("pool %d x %d bytes, %s"):format(q.count, q.size, human(q.bytes)) }
  end
  return nodes, spread
end

local function show_text(p)
  local nodes, spread = layout(p)
  local out = { ("%s on %s"):format(p.file, p.target) }
  local function add(...) out[#out + 1] = table.concat({ ... }) end
  for _, n in ipairs(nodes) do
    local mem = n.free and ("%s free of %s"):format(human(n.free), human(n.memory or 0))
                or human(n.memory or 0)
    add(("node %d%s  CPUs %s  %s"):format(n.os_index, n.memory_only and " (memory only)" or "",
                                          list(n.cpus), mem))
    for _, t in ipairs(n.threads) do
      add("  thread ", pad(t.name, 14), "CPU", #t.cpus > 1 and "s " or " ", list(t.cpus),
          t.hot and "" or "  (not hot)")
    end
    for _, r in ipairs(n.regions) do
      add(r.pool and "  pool   " or "  memory ", pad(r.name, 14), r.what)
    end
    if #n.threads == 0 and #n.regions == 0 then add("  (nothing)") end
  end
  if #spread.threads > 0 or #spread.regions > 0 then
    add("on several nodes")
    for _, t in ipairs(spread.threads) do
      add("  thread ", pad(t.name, 14), "CPUs ", list(t.cpus))
    end
    for _, r in ipairs(spread.regions) do
      add("  memory ", pad(r.name, 14), r.what,
          #r.nodes > 0 and (" on nodes " .. list(r.nodes)) or "")
    end
  end
  for _, w in ipairs(p.warnings) do add("warning: ", w) end
  return table.concat(out, "\n") .. "\n"
end

local function xml_escape(s)
  return (tostring(s):gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
                                          ['"'] = "&quot;" }))
end

-- One box per node: a grid of its CPUs (a plan thread's name in its CPU's
-- cell) and a list of the regions and pools placed there.
local function show_svg(p)
  local nodes, spread = layout(p)
  local cell, cols, boxw, gap = 56, 8, 8 * 56 + 20, 20
  local thread_on = {}
  for _, t in ipairs(p.threads) do
    for _, c in ipairs(t.cpus) do
      thread_on[c] = thread_on[c] and (thread_on[c] .. "+" .. t.name) or t.name
    end
  end
  local parts, height = {}, 0
  local function add(s) parts[#parts + 1] = s end
  for i, n in ipairs(nodes) do
    local x = gap + (i - 1) * (boxw + gap)
    local rows = math.max(1, math.ceil(#n.cpus / cols))
    local h = 40 + rows * (cell + 4) + 24 * (#n.regions + 1)
    height = math.max(height, h)
    add(('<g class="node"><rect x="%d" y="%d" width="%d" height="%d" rx="6" fill="%s" '
         .. 'stroke="#555"/>'):format(x, gap, boxw, h, n.memory_only and "#eef" or "#f7f7f7"))
    add(('<text x="%d" y="%d" font-weight="bold">node %d%s</text>')
      :format(x + 10, gap + 22, n.os_index, n.memory_only and " (memory only)" or ""))
    for k, c in ipairs(n.cpus) do
      local cx = x + 10 + ((k - 1) % cols) * cell
      local cy = gap + 34 + ((k - 1) // cols) * (cell + 4)
      local who = thread_on[c]
      add(('<rect x="%d" y="%d" width="%d" height="%d" fill="%s" stroke="#999"/>')
        :format(cx, cy, cell - 4, cell - 4, who and "#fc6" or "#fff"))
      add(('<text x="%d" y="%d" font-size="10">CPU %d</text>'):format(cx + 4, cy + 14, c))
      if who then
        add(('<text x="%d" y="%d" font-size="10" font-weight="bold">%s</text>')
          :format(cx + 4, cy + 32, xml_escape(who:sub(1, 9))))
      end
    end
    local ry = gap + 34 + rows * (cell + 4) + 16
    for k, r in ipairs(n.regions) do
      add(('<text x="%d" y="%d" font-size="12">%s %s: %s</text>')
        :format(x + 10, ry + (k - 1) * 24, r.pool and "pool" or "memory", xml_escape(r.name),
                xml_escape(r.what)))
    end
    add("</g>")
  end
  local y = gap + height + 24
  for _, t in ipairs(spread.threads) do
    add(('<text x="%d" y="%d" font-size="12">thread %s: CPUs %s (several nodes)</text>')
      :format(gap, y, xml_escape(t.name), list(t.cpus)))
    y = y + 20
  end
  for _, r in ipairs(spread.regions) do
    add(('<text x="%d" y="%d" font-size="12">memory %s: %s on nodes %s</text>')
      :format(gap, y, xml_escape(r.name), xml_escape(r.what), list(r.nodes)))
    y = y + 20
  end
  local width = gap + #nodes * (boxw + gap)
  return ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
          .. 'font-family="sans-serif">\n<title>%s</title>\n%s\n</svg>\n')
    :format(width, y + gap, xml_escape(p.file), table.concat(parts, "\n"))
end

function plan_cmd.run(args)
  local lnuma = require "lnuma"
  local p, err = load(args)
  if args.plan_command == "check" then
    if args.json then
      local value = p and { valid = true, plan = p:data() } or { valid = false, error = err }
      io.stdout:write(lnuma.report.json(value, { indent = true }), "\n")
      return p and 0 or 1
    end
    if not p then
      io.stderr:write(err, this_machine_hint(args), "\n")
      return 1
    end
    io.stdout:write(resolved_text(p))
    return 0
  end
  if not p then
    io.stderr:write(err, this_machine_hint(args), "\n")
    return 1
  end
  io.stdout:write(show_text(p))
  if args.svg then
    local f, msg = io.open(args.svg, "w")
    if not f then error(msg, 0) end
    f:write(show_svg(p))
    f:close()
  end
  return 0
end

return plan_cmd
