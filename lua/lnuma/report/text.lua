--- Text renderings of benchmark results: aligned tables, CSV, a compact
-- terminal heatmap, and one readable summary per kind of result.
-- Exposed as `lnuma.report.text`, `lnuma.report.csv`, `lnuma.report.table`,
-- `lnuma.report.heatmap` and `lnuma.report.size`.
-- @module lnuma.report.text

local O = require "lnuma.options"

local M = {}

local floor, max, min = math.floor, math.max, math.min

--- Formats a byte count with a binary unit: 4096 -> "4K", 1572864 -> "1.5M"
-- (`lnuma.options.size_text`, the one size formatter).
-- @function size
-- @tparam integer n bytes
-- @treturn string
M.size = O.size_text

--- Formats a number for a table cell (`lnuma.options.number`).
-- @function number
-- @tparam number|nil v
-- @treturn string
M.number = O.number

--- Lays out rows as an aligned text table.
-- @tparam table headers array of column titles
-- @tparam table rows array of arrays of cells (strings or numbers)
-- @tparam[opt] table opts `align` = array of "l"/"r" (default: first column
--   left, others right), `indent` (string put before every line)
-- @treturn string the table, lines separated by "\n", no final newline
function M.table(headers, rows, opts)
  opts = opts or {}
  local ncol = #headers
  for _, r in ipairs(rows) do ncol = max(ncol, #r) end
  local width, cells = {}, {}
  local function cell(v)
    if type(v) == "number" then return M.number(v) end
    return v == nil and "" or tostring(v)
  end
  local all = { headers }
  for _, r in ipairs(rows) do all[#all + 1] = r end
  for i, r in ipairs(all) do
    cells[i] = {}
    for c = 1, ncol do
      local s = cell(r[c])
      cells[i][c] = s
      width[c] = max(width[c] or 0, utf8.len(s) or #s)
    end
  end
  local out = {}
  for i, r in ipairs(cells) do
    local parts = {}
    for c = 1, ncol do
      local align = opts.align and opts.align[c] or (c == 1 and "l" or "r")
      local pad = (" "):rep(width[c] - (utf8.len(r[c]) or #r[c]))
      parts[c] = align == "l" and r[c] .. pad or pad .. r[c]
    end
    out[#out + 1] = (opts.indent or "") .. table.concat(parts, "  "):gsub("%s+$", "")
    if i == 1 then
      local rule = {}
      for c = 1, ncol do rule[c] = ("-"):rep(width[c]) end
      out[#out + 1] = (opts.indent or "") .. table.concat(rule, "  ")
    end
  end
  return table.concat(out, "\n")
end

local function csv_cell(v)
  if v == nil or (type(v) == "number" and v ~= v) then return "" end
  local s = type(v) == "number" and tostring(v) or tostring(v)
  if s:find('[,"\n]') then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

local function csv_lines(headers, rows)
  local out = {}
  local h = {}
  for i, v in ipairs(headers) do h[i] = csv_cell(v) end
  out[1] = table.concat(h, ",")
  for _, r in ipairs(rows) do
    local line = {}
    for i = 1, #headers do line[i] = csv_cell(r[i]) end
    out[#out + 1] = table.concat(line, ",")
  end
  return table.concat(out, "\n") .. "\n"
end
M.csv_lines = csv_lines -- for lnuma.experiment_render

-- The rows of a matrix result: labels and values, for tables and CSV.
local function matrix_rows(r)
  local rows = {}
  for i, label in ipairs(r.rows or {}) do
    local row = { label }
    for j = 1, #(r.columns or {}) do row[j + 1] = r.values[i] and r.values[i][j] end
    rows[i] = row
  end
  return rows
end

local function matrix_axes(r)
  if r.benchmark == "c2c" then return "cpu", "cpu " end
  return "cpu node \\ memory node", "node "
end

-- Rows and headers of each kind of result, shared by table() and csv().
local function tabulate(r)
  local b = r.benchmark
  if b == "exec" then return require("lnuma.report.exec").rows(r) end
  if b == "matrix" or b == "c2c" then
    local corner = matrix_axes(r)
    local headers = { corner }
    for j, c in ipairs(r.columns or {}) do headers[j + 1] = c end
    return headers, matrix_rows(r)
  elseif b == "latency_curve" then
    -- The main series, then the others' latency at the same sizes, then the
    -- level each size is counted in.
    local headers, extra = { "size", "latency_ns", "spread_pct" }, {}
    for k, s in ipairs(r.series or {}) do
      if k ~= (r.main_series or 1) then
        local by_size = {}
        for _, p in ipairs(s.points or {}) do by_size[p.size] = p.latency_ns end
        extra[#extra + 1] = by_size
        headers[#headers + 1] = ("latency_%s_ns"):format(s.huge == false and "4k"
          or tostring(s.huge):lower())
      end
    end
    local levels = false
    for _, p in ipairs(r.points or {}) do levels = levels or p.level ~= nil end
    if levels then headers[#headers + 1] = "level" end
    local rows = {}
    for i, p in ipairs(r.points or {}) do
      local row = { p.size, p.latency_ns, p.spread and p.spread * 100 or nil }
      for _, by_size in ipairs(extra) do row[#row + 1] = by_size[p.size] or "" end
      if levels then row[#row + 1] = p.level or "" end
      rows[i] = row
    end
    return headers, rows
  elseif b == "loaded_latency" then
    local rows = {}
    for i, p in ipairs(r.points or {}) do
      rows[i] = { p.delay_ns, p.delay_achieved_ns, p.gbps, p.latency_ns,
                  p.spread and p.spread * 100 or nil, p.mean_ns, p.chunk_p99_ns,
                  p.unstable and "unstable" or p.remeasured and "remeasured" or nil }
    end
    return { "delay_ns", "achieved_ns", "gbps", "latency_ns", "spread_pct", "mean_ns",
             "p99_ns", "note" }, rows
  elseif b == "latency" then
    local rows = {}
    for i, v in ipairs(r.repetitions or {}) do rows[i] = { i, v } end
    return { "repetition", "latency_ns" }, rows
  elseif b == "bandwidth" then
    local rows = {}
    for i, v in ipairs(r.repetitions or {}) do rows[i] = { i, v } end
    return { "repetition", "gbps" }, rows
  elseif b == "migration" then
    local rows = {}
    for i, v in ipairs(r.repetitions or {}) do rows[i] = { i, v } end
    return { "repetition", "pages_per_s" }, rows
  elseif b == "weights" then
    local rows = {}
    for i, p in ipairs(r.points or {}) do
      local pl = p.placement or {}
      rows[i] = { p.label, p.ratio, p.gbps, p.latency_ns, pl.misplaced,
                  pl.deviation_pages and ("%.1f"):format(pl.deviation_pages) or nil,
                  pl.ok == true and pl.within_one_chunk == true and "proven" or "NOT held" }
    end
    return { "weights", "ratio", "gbps", "latency_ns", "misplaced_pages", "deviation_pages",
             "placement" }, rows
  elseif b == "bandwidth_kernels" then
    local rows = {}
    for i, k in ipairs(r.kernels or {}) do
      rows[i] = { k.kernel, k.gbps, k.spread and k.spread * 100 or nil, k.isa }
    end
    return { "kernel", "gbps", "spread_pct", "isa" }, rows
  elseif b == "experiment" then
    return require("lnuma.experiment_render").rows(r)
  end
  error("bad argument #1 (not an lnuma benchmark result: benchmark = "
        .. tostring(b) .. ")", 3)
end

--- The data of a result as CSV text (with a header line): matrices as a grid,
-- curves as one row per point, single figures as one row per repetition.
-- @tparam table result a result of `lnuma.bench.*`
-- @treturn string
function M.csv(result)
  if type(result) ~= "table" then
    O.argerror("csv", nil, "table expected, got " .. type(result), 2)
  end
  local headers, rows = tabulate(result)
  if result.benchmark == "matrix" or result.benchmark == "c2c" then
    headers[1] = result.benchmark == "c2c" and "cpu" or "cpu_node"
    for j = 2, #headers do
      headers[j] = (result.benchmark == "c2c" and "cpu" or "node") .. headers[j]
    end
  end
  return csv_lines(headers, rows)
end

-- Shades from light to dark for the terminal heatmap, and 256-colour ramps.
local SHADES = { " ", "░", "▒", "▓", "█" }
local RAMP = { 22, 28, 34, 70, 106, 142, 178, 214, 208, 202, 196 }

--- A compact heatmap of a matrix result for the terminal: every cell shows
-- its value on a background from green (best) to red (worst); without
-- colour, a shade character beside the value shows the same.
-- @tparam table result a `matrix` or `c2c` result
-- @tparam[opt] table opts `color` (boolean, default false)
-- @treturn string
function M.heatmap(result, opts)
  opts = opts or {}
  local values = result.values or {}
  local lo, hi = math.huge, -math.huge
  for i, row in ipairs(values) do
    for j = 1, #(result.columns or {}) do
      local v = row[j]
      if type(v) == "number" and v == v and not (result.benchmark == "c2c" and i == j) then
        lo, hi = min(lo, v), max(hi, v)
      end
    end
  end
  local higher_is_better = result.metric == "bandwidth"
  local function level(v) -- 0 (best) .. 1 (worst)
    if hi <= lo then return 0 end
    local x = (v - lo) / (hi - lo)
    return higher_is_better and 1 - x or x
  end
  local width = 6
  for _, row in ipairs(values) do
    for j = 1, #(result.columns or {}) do width = max(width, #M.number(row[j]) + 2) end
  end
  local out = {}
  local corner, prefix = matrix_axes(result)
  local head = { ("%-10s"):format(corner:match("^%S+ ?%S*")) }
  for _, c in ipairs(result.columns or {}) do
    head[#head + 1] = ("%" .. width .. "s"):format(prefix:gsub(" $", "") .. c)
  end
  out[1] = table.concat(head, " ")
  for i, row in ipairs(values) do
    local line = { ("%-10s"):format(prefix .. tostring(result.rows[i])) }
    for j = 1, #(result.columns or {}) do
      local v = row[j]
      local text = M.number(v)
      if type(v) ~= "number" or v ~= v or (result.benchmark == "c2c" and i == j) then
        line[#line + 1] = ("%" .. width .. "s"):format(i == j and "·" or text)
      elseif opts.color then
        local c = RAMP[1 + floor(level(v) * (#RAMP - 1) + 0.5)]
        line[#line + 1] = ("\27[48;5;%dm\27[38;5;231m%" .. width .. "s\27[0m"):format(c, text)
      else
        local s = SHADES[1 + floor(level(v) * (#SHADES - 1) + 0.5)]
        line[#line + 1] = (" "):rep(width - #text - 1) .. text .. s
      end
    end
    out[#out + 1] = table.concat(line, " ")
  end
  local unit = result.units and (result.units.values or result.units.latency_ns or
                                  result.units.gbps) or ""
  out[#out + 1] = ("(%s%s)"):format(unit,
    opts.color and "; green is best" or "; shade: lighter is better")
  return table.concat(out, "\n")
end

local function pct(x) return x and ("%.1f%%"):format(x * 100) or "-" end

--- The page sizes of a placement, largest first: "512 x 2M, 3 x 4K"
-- (`lnuma.options.page_sizes`).
-- @function page_sizes
-- @tparam table list `pages_by_size` of a placement
-- @treturn string
M.page_sizes = O.page_sizes

local function placement_line(p)
  if not p then return nil end
  local parts = {}
  for _, e in ipairs(p.pages_by_node or {}) do
    parts[#parts + 1] = ("%d:%d"):format(e.node, e.pages)
  end
  local line = ("placement: %s of %d pages%s on node %s (pages per node %s)"):format(
    pct(p.fraction), p.pages or 0, p.page_size and (" of " .. M.size(p.page_size)) or "",
    tostring(p.node), table.concat(parts, " "))
  if p.pages_by_size and p.huge_method then
    line = line .. ("\npages: %s (%s huge, %s%s)"):format(
      #p.pages_by_size > 0 and M.page_sizes(p.pages_by_size) or "none present",
      pct(p.huge_fraction), p.huge_method,
      p.huge_scope == "mapping" and ", whole mapping" or "")
  end
  return line
end

local function stats_line(s, unit, over)
  if not s then return nil end
  return ("median %s %s, min %s, max %s, spread %s over %d %s"):format(
    M.number(s.median), unit, M.number(s.min), M.number(s.max), pct(s.spread), s.n or 0,
    over or "repetitions")
end

-- Pairs shown one by one in the c2c summary; beyond, those with the worst tails.
local C2C_PAIRS_SHOWN = 32

-- The c2c summary below its heatmap: the pairs' tails, the spread across
-- pairs and samples, and what the lines were.
local function c2c_lines(r, out)
  local list = type(r.pairs) == "table" and r.pairs or {}
  if #list > 0 then
    local shown, note = list, ""
    if #list > C2C_PAIRS_SHOWN then
      shown = {}
      for i, p in ipairs(list) do shown[i] = p end
      local tail = list[1].p99 and "p99" or "max"
      table.sort(shown, function(x, y) return x[tail] > y[tail] end)
      for i = C2C_PAIRS_SHOWN + 1, #shown do shown[i] = nil end
      note = (", the %d of %d with the highest %s; every pair is in --json")
        :format(C2C_PAIRS_SHOWN, #list, tail)
    end
    out[#out + 1] = ("pairs (ns one way over each pair's samples%s):"):format(note)
    local rows = {}
    for i, p in ipairs(shown) do
      rows[i] = { ("%d-%d"):format(p.a, p.b), p.p50, p.p99 or "-", p.min, p.max, p.samples }
    end
    out[#out + 1] = M.table({ "cpus", "p50", "p99", "min", "max", "samples" }, rows,
                            { indent = "  " })
    if list[1].p99 == nil then
      out[#out + 1] = ("  (no p99: a pair needs %s samples for one)"):format(
        tostring(r.p99_samples or "more"))
    end
  end
  if r.stats and r.stats.n then
    out[#out + 1] = "across pairs: "
      .. stats_line(r.stats, "ns", r.stats.n == 1 and "pair" or "pairs")
  end
  if r.repetition_stats and r.repetition_stats.n then
    out[#out + 1] = "per sample (a whole tournament): "
      .. stats_line(r.repetition_stats, "ns", "samples")
  end
  local l = r.lines
  if l then
    out[#out + 1] = ("lines: %d, each used by one pair in one sample%s, %d bytes apart, "
      .. "%s, %d warm-up round trips each"):format(l.count or 0,
      l.fresh == false and " (NOT: see warnings)" or "", l.stride or 0,
      l.flushed and "flushed from every cache first" or "not flushed", l.warmup or 0)
  end
end

-- Sorted keys of a table, so that lines built from one come out the same.
local function sorted_keys(t)
  local keys = {}
  for k in pairs(t or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

-- What a user needs to run the same bandwidth measurement with another tool:
-- the walk that ran (and the trials that chose it) and how bytes are counted.
local function bandwidth_lines(r, out)
  if r.order then
    local trials = {}
    for _, o in ipairs(sorted_keys(r.order_trials)) do
      trials[#trials + 1] = o .. " " .. M.number(r.order_trials[o])
    end
    out[#out + 1] = ("walk: %s order%s"):format(r.order, #trials > 0
      and (", the fastest in the trials (median GB/s: " .. table.concat(trials, ", ") .. ")")
      or "")
  end
  if r.counting then out[#out + 1] = "bytes counted: " .. r.counting end
end

-- A bandwidth or latency figure over a working set too small to leave the
-- last-level cache says so (the result's `scope`, lnuma.llc).
local function scope_line(scope, size, llc, whose, what)
  if scope ~= "cache" then return nil end
  return ("scope: cache: %s is under %d times the %s of last-level cache %s, so the figure "
    .. "is partly or wholly cache %s, not memory's"):format(M.size(size),
    require("lnuma.llc").MULTIPLE, M.size(llc), whose, what)
end

-- The command lines of other chasers that make the same (or the nearest)
-- loads; how each differs is in the result's `equivalents`.
local function equivalents_line(r)
  local same, near = {}, {}
  for _, tool in ipairs(sorted_keys(r.equivalents)) do
    local e = r.equivalents[tool]
    if e.command then table.insert(e.exact and same or near, e.command) end
  end
  if #same + #near == 0 then return nil end
  local parts = {}
  if #same > 0 then parts[#parts + 1] = "the same loads: " .. table.concat(same, "; ") end
  if #near > 0 then parts[#parts + 1] = "nearest: " .. table.concat(near, "; ") end
  return "other chasers, " .. table.concat(parts, "; ") .. " (how each differs: --json)"
end

local function warnings_lines(r, out)
  for _, w in ipairs(r.warnings or {}) do out[#out + 1] = "WARNING: " .. w end
end

--- What a latency curve shows, in lines of text: the series and their
-- huge-page coverage, the levels the data show, the levels they cannot tell
-- apart (and why), the TLB, the caches of the topology.  The curve's summary
-- and the survey's both print these.
-- @tparam table r a `latency_curve` result
-- @tparam[opt] table opts `levels = false`, `caches = false`: leave those lines out
-- @treturn table array of lines
function M.curve_lines(r, opts)
  opts = opts or {}
  local out = {}
  for k, s in ipairs(r.series or {}) do
    local got = s.huge_fraction and ("%.0f%% of its memory on huge pages"):format(
      s.huge_fraction * 100) or (s.huge and "huge-page coverage unknown" or nil)
    out[#out + 1] = ("series %d%s: %s%s"):format(k, k == (r.main_series or 1) and " (main)"
      or "", s.huge == "thp" and "transparent huge pages"
      or s.huge and ("hugetlb " .. tostring(s.huge))
      or "4 KiB pages", got and (", " .. got) or "")
  end
  if r.main_reason then out[#out + 1] = "main series on " .. r.main_reason end
  local named = {}
  for _, lv in ipairs(r.levels or {}) do
    named[#named + 1] = ("%s%s %s ns%s"):format(lv.name,
      lv.size and (" (" .. M.size(lv.size) .. ")") or "", M.number(lv.latency_ns),
      lv.unstable and (" " .. lv.unstable) or "")
  end
  if #named > 0 and opts.levels ~= false then
    out[#out + 1] = "levels: " .. table.concat(named, ", ")
  end
  for _, lv in ipairs(r.levels or {}) do
    if lv.note then out[#out + 1] = ("%s: %s"):format(lv.name, lv.note) end
  end
  for _, x in ipairs(r.indistinct or {}) do out[#out + 1] = "not named: " .. x.reason end
  if r.levels and #r.levels == 0 and r.steps and #r.steps > 0 then
    local st = {}
    for _, s in ipairs(r.steps) do
      st[#st + 1] = ("%s (%s -> %s ns)"):format(M.size(s.size), M.number(s.from_ns),
                                                 M.number(s.to_ns))
    end
    out[#out + 1] = "latency steps up at " .. table.concat(st, ", ")
  end
  local function ratio(v) return type(v) == "number" and ("%.2f"):format(v) or "-" end
  if r.tlb and r.tlb.departs_at then
    out[#out + 1] = ("TLB: the 4 KiB series stays above the huge-page one from %s on "
      .. "(%sx there; most %sx at %s)"):format(M.size(r.tlb.departs_at), ratio(r.tlb.ratio),
      ratio(r.tlb.largest_ratio), M.size(r.tlb.largest_at))
  elseif r.tlb and (r.tlb.compared or 0) > 0 then
    out[#out + 1] = ("TLB: no reach shown: at the largest size the 4 KiB series is within "
      .. "%sx of the huge-page one (most %sx at %s)"):format(ratio(r.tlb.threshold),
      ratio(r.tlb.largest_ratio), M.size(r.tlb.largest_at))
  end
  if r.caches and #r.caches > 0 and opts.caches ~= false then
    local cs = {}
    for _, c in ipairs(r.caches) do cs[#cs + 1] = ("L%d %s"):format(c.level, M.size(c.size)) end
    out[#out + 1] = "caches: " .. table.concat(cs, ", ")
  end
  return out
end

--- A readable summary of any benchmark result (what `lnuma <command>`
-- prints): the headline figure, how it was measured, placement and
-- pinning, the table of its data, and its warnings.
-- @tparam table result a result of `lnuma.bench.*`
-- @tparam[opt] table opts `color` (boolean): colour the heatmap of matrices
-- @treturn string
function M.summary(result, opts)
  if type(result) ~= "table" then
    O.argerror("summary", nil, "table expected, got " .. type(result), 2)
  end
  opts = opts or {}
  local r, out = result, {}
  local b = r.benchmark
  if b == "exec" then return require("lnuma.report.exec").text(r) end
  if b == "experiment" then return require("lnuma.experiment_render").text(r) end
  local where = r.cpus_ran and ("CPUs " .. table.concat(r.cpus_ran, ",")) or ""
  if b == "latency" then
    out[#out + 1] = ("latency: %s ns per load  (%s %s chase, memory node %s, CPU %s, %s)")
      :format(M.number(r.latency_ns), M.size(r.size), r.pattern, tostring(r.node),
              tostring(r.cpu), r.huge or "default pages")
    out[#out + 1] = stats_line(r.stats, "ns")
    if r.chunks then
      out[#out + 1] = ("per-chunk ns/load: p50 %s  p90 %s  p99 %s  max %s"):format(
        M.number(r.chunks.p50), M.number(r.chunks.p90), M.number(r.chunks.p99),
        M.number(r.chunks.max))
    end
    out[#out + 1] = equivalents_line(r)
    out[#out + 1] = scope_line(r.scope, r.size, r.llc, "its CPU sees", "latency")
  elseif b == "bandwidth" then
    out[#out + 1] = ("bandwidth: %s GB/s  (%s, %s, %d thread%s on %s, memory %s)")
      :format(M.number(r.gbps), r.kernel, M.size(r.size), r.threads,
              r.threads == 1 and "" or "s", where,
              r.node and ("on node " .. tostring(r.node)) or "local to each thread")
    out[#out + 1] = ("isa %s, %d pass%s per repetition, %s counted per repetition"):format(
      r.isa, r.passes or 0, r.passes == 1 and "" or "es", M.size(r.bytes or 0))
    out[#out + 1] = stats_line(r.stats, "GB/s")
    bandwidth_lines(r, out)
    out[#out + 1] = scope_line(r.scope, r.size, r.llc, "its CPUs share", "bandwidth")
  elseif b == "c2c" then
    local n = #(r.rows or {})
    local npairs = type(r.pairs) == "table" and #r.pairs or r.pairs or 0
    out[#out + 1] = ("core-to-core latency, %s: %s"):format(r.mode or "pingpong",
      r.figure or "ns one way")
    out[#out + 1] = ("%d CPUs, %d pair%s in %s round%s, %s samples of %s round trips per "
      .. "pair, lines on node %s"):format(n, npairs, npairs == 1 and "" or "s",
      tostring(r.rounds), r.rounds == 1 and "" or "s", tostring(r.samples),
      tostring(r.roundtrips), tostring(r.node))
    out[#out + 1] = M.heatmap(r, { color = opts.color })
    c2c_lines(r, out)
  elseif b == "matrix" then
    out[#out + 1] = ("%s matrix (%s)"):format(r.metric, r.units and r.units.values or "")
      .. (r.size and ("  " .. M.size(r.size) .. " per cell") or "")
    out[#out + 1] = M.heatmap(r, { color = opts.color })
    out[#out + 1] = scope_line(r.scope, r.size, r.llc, "a cell's CPUs see", r.metric)
  elseif b == "latency_curve" then
    out[#out + 1] = ("latency curve (%s chase, CPU %s, memory node %s)"):format(
      r.pattern or "random", tostring(r.cpu), tostring(r.node))
    local headers, rows = tabulate(r)
    for _, row in ipairs(rows) do row[1] = M.size(row[1]) end
    out[#out + 1] = M.table(headers, rows, { indent = "  " })
    for _, line in ipairs(M.curve_lines(r)) do out[#out + 1] = "  " .. line end
  elseif b == "loaded_latency" then
    local t = r.traffic_info or {}
    out[#out + 1] = ("loaded latency (chaser on CPU %s over %s, %d traffic thread%s over %s, "
      .. "%s traffic, isa %s)"):format(tostring(r.cpus and r.cpus[1]), M.size(r.size or 0),
      (r.threads or 1) - 1, r.threads == 2 and "" or "s", M.size(r.traffic_size or 0),
      tostring(r.traffic), tostring(r.isa))
    out[#out + 1] = ("%d repetitions of %s ms per point; GB/s counts %s"):format(
      r.repetitions or 0, M.number((r.step_time or 0) / 1e6), t.counting or "-")
    local headers, rows = tabulate(r)
    for _, row in ipairs(rows) do
      if row[5] then row[5] = ("%.1f%%"):format(row[5]) end
    end
    headers[5] = "spread"
    out[#out + 1] = M.table(headers, rows, { indent = "  " })
    out[#out + 1] = "  (latency_ns: median per chunk of 1024 loads; mean_ns: all loads over "
      .. "the step, MLC's figure)"
    out[#out + 1] = scope_line(r.scope, r.size, r.llc, "the chaser sees", "latency")
    out[#out + 1] = scope_line(r.traffic_scope, r.traffic_size, r.traffic_llc,
                               "the traffic's CPUs share", "traffic")
  elseif b == "bandwidth_kernels" then
    out[#out + 1] = ("bandwidth of every kernel (%s threads, %s)"):format(
      tostring(r.threads), M.size(r.size or 0))
    local headers, rows = tabulate(r)
    out[#out + 1] = M.table(headers, rows, { indent = "  " })
  elseif b == "weights" then
    local bw, lat = r.best and r.best.bandwidth, r.best and r.best.latency
    out[#out + 1] = ("weighted placement: best bandwidth %s (%s GB/s), best latency %s (%s ns)")
      :format(bw and bw.label or "-", M.number(bw and bw.gbps), lat and lat.label or "-",
              M.number(lat and lat.latency_ns))
    out[#out + 1] = ("%s kernel, %s per buffer, %s thread%s on %s; ratio: %% of pages per "
      .. "node"):format(tostring(r.kernel), M.size(r.size or 0), tostring(r.threads),
      r.threads == 1 and "" or "s", where)
    local headers, rows = tabulate(r)
    out[#out + 1] = M.table(headers, rows, { indent = "  " })
    local pl = r.placement or {}
    out[#out + 1] = ("placement: proven page by page for %d of %d mixes (each page on its "
      .. "chunk's node, pages per node within one chunk of the mix)"):format(pl.proven or 0,
      pl.points or 0)
    out[#out + 1] = scope_line(r.scope, r.size, r.llc, "its CPUs share", "bandwidth")
    out[#out + 1] = scope_line(r.latency_scope, r.latency_size, r.latency_llc,
                               "the latency CPU sees", "latency")
  elseif b == "migration" then
    local what = ("%s from node %s to node %s"):format(M.size(r.size), tostring(r.from),
                                                      tostring(r.to))
    if (r.moved or 0) == 0 then -- a rate of nothing moved is no speed
      out[#out + 1] = ("migration: not measured, no page moved  (%s)"):format(what)
      out[#out + 1] = ("moved 0 of %d pages"):format(r.pages or 0)
    else
      out[#out + 1] = ("migration: %s pages/s (%s GB/s)  %s"):format(M.number(r.pages_per_s),
        M.number(r.gbps), what)
      out[#out + 1] = ("moved %d of %d pages"):format(r.moved, r.pages or 0)
      out[#out + 1] = stats_line(r.stats, "pages/s")
    end
  else
    O.argerror("summary", nil, "not an lnuma benchmark result", 2)
  end
  if b ~= "matrix" and b ~= "weights" then
    out[#out + 1] = placement_line(r.placement)
  end
  if r.traffic_placement then
    out[#out + 1] = "traffic " .. placement_line(r.traffic_placement)
  end
  if where ~= "" and b ~= "bandwidth" then out[#out + 1] = "ran on " .. where end
  if r.clock then
    out[#out + 1] = ("clock: %s (%s ns per reading)"):format(r.clock.source,
                                                            M.number(r.clock.overhead_ns))
  end
  warnings_lines(r, out)
  return table.concat(out, "\n")
end

--- Rows and headers of a result (the data `csv` writes), for callers that
-- lay out their own tables.
-- @tparam table result
-- @treturn table headers
-- @treturn table rows
function M.rows(result) return tabulate(result) end

return M
