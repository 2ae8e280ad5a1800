--- `lnuma survey`: the main job.  Measures what a performance engineer wants
-- to know about a machine's memory in one go -- topology, the latency curve,
-- the latency and bandwidth matrices, peak bandwidth per kernel, loaded
-- latency and core-to-core latency (lnuma.survey) -- prints a short summary,
-- and writes a JSON file, SVG pictures and the summary (plain text) into a
-- results folder.
-- @module lnuma.cli.survey

local survey = require "lnuma.survey"

local cmd = {
  name = "survey",
  summary = "Survey this machine's memory: latency, bandwidth, matrices, c2c (the main job).",
}

--- The parts of a survey, in order (keys of the survey result).
cmd.PARTS = survey.PARTS

function cmd.setup(parser)
  parser:summary(cmd.summary)
  parser:description(
    "Runs, in order: the topology; the latency curve from 4 KiB to well beyond\n"
    .. "the last-level cache (on huge pages, with a 4 KiB series beside it); the\n"
    .. "node-to-node latency and bandwidth matrices; peak bandwidth of every\n"
    .. "kernel on all allowed CPUs; the loaded-latency curve; core-to-core\n"
    .. "latency.  Buffers are at least 4x the last-level cache, so the figures\n"
    .. "are memory's; a figure whose spread is above 10% is measured again and,\n"
    .. "still above, flagged unstable.  Prints a summary and writes survey.json,\n"
    .. "the SVG pictures and summary.txt into DIR/survey-<date>-<time>/.")
  parser:epilog("Examples:\n  lnuma survey\n  lnuma survey --out /tmp/results --quick")
  parser:option("--out", "Folder for the results folder (default ./lnuma-results)."):argname("DIR")
  parser:flag("--quick", "Fewer sizes and repetitions (seconds; figures are rough, but of "
              .. "memory, not cache).")
  parser:flag("--json", "Print the survey as JSON instead of the summary.")
  require("lnuma.cli.bench").strict_option(parser)
end

