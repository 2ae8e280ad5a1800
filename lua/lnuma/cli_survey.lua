--- `lnuma survey`: the main job.  Measures what a performance engineer wants
-- to know about a machine's memory in one go -- topology, the latency curve,
-- the latency and bandwidth matrices, peak bandwidth per kernel, loaded
-- latency and core-to-core latency -- prints a short summary, and writes a
-- JSON file and SVG pictures into a results folder under the current
-- directory.
-- @module lnuma.cli_survey

local cmd = {
  name = "survey",
  summary = "Survey this machine's memory: latency, bandwidth, matrices, c2c (the main job).",
}

--- The parts of a survey, in order (keys of the survey result).
cmd.PARTS = { "latency_curve", "latency_matrix", "bandwidth_matrix", "peak_bandwidth",
              "loaded_latency", "c2c" }

local MIB = 1024 * 1024

function cmd.setup(parser)
  parser:summary(cmd.summary)
  parser:description(
    "Runs, in order: the topology; the latency curve from 4 KiB to beyond the\n"
    .. "last-level cache; the node-to-node latency and bandwidth matrices; peak\n"
    .. "bandwidth of every kernel on all allowed CPUs; the loaded-latency curve;\n"
    .. "core-to-core latency.  Prints a summary and writes survey.json, the SVG\n"
    .. "pictures and summary.txt into DIR/survey-<date>-<time>/.")
  parser:epilog("Examples:\n  lnuma survey\n  lnuma survey --out /tmp/results --quick")
  parser:option("--out", "Folder for the results folder (default ./lnuma-results)."):argname("DIR")
  parser:flag("--quick", "Small sizes and few repetitions (seconds; figures are rough).")
  parser:flag("--json", "Print the survey as JSON instead of the summary.")
end

-- Sizes and repetitions of the full and the quick survey.
local function settings(quick)
  if quick then
    return {
      curve = { sizes = { 4096, 32768, 262144, 2 * MIB, 16 * MIB }, repetitions = 2,
                min_time = 2000000 },
      lat_matrix = { size = 16 * MIB, repetitions = 2, min_time = 2000000 },
      bw_matrix = { size = 32 * MIB, repetitions = 2, min_time = 5000000 },
      peak = { size = 32 * MIB, repetitions = 2, min_time = 5000000 },
      loaded = { size = 16 * MIB, traffic_size = 32 * MIB, delays = { 0, 1000, 20000 },
                 step_time = 10000000, repetitions = 2 },
      c2c = { samples = 3, roundtrips = 100 },
    }
  end
  return {
    curve = { repetitions = 3, min_time = 10000000 },
    lat_matrix = { size = 256 * MIB, repetitions = 5, min_time = 20000000 },
    bw_matrix = { repetitions = 3, min_time = 50000000 },
    peak = { repetitions = 3, min_time = 50000000 },
    loaded = { size = 256 * MIB, traffic_size = 1024 * MIB, step_time = 50000000 },
    c2c = { samples = 11, roundtrips = 500 },
  }
end

local function read_line(path, pattern)
  local f = io.open(path, "r")
  if not f then return nil end
  for line in f:lines() do
    local v = line:match(pattern)
    if v then
      f:close()
      return v
    end
  end
  f:close()
end

local function progress(enabled, text)
  if enabled then
    io.stderr:write("\r\27[K[lnuma] survey: ", text)
    io.stderr:flush()
  end
end

