--- Text and CSV of an experiment result (`lnuma.report.text` and
-- `lnuma.report.csv` of a result whose `benchmark` is "experiment" come
-- here), and the shape `lnuma.report.check` checks before rendering.
-- @module lnuma.experiment_render

local T = require "lnuma.report.text"
local D = require "lnuma.experiment_design"

local R = {}

local number = T.number

-- How many comparisons the text shows (all are in JSON and CSV).
local SHOWN_COMPARISONS = 20

-- ---- the shape of a result (lnuma.report.check's schema language) -------------------

local function opt(s) return { opt = s } end
local function list(s) return { list = s } end
local function rec(f) return { fields = f } end
local NUM, INT, STR = "number", "integer", "string"

--- The fields of an experiment result the renderers read, in
-- `lnuma.report.check`'s schema language.
R.SHAPE = {
  seed = INT, repetitions = INT, warmup = INT, metric = STR, unit = opt(STR),
  better = opt(STR), alpha = opt(NUM), confidence = opt(NUM), name = opt(STR),
  factors = list(rec { name = STR, labels = list(STR) }),
  combinations = list(rec {
    index = INT, label = STR, levels = "table", runs = list(NUM), median = opt(NUM),
    n = opt(INT), flagged = opt(INT), excluded = opt(INT), failed = opt(INT),
    skipped = opt(STR), rank = opt(INT), group = opt(INT),
    stats = opt(rec { min = opt(NUM), max = opt(NUM), q1 = opt(NUM), q3 = opt(NUM),
                      spread = opt(NUM) }),
    ci = opt(rec { lo = opt(NUM), hi = opt(NUM), level = opt(NUM) }),
  }),
  comparisons = opt(list(rec {
    a = INT, b = INT, label_a = STR, label_b = STR, p = NUM, p_adjusted = opt(NUM),
    significant = "boolean", ratio = opt(NUM), cliffs_delta = opt(NUM), cles = opt(NUM),
    magnitude = opt(STR), u = opt(NUM), method = opt(STR), median_a = opt(NUM),
    median_b = opt(NUM), differs_in = opt(list(STR)),
  })),
  effects = opt(list(rec {
    factor = STR, reference = STR, spread = opt(NUM),
    levels = list(rec { label = STR, n = opt(INT), median = opt(NUM), ratio = opt(NUM),
                        ratio_min = opt(NUM), ratio_max = opt(NUM), matched = opt("boolean") }),
  })),
  runs = opt(list(rec {
    combination = INT, repetition = opt(INT), warmup = opt("boolean"), value = opt(NUM),
    excluded = opt("boolean"), flags = opt(list(STR)), error = opt(STR),
  })),
  order = opt(list(INT)), notes = opt(list(STR)),
}

-- ---- text --------------------------------------------------------------------------------

local function pct(x) return x and ("%.1f%%"):format(x * 100) or "-" end

-- The units a time in ns may be shown in, and what divides it.
local TIME_SCALES = { { "s", 1e9 }, { "ms", 1e6 }, { "us", 1e3 } }

--- The unit an experiment's values are shown in, and what divides them: a
-- time metric in ns reads badly at nine digits ("234060849"), so it is shown
-- in the largest of s, ms and us in which its smallest median is at least 1,
-- one unit for every row so rows still compare digit by digit.
-- @tparam table r an experiment result
-- @treturn string unit (the result's own where it is not "ns")
-- @treturn number the divisor (1 where the unit is the result's)
function R.shown_unit(r)
  if r.unit ~= "ns" then return r.unit, 1 end
  local low
  for _, c in ipairs(r.combinations) do
    if c.median and (low == nil or c.median < low) then low = c.median end
  end
  for _, s in ipairs(TIME_SCALES) do
    if low and low >= s[2] then return s[1], s[2] end
  end
  return "ns", 1
end

local function level_cells(r, c)
  local cells = {}
  for i, f in ipairs(r.factors) do
    local lv = c.levels[f.name]
    local label
    for j, v in ipairs(f.levels or {}) do
      if D.same(v, lv) then label = f.labels[j] end
    end
    cells[i] = label or (lv == nil and "-" or D.label(lv))
  end
  return cells
end

local function p_text(p)
  if not p then return "-" end
  if p < 0.0001 then return ("%.1e"):format(p) end
  return ("%.4f"):format(p)
end

local function effect_lines(r, out)
  for _, e in ipairs(r.effects or {}) do
    local parts = {}
    for i, lv in ipairs(e.levels) do
      if i > 1 then
        local range = ""
        if lv.ratio_min and lv.ratio_max and lv.ratio_max > lv.ratio_min then
          range = (" [%s-%s]"):format(number(lv.ratio_min), number(lv.ratio_max))
        end
        parts[#parts + 1] = lv.ratio and ("%s x%.3f%s%s"):format(lv.label, lv.ratio, range,
          lv.matched == false and " (pooled)" or "") or (lv.label .. " not run")
      end
    end
    out[#out + 1] = ("  %s (against %s): %s"):format(e.factor, e.reference,
      #parts > 0 and table.concat(parts, ", ") or "one level only")
  end
end

--- The readable summary of an experiment: the design, a table of the
-- combinations (median, confidence interval, spread, flagged runs, rank and
-- group), the main effects, the comparisons, notes and warnings.
-- @tparam table r an experiment result
-- @treturn string
function R.text(r)
  local out = {}
  local unit_name, scale = R.shown_unit(r)
  local unit = unit_name and unit_name ~= "" and (" " .. unit_name) or ""
  local function scaled(v) return number(v / scale) end
  out[#out + 1] = ("experiment%s: %s%s, %s is better"):format(
    r.name and (" '" .. r.name .. "'") or "", r.metric, r.unit and (" (" .. r.unit .. ")") or "",
    r.better or "lower")
  local names = {}
  for i, f in ipairs(r.factors) do names[i] = ("%s (%d)"):format(f.name, #f.labels) end
  out[#out + 1] = ("%d combinations of %s; %d repetitions each after %d warm-up round%s, "
    .. "in a randomised interleaved order (seed %d)"):format(#r.combinations,
    table.concat(names, " x "), r.repetitions, r.warmup, r.warmup == 1 and "" or "s", r.seed)
  local headers = {}
  for i, f in ipairs(r.factors) do headers[i] = f.name end
  local conf = ("%.0f%% CI"):format((r.confidence or 0.95) * 100)
  for _, h in ipairs({ "n", "median", conf, "spread", "flagged", "rank", "group" }) do
    headers[#headers + 1] = h
  end
  local rows = {}
  for _, c in ipairs(r.combinations) do
    local row = level_cells(r, c)
    if c.skipped then
      row[#row + 1] = "skipped"
    else
      local ci = c.ci and c.ci.lo and ("%s-%s"):format(scaled(c.ci.lo), scaled(c.ci.hi)) or "-"
      for _, v in ipairs({ c.n or #c.runs, c.median and scaled(c.median) or "-", ci,
                           c.stats and pct(c.stats.spread) or "-",
                           (c.flagged or 0) > 0 and ("%d%s"):format(c.flagged,
                             (c.excluded or 0) > 0 and " out" or "") or "",
                           c.rank or "-", c.group or "-" }) do
        row[#row + 1] = v
      end
    end
    rows[#rows + 1] = row
  end
  out[#out + 1] = T.table(headers, rows, { indent = "  " })
  local ci_level
  for _, c in ipairs(r.combinations) do ci_level = ci_level or (c.ci and c.ci.level) end
  out[#out + 1] = ("  (%sCI of the median: order statistics, distribution-free%s; spread: "
    .. "(max - min) / median; group: rank groups the tests cannot tell apart)"):format(
    unit ~= "" and ("values in" .. unit .. "; ") or "",
    ci_level and ((", coverage %.1f%%"):format(ci_level * 100)) or "")
  if r.effects and #r.effects > 0 then
    out[#out + 1] = "main effects (ratio of medians to the first level, matched combinations):"
    effect_lines(r, out)
  end
  local cmp = r.comparisons or {}
  local nsig = 0
  for _, c in ipairs(cmp) do if c.significant then nsig = nsig + 1 end end
  out[#out + 1] = ("comparisons (Mann-Whitney U, Holm-adjusted over %d, alpha %s): %d "
    .. "significant"):format(#cmp, tostring(r.alpha or 0.05), nsig)
  if #cmp > 0 then
    local shown = {}
    for i, c in ipairs(cmp) do shown[i] = c end
    table.sort(shown, function(x, y)
      local px, py = x.p_adjusted or x.p, y.p_adjusted or y.p
      if px ~= py then return px < py end
      return x.a * 1000 + x.b < y.a * 1000 + y.b
    end)
    local crow = {}
    for i = 1, math.min(#shown, SHOWN_COMPARISONS) do
      local c = shown[i]
      crow[i] = { c.label_a, c.label_b, c.ratio and ("%.3f"):format(c.ratio) or "-",
                  c.cliffs_delta and ("%.2f"):format(c.cliffs_delta) or "-", p_text(c.p),
                  p_text(c.p_adjusted), c.significant and "yes" or "no" }
    end
    out[#out + 1] = T.table({ "a", "b", "b/a", "delta", "p", "p_holm", "differ" }, crow,
                            { indent = "  " })
    if #shown > SHOWN_COMPARISONS then
      out[#out + 1] = ("  (%d more comparisons in the JSON and CSV)"):format(
        #shown - SHOWN_COMPARISONS)
    end
  end
  for _, n in ipairs(r.notes or {}) do out[#out + 1] = "note: " .. n end
  if r.cpus_ran and #r.cpus_ran > 0 then
    out[#out + 1] = "ran on CPUs " .. require("lnuma.core").cpulist(r.cpus_ran)
  end
  if r.clock then
    out[#out + 1] = ("clock: %s (%s ns per reading)"):format(tostring(r.clock.source),
      number(r.clock.overhead_ns))
  end
  for _, w in ipairs(r.warnings or {}) do out[#out + 1] = "WARNING: " .. w end
  return table.concat(out, "\n")
end

-- ---- CSV ---------------------------------------------------------------------------------

local function flat(v)
  if type(v) == "table" then return table.concat(v, ";") end
  if v == nil then return "" end
  return v
end

--- The rows of an experiment for CSV: every run ("runs", the default, one
-- row per run in the order they ran, warm-up included), every combination
-- ("combinations") or every comparison ("comparisons").
-- @tparam table r
-- @tparam[opt] string what "runs", "combinations" or "comparisons"
-- @treturn table headers
-- @treturn table rows
function R.rows(r, what)
  what = what or "runs"
  local fnames = {}
  for i, f in ipairs(r.factors) do fnames[i] = f.name end
  local rows = {}
  if what == "runs" then
    local headers = { "run", "combination" }
    for _, n in ipairs(fnames) do headers[#headers + 1] = n end
    for _, h in ipairs({ "repetition", "warmup", r.metric, "excluded", "flags" }) do
      headers[#headers + 1] = h
    end
    for i, run in ipairs(r.runs or {}) do
      local c = r.combinations[run.combination] or { levels = {} }
      local row = { i, run.combination }
      for _, cell in ipairs(level_cells(r, c)) do row[#row + 1] = cell end
      for _, v in ipairs({ run.repetition, run.warmup and "true" or "false", run.value,
                           run.excluded and "true" or "false",
                           table.concat(run.flags or {}, "; ") }) do
        row[#row + 1] = v
      end
      rows[i] = row
    end
    return headers, rows
  elseif what == "combinations" then
    local headers = { "combination" }
    for _, n in ipairs(fnames) do headers[#headers + 1] = n end
    for _, h in ipairs({ "n", "median", "ci_lo", "ci_hi", "ci_level", "min", "q1", "q3", "max",
                         "spread", "flagged", "excluded", "failed", "rank", "group",
                         "skipped" }) do
      headers[#headers + 1] = h
    end
    for i, c in ipairs(r.combinations) do
      local s, ci = c.stats or {}, c.ci or {}
      local row = { c.index }
      for _, cell in ipairs(level_cells(r, c)) do row[#row + 1] = cell end
      for _, v in ipairs({ c.n or #c.runs, flat(c.median), flat(ci.lo), flat(ci.hi),
                           flat(ci.level), flat(s.min), flat(s.q1), flat(s.q3), flat(s.max),
                           flat(s.spread), c.flagged or 0, c.excluded or 0, c.failed or 0,
                           flat(c.rank), flat(c.group), flat(c.skipped) }) do
        row[#row + 1] = v
      end
      rows[i] = row
    end
    return headers, rows
  elseif what == "comparisons" then
    local headers = { "a", "b", "label_a", "label_b", "differs_in", "median_a", "median_b",
                      "ratio", "cliffs_delta", "cles", "magnitude", "u", "method", "p",
                      "p_adjusted", "significant" }
    for i, c in ipairs(r.comparisons or {}) do
      local row = {}
      for j, h in ipairs(headers) do
        local v = c[h]
        if type(v) == "boolean" then v = tostring(v) end
        row[j] = flat(v)
      end
      rows[i] = row
    end
    return headers, rows
  end
  error(("bad argument #2 to 'csv' ('%s' is not one of runs, combinations, comparisons)")
    :format(tostring(what)), 3)
end

--- An experiment as CSV text.
-- @tparam table r
-- @tparam[opt] string what "runs" (default), "combinations" or "comparisons"
-- @treturn string
function R.csv(r, what)
  return T.csv_lines(R.rows(r, what))
end

return R
