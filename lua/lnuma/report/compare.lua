--- Two saved results side by side (`lnuma report A.json B.json`): first the
-- conditions that differ (their `provenance`, then their `parameters`),
-- then the figures, B against A as a ratio, with a Mann-Whitney test where
-- both have repetitions (`lnuma.bench.compare`).
-- @module lnuma.report.compare

local provenance = require "lnuma.provenance"

local M = {}

local function num(v) return type(v) == "number" and v == v end

local function size_text(n) return require("lnuma.report.text").size(n) end

-- The headline figures of a result: array of {name, value, unit, samples}.
local function figures(r, prefix, out)
  prefix = prefix or ""
  out = out or {}
  local function add(name, value, unit, samples)
    if num(value) then
      out[#out + 1] = { name = prefix .. name, value = value, unit = unit, samples = samples }
    end
  end
  local b = r.benchmark
  if b == "latency" then
    add("latency", r.latency_ns, "ns", r.repetitions)
  elseif b == "bandwidth" then
    add("bandwidth", r.gbps, "GB/s", r.repetitions)
  elseif b == "migration" then
    add("migration", r.pages_per_s, "pages/s", r.repetitions)
    add("migration", r.gbps, "GB/s")
  elseif b == "matrix" then
    local unit = r.metric == "latency" and "ns" or "GB/s"
    for i, row in ipairs(r.values or {}) do
      for j, v in ipairs(row) do
        add(("%s %s -> %s"):format(r.metric, tostring((r.rows or {})[i]),
                                   tostring((r.columns or {})[j])), v, unit)
      end
    end
  elseif b == "latency_curve" then
    for _, pt in ipairs(r.points or {}) do
      add("latency at " .. size_text(pt.size), pt.latency_ns, "ns")
    end
  elseif b == "c2c" then
    local st = r.stats or {}
    add("c2c min", st.min, "ns")
    add("c2c median", st.median, "ns")
    add("c2c max", st.max, "ns")
  elseif b == "loaded_latency" then
    for _, pt in ipairs(r.points or {}) do
      add(("latency at delay %s ns"):format(tostring(pt.delay_ns)), pt.latency_ns, "ns")
      add(("bandwidth at delay %s ns"):format(tostring(pt.delay_ns)), pt.gbps, "GB/s")
    end
  elseif b == "bandwidth_kernels" then
    for _, k in ipairs(r.kernels or {}) do
      add("bandwidth " .. tostring(k.kernel), k.gbps, "GB/s")
    end
  elseif b == "survey" then
    for _, name in ipairs(require("lnuma.survey").PARTS) do
      if type(r[name]) == "table" then figures(r[name], name .. ": ", out) end
    end
  end
  return out
end
M.figures = figures

local function samples_ok(s)
  if type(s) ~= "table" or #s < 2 then return false end
  for _, v in ipairs(s) do
    if not num(v) then return false end
  end
  return true
end

--- Compares two results.
-- @tparam table a a result (checked by `lnuma.report.check`)
-- @tparam table b another
-- @treturn table `{conditions = provenance.diff(a, b), parameters = the
--   differing parameters ({field, a, b}), missing = {"A", "B"}: which lack a
--   provenance, same_kind = boolean, figures = array of {name, unit, a, b,
--   ratio (b / a), p_value, significant}}`
function M.compare(a, b)
  local out = {
    conditions = provenance.diff(a.provenance, b.provenance),
    parameters = provenance.diff(a.parameters, b.parameters),
    missing = {}, same_kind = a.benchmark == b.benchmark, figures = {},
  }
  if not a.provenance then out.missing[#out.missing + 1] = "A" end
  if not b.provenance then out.missing[#out.missing + 1] = "B" end
  if not out.same_kind then return out end
  local fb = {}
  for _, f in ipairs(figures(b)) do fb[f.name .. "\0" .. f.unit] = f end
  local bench = require("lnuma").bench
  for _, fa in ipairs(figures(a)) do
    local g = fb[fa.name .. "\0" .. fa.unit]
    if g then
      local row = { name = fa.name, unit = fa.unit, a = fa.value, b = g.value,
                    ratio = fa.value ~= 0 and g.value / fa.value or nil }
      if samples_ok(fa.samples) and samples_ok(g.samples) then
        local c = bench.compare(fa.samples, g.samples)
        row.p_value, row.significant = c.p_value, c.significant
      end
      out.figures[#out.figures + 1] = row
    end
  end
  return out
end

--- The comparison as text.
-- @tparam table cmp as `compare` returns
-- @tparam string name_a how A is named (its file)
-- @tparam string name_b
-- @treturn string
function M.text(cmp, name_a, name_b)
  local lines = { ("A: %s\nB: %s"):format(name_a, name_b) }
  local function add(s) lines[#lines + 1] = s end
  for _, which in ipairs(cmp.missing) do
    add(("%s has no provenance (saved by an lnuma that did not record it): its conditions "
         .. "are unknown"):format(which))
  end
  if #cmp.conditions == 0 then
    add("Conditions: the same.")
  else
    add(("Conditions that differ (%d):"):format(#cmp.conditions))
    for _, line in ipairs(provenance.diff_lines(cmp.conditions)) do add("  " .. line) end
  end
  if #cmp.parameters > 0 then
    add(("Parameters that differ (%d):"):format(#cmp.parameters))
    for _, line in ipairs(provenance.diff_lines(cmp.parameters)) do add("  " .. line) end
  end
  if not cmp.same_kind then
    add("The results are of different benchmarks: no figure to compare.")
    return table.concat(lines, "\n")
  end
  local rep = require("lnuma").report
  local rows = {}
  for _, f in ipairs(cmp.figures) do
    rows[#rows + 1] = { f.name, f.unit, f.a, f.b,
      f.ratio and ("%.3f"):format(f.ratio) or "",
      f.p_value and ("%.3g%s"):format(f.p_value, f.significant and " *" or "") or "" }
  end
  if #rows == 0 then
    add("No figure in common.")
  else
    add("Figures (ratio = B / A; p: Mann-Whitney over the repetitions, * below 0.05):")
    add(rep.table({ "figure", "unit", "A", "B", "ratio", "p" }, rows, { indent = "  " }))
  end
  return table.concat(lines, "\n")
end

return M
