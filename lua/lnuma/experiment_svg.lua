--- The SVG picture of an experiment (`lnuma.report.svg` of a result whose
-- `benchmark` is "experiment"): a dot plot of every run per combination
-- with its median and confidence interval and the rank groups, and below it
-- the main effect of each factor (ratio of medians to the factor's first
-- level, with the range over matched combinations).
-- @module lnuma.experiment_svg

local T = require "lnuma.report.text"
local svg = require "lnuma.report.svg"

local M = {}

local floor, ceil, log, max, min = math.floor, math.ceil, math.log, math.max, math.min
local fmt = string.format

-- Ticks of 1, 2 or 5 times a power of ten covering lo..hi.
local function ticks(lo, hi)
  if hi <= lo then lo, hi = lo - math.abs(lo) * 0.1 - 1e-9, hi + math.abs(hi) * 0.1 + 1e-9 end
  local raw = (hi - lo) / 5
  local p = 10 ^ floor(log(raw, 10))
  local step = p * 10
  for _, m in ipairs({ 1, 2, 5 }) do
    if m * p >= raw then step = m * p; break end
  end
  local a, b = floor(lo / step) * step, ceil(hi / step) * step
  local out = {}
  for k = 0, floor((b - a) / step + 0.5) do out[#out + 1] = a + k * step end
  return out, a, b
end

local function grid(body, u, x0, x1, y, text)
  body[#body + 1] = fmt('<path d="M%s %sH%s" stroke="#e5e5e5"/>\n', u.num(x0), u.num(y), u.num(x1))
  body[#body + 1] = u.label(x0 - 8, y, text, 'text-anchor="end" dominant-baseline="middle"')
end

-- The runs of each combination: {value, flagged, excluded, repetition}.
local function runs_by_combination(r)
  local by = {}
  for _, run in ipairs(r.runs or {}) do
    if not run.warmup and run.value then
      local list = by[run.combination] or {}
      list[#list + 1] = { value = run.value, flagged = run.flags and #run.flags > 0,
                          excluded = run.excluded, repetition = run.repetition or #list + 1 }
      by[run.combination] = list
    end
  end
  return by
end

local function dots_panel(r, u, body, y0, y1, x0, x1)
  local combos = r.combinations
  local shown, scale = require("lnuma.experiment_render").shown_unit(r)
  local function S(v) return v / scale end
  local by = runs_by_combination(r)
  local lo, hi = math.huge, -math.huge
  for _, c in ipairs(combos) do
    for _, run in ipairs(by[c.index] or {}) do
      lo, hi = min(lo, S(run.value)), max(hi, S(run.value))
    end
    if c.ci and c.ci.lo then lo, hi = min(lo, S(c.ci.lo)), max(hi, S(c.ci.hi)) end
  end
  if lo > hi then lo, hi = 0, 1 end
  local yt, a, b = ticks(lo, hi)
  local function Y(v) return y1 - (v - a) / (b - a) * (y1 - y0) end
  for _, v in ipairs(yt) do grid(body, u, x0, x1, Y(v), u.tick(v)) end
  local bw = (x1 - x0) / max(#combos, 1)
  local colour = u.colours[1]
  for i, c in ipairs(combos) do
    local cx = x0 + (i - 0.5) * bw
    if c.skipped then
      body[#body + 1] = u.label(cx, (y0 + y1) / 2, "skipped",
        'text-anchor="middle" fill="#888888" font-style="italic"')
    end
    if c.ci and c.ci.lo then
      body[#body + 1] = fmt('<rect x="%s" y="%s" width="%s" height="%s" fill="%s" '
        .. 'fill-opacity="0.18"><title>%s</title></rect>\n', u.num(cx - bw * 0.3),
        u.num(Y(S(c.ci.hi))), u.num(bw * 0.6), u.num(max(1, Y(S(c.ci.lo)) - Y(S(c.ci.hi)))),
        colour, u.esc(fmt("%s: %.0f%% CI of the median %s-%s", c.label,
                          (c.ci.level or 0) * 100, T.number(S(c.ci.lo)), T.number(S(c.ci.hi)))))
    end
    for _, run in ipairs(by[c.index] or {}) do
      local jx = cx + (((run.repetition * 0.618034) % 1) - 0.5) * bw * 0.4
      local style = run.excluded and 'fill="none" stroke="#888888"'
        or run.flagged and 'fill="none" stroke="#d62728" stroke-width="1.5"'
        or fmt('fill="%s" fill-opacity="0.65"', colour)
      body[#body + 1] = fmt('<circle cx="%s" cy="%s" r="3" %s><title>%s</title></circle>\n',
        u.num(jx), u.num(Y(S(run.value))), style, u.esc(fmt("%s, repetition %d: %s%s", c.label,
        run.repetition, T.number(S(run.value)), run.flagged and " (placement did not hold)" or "")))
    end
    if c.median then
      body[#body + 1] = fmt('<path d="M%s %sH%s" stroke="#000000" stroke-width="2.5"/>\n',
        u.num(cx - bw * 0.32), u.num(Y(S(c.median))), u.num(cx + bw * 0.32))
    end
    if c.group then
      body[#body + 1] = u.label(cx, y0 - 8, fmt("#%d g%d", c.rank, c.group),
        'text-anchor="middle" font-size="11" fill="#555555"')
    end
  end
  svg.util.axes(body, x0, y0, x1, y1)
  -- The levels of each combination, one line per factor, under the axis.
  for k, f in ipairs(r.factors) do
    local y = y1 + 16 * k
    body[#body + 1] = u.label(x0 - 8, y, f.name, 'text-anchor="end" font-weight="bold"')
    for i, c in ipairs(combos) do
      local lab = "-"
      for j, v in ipairs(f.levels or {}) do
        if require("lnuma.experiment_design").same(v, c.levels[f.name]) then lab = f.labels[j] end
      end
      body[#body + 1] = u.label(x0 + (i - 0.5) * bw, y, lab, 'text-anchor="middle"')
    end
  end
  local unit = shown and shown ~= "" and (" (" .. shown .. ")") or ""
  local mid = (y0 + y1) / 2
  body[#body + 1] = fmt('<text x="18" y="%s" text-anchor="middle" transform="rotate(-90 18 %s)">'
    .. '%s</text>\n', u.num(mid), u.num(mid), u.esc(r.metric .. unit .. ", " .. (r.better or
    "lower") .. " is better"))
  return a > 0 and "the axis does not start at 0" or nil
end

local function effects_panel(r, u, body, w, top)
  local rows = {}
  for _, e in ipairs(r.effects or {}) do
    for i, lv in ipairs(e.levels) do
      if i > 1 and lv.ratio then rows[#rows + 1] = { e = e, lv = lv } end
    end
  end
  if #rows == 0 then return top end
  local x0, x1 = 200, w - 40
  local y0 = top + 30
  local y1 = y0 + 22 * #rows
  body[#body + 1] = u.label(16, top + 8, "Main effects: ratio of medians to the factor's "
    .. "first level (bar: range over matched combinations)", 'font-weight="bold"')
  local lo, hi = 1, 1
  for _, row in ipairs(rows) do
    lo = min(lo, row.lv.ratio_min or row.lv.ratio, row.lv.ratio)
    hi = max(hi, row.lv.ratio_max or row.lv.ratio, row.lv.ratio)
  end
  local xt, a, b = ticks(lo, hi)
  local function X(v) return x0 + (v - a) / (b - a) * (x1 - x0) end
  for _, v in ipairs(xt) do
    body[#body + 1] = fmt('<path d="M%s %sV%s" stroke="#e5e5e5"/>\n', u.num(X(v)), u.num(y0),
                          u.num(y1))
    body[#body + 1] = u.label(X(v), y1 + 16, u.tick(v), 'text-anchor="middle"')
  end
  body[#body + 1] = fmt('<path d="M%s %sV%s" stroke="#000000" stroke-dasharray="4,3"/>\n',
                        u.num(X(1)), u.num(y0 - 4), u.num(y1))
  for k, row in ipairs(rows) do
    local y = y0 + 22 * (k - 0.5)
    local lv = row.lv
    body[#body + 1] = u.label(x0 - 10, y, fmt("%s: %s vs %s", row.e.factor, lv.label,
      row.e.reference), 'text-anchor="end" dominant-baseline="middle"')
    if lv.ratio_min and lv.ratio_max then
      body[#body + 1] = fmt('<path d="M%s %sH%s" stroke="%s" stroke-width="3" '
        .. 'stroke-opacity="0.5"/>\n', u.num(X(lv.ratio_min)), u.num(y), u.num(X(lv.ratio_max)),
        u.colours[2])
    end
    body[#body + 1] = fmt('<circle cx="%s" cy="%s" r="5" fill="%s"><title>%s</title></circle>\n',
      u.num(X(lv.ratio)), u.num(y), u.colours[2], u.esc(fmt("%s = %s: x%.3f", row.e.factor,
      lv.label, lv.ratio)))
    body[#body + 1] = u.label(X(lv.ratio) + 8, y - 8, fmt("x%.3f", lv.ratio),
                              'font-size="11" fill="#555555"')
  end
  return y1 + 30
end

--- The picture of an experiment result.
-- @tparam table r an experiment result
-- @treturn string SVG text
function M.render(r)
  local u = svg.util
  local n = #r.combinations
  local w = max(640, 130 + 72 * n)
  local x0, x1, y0, y1 = 110, w - 30, 84, 344
  local body = {}
  local sub = fmt("%d repetitions per combination, randomised interleaved order, seed %d",
                  r.repetitions, r.seed)
  local note = dots_panel(r, u, body, y0, y1, x0, x1)
  body[#body + 1] = u.label(16, 42, sub .. (note and ("; " .. note) or ""), 'fill="#555555"')
  body[#body + 1] = u.label(16, 60, "dots: runs (red rings: placement did not hold); "
    .. "black bar: median; band: its confidence interval; #rank gGROUP", 'fill="#555555"')
  local bottom = effects_panel(r, u, body, w, y1 + 16 * #r.factors + 30)
  local h = max(bottom, y1 + 16 * #r.factors + 30) + 10
  return u.document(w, h, "Experiment" .. (r.name and (": " .. r.name) or "") .. " — " ..
    r.metric, body)
end

return M