-- Peak bandwidth: every kernel on every allowed CPU.
local function peak_bandwidth(lnuma, opts)
  local r = {
    benchmark = "bandwidth_kernels", lnuma_version = lnuma._VERSION, kernels = {},
    warnings = {}, units = { gbps = "GB/s (1e9 bytes/s)", size = "bytes" },
    size = opts.size, parameters = opts,
  }
  for _, k in ipairs(lnuma.bench.kernel_info().kernels) do
    local res, msg = lnuma.bench.bandwidth { kernel = k, size = opts.size, cpus = opts.cpus,
      repetitions = opts.repetitions, min_time = opts.min_time }
    if not res then return nil, msg end
    r.kernels[#r.kernels + 1] = { kernel = k, gbps = res.gbps, spread = res.stats.spread,
                                  isa = res.isa, fraction = res.placement.fraction }
    r.threads, r.cpus, r.cpus_ran, r.clock = res.threads, res.cpus, res.cpus_ran, res.clock
    r.size = res.size
    for _, w in ipairs(res.warnings) do r.warnings[#r.warnings + 1] = k .. ": " .. w end
  end
  return r
end

-- The latency a curve shows inside each cache level and in memory.
local function levels(curve)
  local size = require("lnuma.report_text").size
  local out, pts = {}, curve.points or {}
  local function at_most(limit)
    local best
    for _, p in ipairs(pts) do
      if p.size <= limit then best = p end
    end
    return best
  end
  local seen = {}
  for _, c in ipairs(curve.caches or {}) do
    local p = at_most(c.size // 2)
    if p and not seen[c.level] then
      seen[c.level] = true
      out[#out + 1] = { ("L%d (%s)"):format(c.level, size(c.size)),
                        p.latency_ns, size(p.size) }
    end
  end
  local last = pts[#pts]
  if last then out[#out + 1] = { "memory", last.latency_ns, size(last.size) } end
  return out
end

local function summary(lnuma, s, dir)
  local rep = lnuma.report
  local num = require("lnuma.report_text").number
  local color = lnuma.core.isatty(1)
  local out = {}
  local function add(x) out[#out + 1] = x end
  add(("lnuma survey of %s (%s), %s"):format(s.host or "?", s.cpu_model or "?", s.date))
  local topo = s.topology
  if topo then
    local caches = {}
    for _, c in ipairs(s.latency_curve and s.latency_curve.caches or {}) do
      caches[#caches + 1] = ("L%d %s"):format(c.level, rep.size(c.size))
    end
    add(("%d node%s, %d CPUs (%d allowed), caches %s"):format(#topo.nodes,
      #topo.nodes == 1 and "" or "s", #topo.cpus, #topo.allowed.cpus,
      #caches > 0 and table.concat(caches, ", ") or "unknown"))
  end
  add("")
  if s.latency_curve then
    add("Latency by working set (ns per load):")
    add(rep.table({ "level", "ns", "at size" }, levels(s.latency_curve), { indent = "  " }))
    add("")
  end
  if s.latency_matrix then
    add("Latency matrix (ns, CPU node -> memory node):")
    add(rep.heatmap(s.latency_matrix, { color = color }))
    add("")
  end
  if s.bandwidth_matrix then
    add(("Bandwidth matrix (GB/s, %s kernel, all CPUs of the row node):"):format(
      s.bandwidth_matrix.parameters.kernel))
    add(rep.heatmap(s.bandwidth_matrix, { color = color }))
    add("")
  end
  if s.peak_bandwidth then
    local rows = {}
    for _, k in ipairs(s.peak_bandwidth.kernels) do
      rows[#rows + 1] = { k.kernel, k.gbps, ("%.1f%%"):format(k.spread * 100), k.isa }
    end
    add(("Peak bandwidth (%d threads on CPUs %s, %s):"):format(s.peak_bandwidth.threads or 0,
      lnuma.cpulist(s.peak_bandwidth.cpus or {}), rep.size(s.peak_bandwidth.size)))
    add(rep.table({ "kernel", "GB/s", "spread", "isa" }, rows, { indent = "  " }))
    add("")
  end
  if s.loaded_latency then
    local pts = s.loaded_latency.points
    local idle, busy = pts[#pts], pts[1]
    add(("Loaded latency (%d traffic thread%s, %s): %s ns with %s GB/s of traffic, %s ns "
         .. "with %s GB/s"):format(s.loaded_latency.threads - 1,
         s.loaded_latency.threads == 2 and "" or "s", s.loaded_latency.traffic,
         num(idle.latency_ns), num(idle.gbps), num(busy.latency_ns), num(busy.gbps)))
    add("")
  end
  if s.c2c then
    local st = s.c2c.stats -- over the pairs' medians
    add(("Core-to-core latency (%s, one way, %d CPUs, %d pairs in %d rounds): min %s, median "
         .. "%s, max %s ns"):format(s.c2c.mode, #s.c2c.rows, #s.c2c.pairs, s.c2c.rounds,
         num(st.min), num(st.median), num(st.max)))
    if #s.c2c.rows <= 16 then add(rep.heatmap(s.c2c, { color = color })) end
    add("")
  end
  if #s.warnings > 0 then
    add(("WARNINGS (%d):"):format(#s.warnings))
    for _, w in ipairs(s.warnings) do add("  - " .. w) end
    add("")
  end
  add(("Took %.1f s.  Results: %s/ (survey.json, summary.txt, %s)"):format(s.elapsed_s, dir,
      table.concat(s.files, ", ")))
  return table.concat(out, "\n")
end

local function mkdir(path)
  local ok = os.execute(("mkdir -p '%s'"):format(path:gsub("'", "'\\''")))
  return ok
end

function cmd.run(args)
  local lnuma = require "lnuma"
  local t_start = lnuma.clock.now()
  local c0 = lnuma.core.isatty(2)
  local set = settings(args.quick)
  local topo, terr = lnuma.topology()
  if not topo then error("topology: " .. tostring(terr), 0) end
  local s = {
    benchmark = "survey", lnuma_version = lnuma._VERSION, quick = args.quick or false,
    host = read_line("/proc/sys/kernel/hostname", "^(.+)$"),
    cpu_model = read_line("/proc/cpuinfo", "^model name%s*:%s*(.-)%s*$"),
    date = os.date("!%Y-%m-%dT%H:%M:%SZ"), topology = topo, warnings = {}, files = {},
  }
  local function part(name, label, fn)
    progress(c0, label .. "...")
    local ok, res, msg = pcall(fn)
    if not ok or not res then
      s.warnings[#s.warnings + 1] = ("%s failed: %s"):format(name, tostring(ok and msg or res))
      return
    end
    s[name] = res
    for _, w in ipairs(res.warnings or {}) do
      s.warnings[#s.warnings + 1] = name .. ": " .. w
    end
  end
  part("latency_curve", "latency curve", function()
    local o = { progress = false }
    for k, v in pairs(set.curve) do o[k] = v end
    return lnuma.bench.latency_curve(o)
  end)
  part("latency_matrix", "latency matrix", function()
    local o = { metric = "latency", progress = false }
    for k, v in pairs(set.lat_matrix) do o[k] = v end
    return lnuma.bench.matrix(o)
  end)
  part("bandwidth_matrix", "bandwidth matrix", function()
    local o = { metric = "bandwidth", progress = false }
    for k, v in pairs(set.bw_matrix) do o[k] = v end
    return lnuma.bench.matrix(o)
  end)
  part("peak_bandwidth", "peak bandwidth", function()
    local o = { cpus = topo.allowed.cpus }
    for k, v in pairs(set.peak) do o[k] = v end
    return peak_bandwidth(lnuma, o)
  end)
  if #topo.allowed.cpus >= 2 then
    part("loaded_latency", "loaded latency", function()
      local o = { progress = false }
      for k, v in pairs(set.loaded) do o[k] = v end
      return lnuma.bench.loaded_latency(o)
    end)
    part("c2c", "core-to-core latency", function()
      return lnuma.bench.c2c(set.c2c)
    end)
  else
    s.warnings[#s.warnings + 1] = "loaded latency and c2c need two CPUs; this process may use one"
  end
  progress(c0, "writing results")
  local base = args.out or "lnuma-results"
  local dir = ("%s/survey-%s"):format(base, os.date("%Y%m%d-%H%M%S"))
  if not mkdir(dir) then error("cannot create " .. dir, 0) end
  for _, name in ipairs(cmd.PARTS) do
    if s[name] then
      local file = name:gsub("_", "-") .. ".svg"
      local ok, err = lnuma.report.save(s[name], dir .. "/" .. file)
      if ok then s.files[#s.files + 1] = file
      else s.warnings[#s.warnings + 1] = "writing " .. file .. ": " .. tostring(err) end
    end
  end
  s.elapsed_s = (lnuma.clock.now() - t_start) / 1e9
  local text = summary(lnuma, s, dir)
  local ok, err = lnuma.report.save(s, dir .. "/survey.json")
  if not ok then error("writing survey.json: " .. tostring(err), 0) end
  local f = io.open(dir .. "/summary.txt", "w")
  if f then
    f:write(text, "\n")
    f:close()
  end
  if c0 then io.stderr:write("\r\27[K") end
  if args.json then
    io.stdout:write(lnuma.report.json(s, { indent = true }), "\n")
  else
    io.stdout:write(text, "\n")
  end
  return 0
end

return cmd