local function range(sizes, fmt_size)
  if not sizes or #sizes == 0 then return "" end
  if #sizes == 1 then return fmt_size(sizes[1]) end
  return fmt_size(sizes[1]) .. "-" .. fmt_size(sizes[#sizes])
end

-- The curve: a table of the levels the data show (or of the points, where
-- none can be named), then what the curve's own summary says about series,
-- indistinct levels and the TLB.
local function curve_section(rep, curve, add)
  local text = require "lnuma.report.text"
  local main = curve.series and curve.series[curve.main_series or 1]
  add(("Latency by working set (ns per load; %s):"):format(main and main.label or "one series"))
  local rows = {}
  if curve.levels and #curve.levels > 0 then
    for _, lv in ipairs(curve.levels) do
      rows[#rows + 1] = { lv.name .. (lv.size and (" (" .. rep.size(lv.size) .. ")") or ""),
                          lv.latency_ns, range(lv.sizes, rep.size), lv.unstable or "" }
    end
    add(rep.table({ "level", "ns", "sizes", "note" }, rows, { indent = "  " }))
  else
    local headers, data = text.rows(curve)
    for _, row in ipairs(data) do
      row[1] = rep.size(row[1])
      row[3] = row[3] and ("%.1f%%"):format(row[3]) or ""
    end
    headers[2], headers[3] = "ns", "spread"
    for i = 4, #headers do
      local kind = headers[i]:match("^latency_(%w+)_ns$")
      if kind then headers[i] = (kind == "4k" and "4K" or kind:upper()) .. " pages ns" end
    end
    add(rep.table(headers, data, { indent = "  " }))
  end
  for _, line in ipairs(text.curve_lines(curve, { levels = false, caches = false })) do
    add("  " .. line)
  end
  for _, s in ipairs(curve.series or { { points = curve.points } }) do
    for _, pt in ipairs(s.points or {}) do
      if pt.unstable then
        add(("  %s%s: %s"):format(rep.size(pt.size), s.label and (" (" .. s.label .. ")") or "",
                                  pt.unstable))
      end
    end
  end
end

local function unstable_cells(m, add)
  for _, cell in ipairs(m.cells or {}) do
    if cell.unstable then
      add(("  node %d -> node %d: %s"):format(cell.cpu_node, cell.memory_node, cell.unstable))
    end
  end
end

-- What the bandwidth buffers are against the last-level cache.
local function scope_text(rep, s)
  local st = s.settings or {}
  local llc = st.llc and st.llc.all
  if st.bandwidth_scope == "memory" then
    return ("%s buffers, %dx+ the last-level caches (%s)"):format(
      rep.size(st.bandwidth_size), survey.LLC_MULTIPLE, rep.size(llc))
  elseif st.bandwidth_scope == "cache" then
    return ("%s buffers, less than %dx the last-level caches (%s): cache bandwidth"):format(
      rep.size(st.bandwidth_size), survey.LLC_MULTIPLE, rep.size(llc))
  end
  return ("%s buffers; last-level cache size unknown"):format(rep.size(st.bandwidth_size or 0))
end

--- The survey's summary text; colour (escape codes) only when `color`.
-- @tparam table s the survey (lnuma.survey.run, plus host, date, files...)
-- @tparam string dir the results folder
-- @tparam boolean color
-- @treturn string
function cmd.summary_text(s, dir, color)
  local lnuma = require "lnuma"
  local rep = lnuma.report
  local num = require("lnuma.report.text").number
  local out = {}
  local function add(x) out[#out + 1] = x end
  add(("lnuma survey of %s (%s), %s%s"):format(s.host or "?", s.cpu_model or "?", s.date or "?",
    s.quick and " (quick)" or ""))
  local topo = s.topology
  if topo then
    local caches = {}
    for _, c in ipairs(s.latency_curve and s.latency_curve.caches or {}) do
      caches[#caches + 1] = ("L%d %s"):format(c.level, rep.size(c.size))
    end
    add(("%d node%s, %d CPUs (%d allowed), caches %s"):format(#topo.nodes,
      #topo.nodes == 1 and "" or "s", #topo.cpus, #topo.allowed.cpus,
      #caches > 0 and table.concat(caches, ", ") or "unknown (the topology names none)"))
  end
  local st = s.settings
  if st then
    add(("Buffers: latency %s, bandwidth %s%s."):format(
      rep.size(st.latency_size), scope_text(rep, s),
      st.huge and "; transparent huge pages" or ""))
  end
  add("")
  if s.latency_curve then
    curve_section(rep, s.latency_curve, add)
    add("")
  end
  if s.latency_matrix then
    add(("Latency matrix (ns, CPU node -> memory node, %s per cell):"):format(
      rep.size(s.latency_matrix.size)))
    add(rep.heatmap(s.latency_matrix, { color = color }))
    unstable_cells(s.latency_matrix, add)
    add("")
  end
  local cache_bw = st and st.bandwidth_scope == "cache" and "cache " or ""
  if s.bandwidth_matrix then
    add(("Bandwidth matrix (%sGB/s, %s kernel, all CPUs of the row node):"):format(cache_bw,
      s.bandwidth_matrix.parameters.kernel))
    add(rep.heatmap(s.bandwidth_matrix, { color = color }))
    unstable_cells(s.bandwidth_matrix, add)
    add("")
  end
  if s.peak_bandwidth then
    local rows = {}
    for _, k in ipairs(s.peak_bandwidth.kernels) do
      rows[#rows + 1] = { k.kernel, k.gbps, ("%.1f%%"):format(k.spread * 100), k.isa,
                          k.unstable or "" }
    end
    add(("Peak %sbandwidth (%d threads on CPUs %s, %s):"):format(cache_bw,
      s.peak_bandwidth.threads or 0, lnuma.cpulist(s.peak_bandwidth.cpus or {}),
      rep.size(s.peak_bandwidth.size)))
    add(rep.table({ "kernel", "GB/s", "spread", "isa", "note" }, rows, { indent = "  " }))
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
    local cs = s.c2c.stats -- over the pairs' medians
    local np, nr = #s.c2c.pairs, s.c2c.rounds
    local p99
    for _, pair in ipairs(s.c2c.pairs) do
      if pair.p99 and (p99 == nil or pair.p99 > p99) then p99 = pair.p99 end
    end
    add(("Core-to-core latency (%s, one way, %d CPUs, %d pair%s in %d round%s): min %s, "
         .. "median %s, max %s ns%s"):format(s.c2c.mode, #s.c2c.rows, np, np == 1 and "" or "s",
         nr, nr == 1 and "" or "s", num(cs.min), num(cs.median), num(cs.max),
         p99 and ("; the worst pair's p99 %s ns"):format(num(p99)) or ""))
    if #s.c2c.rows <= 16 then add(rep.heatmap(s.c2c, { color = color })) end
    add("")
  end
  if s.clock_skew then
    local k = s.clock_skew
    add(("Counter skew (%s, %d CPUs): largest |offset| %.1f ns, uncertainty up to %.1f ns "
         .. "(lnuma clock skew shows the matrix)"):format(k.clock.source, #k.cpus,
         k.max_abs_offset_ns, k.max_uncertainty_ns))
    add("")
  end
  local sb = s.stability
  if sb then
    add(("Spreads above %.0f%% were measured again (%d figure%s); %s"):format(sb.bound * 100,
      sb.remeasured, sb.remeasured == 1 and "" or "s", #sb.unstable == 0
      and "none is unstable." or ("still unstable: %d (marked above)."):format(#sb.unstable)))
    add("")
  end
  if #s.warnings > 0 then
    add(("WARNINGS (%d):"):format(#s.warnings))
    for _, w in ipairs(s.warnings) do add("  - " .. w) end
    add("")
  end
  local files = { "survey.json", "summary.txt" }
  for _, f in ipairs(s.files or {}) do files[#files + 1] = f end
  add(("Took %.1f s.  Results: %s/ (%s)"):format(s.elapsed_s or 0, dir,
                                                  table.concat(files, ", ")))
  return table.concat(out, "\n")
end

function cmd.run(args)
  local lnuma = require "lnuma"
  local t_start = lnuma.clock.now()
  local c0 = lnuma.core.isatty(2)
  local s, err = survey.run { quick = args.quick, progress = c0 and function(text)
    io.stderr:write("\r\27[K[lnuma] survey: ", text)
    io.stderr:flush()
  end or nil }
  if not s then error(err, 0) end
  s.host, s.cpu_model = s.provenance.host, s.provenance.cpu.model
  -- --strict: the folder is still written (with failed = true), then the
  -- command fails.
  local strict_msg
  if args.strict then strict_msg = select(2, require("lnuma.strict").check(s, "survey")) end
  s.date = os.date("!%Y-%m-%dT%H:%M:%SZ")
  s.files = {}
  local base = args.out or "lnuma-results"
  local dir = ("%s/survey-%s"):format(base, os.date("%Y%m%d-%H%M%S"))
  local made, merr = lnuma.mkdir(dir)
  if not made then error("cannot create " .. dir .. ": " .. tostring(merr), 0) end
  for _, name in ipairs(cmd.PARTS) do
    if s[name] then
      local file = name:gsub("_", "-") .. ".svg"
      local ok, werr = lnuma.report.save(s[name], dir .. "/" .. file)
      if ok then s.files[#s.files + 1] = file
      else s.warnings[#s.warnings + 1] = "writing " .. file .. ": " .. tostring(werr) end
    end
  end
  s.elapsed_s = (lnuma.clock.now() - t_start) / 1e9
  local ok, jerr = lnuma.report.save(s, dir .. "/survey.json")
  if not ok then error("writing survey.json: " .. tostring(jerr), 0) end
  -- Files are plain text; colour only on a terminal.
  local f = io.open(dir .. "/summary.txt", "w")
  if f then
    f:write(cmd.summary_text(s, dir, false), "\n")
    f:close()
  end
  if c0 then io.stderr:write("\r\27[K") end
  if args.json then
    io.stdout:write(lnuma.report.json(s, { indent = true }), "\n")
  else
    io.stdout:write(cmd.summary_text(s, dir, lnuma.core.isatty(1)), "\n")
  end
  return require("lnuma.cli.bench").strict_exit(strict_msg)
end

return cmd
