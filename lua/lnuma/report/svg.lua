--- SVG pictures of benchmark results, written as plain text (no library):
-- heatmaps for matrices with the values in the cells, a line chart for the
-- latency curve (log size axis, cache sizes marked), the loaded-latency curve
-- (latency against bandwidth), and bars for the repetitions of one figure.
-- Exposed as `lnuma.report.svg`.
-- @module lnuma.report.svg

local text = require "lnuma.report.text"
local argerror = require("lnuma.options").argerror

local M = {}

local floor, log, max, min = math.floor, math.log, math.max, math.min
local fmt = string.format

local function esc(s)
  return (tostring(s):gsub("[&<>\"']", {
    ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&apos;",
  }))
end

local function num(v) return fmt("%.1f", v) end

-- Axis tick labels: whole numbers without decimals.
local function tick(v)
  if v == floor(v) and math.abs(v) < 1e15 then return fmt("%d", floor(v)) end
  return text.number(v)
end

local function document(w, h, title, body)
  return table.concat({
    '<?xml version="1.0" encoding="UTF-8"?>\n',
    fmt('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" ', w, h),
    fmt('viewBox="0 0 %d %d" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" ', w, h),
    'font-size="12">\n',
    "<title>", esc(title), "</title>\n",
    '<rect x="0" y="0" width="100%" height="100%" fill="#ffffff"/>\n',
    fmt('<text x="%d" y="24" font-size="16" font-weight="bold">%s</text>\n', 16, esc(title)),
    table.concat(body),
    "</svg>\n",
  })
end

local function label(x, y, s, attrs)
  return fmt('<text x="%s" y="%s"%s>%s</text>\n', num(x), num(y),
             attrs and (" " .. attrs) or "", esc(s))
end

-- Green (best) through yellow to red (worst), t in 0..1.
local STOPS = { { 26, 152, 80 }, { 254, 224, 139 }, { 215, 48, 39 } }
local function ramp(t)
  t = max(0, min(1, t))
  local seg = t < 0.5 and 1 or 2
  local u = (t - (seg - 1) * 0.5) * 2
  local a, b = STOPS[seg], STOPS[seg + 1]
  local r, g, bl = a[1] + (b[1] - a[1]) * u, a[2] + (b[2] - a[2]) * u, a[3] + (b[3] - a[3]) * u
  local dark = (0.299 * r + 0.587 * g + 0.114 * bl) < 140
  return fmt("#%02x%02x%02x", floor(r + 0.5), floor(g + 0.5), floor(bl + 0.5)),
         dark and "#ffffff" or "#000000"
end

local function subtitle(r)
  local parts = {}
  if r.size then parts[#parts + 1] = text.size(r.size) end
  if r.kernel then parts[#parts + 1] = r.kernel end
  if r.traffic then parts[#parts + 1] = r.traffic .. " traffic" end
  if r.pattern then parts[#parts + 1] = r.pattern .. " chase" end
  if r.benchmark == "c2c" and r.mode then
    parts[#parts + 1] = ("%s, one way = half a round trip, lines on node %s"):format(r.mode,
                                                                                tostring(r.node))
  end
  if r.host then parts[#parts + 1] = r.host end
  if r.lnuma_version then parts[#parts + 1] = "lnuma " .. r.lnuma_version end
  return table.concat(parts, ", ")
end

--- A heatmap of a `matrix` or `c2c` result, each cell coloured from green
-- (best) to red (worst) with its value written in it.
-- @tparam table result
-- @treturn string SVG text
function M.heatmap(result)
  local r = result
  local rows, cols, values = r.rows or {}, r.columns or {}, r.values or {}
  local c2c = r.benchmark == "c2c"
  local lo, hi = math.huge, -math.huge
  for i = 1, #rows do
    for j = 1, #cols do
      local v = values[i] and values[i][j]
      if type(v) == "number" and v == v and not (c2c and i == j) then
        lo, hi = min(lo, v), max(hi, v)
      end
    end
  end
  local better_high = r.metric == "bandwidth"
  local cw, ch, left, top = 84, 40, 120, 84
  local w = max(left + cw * #cols + 30, 380)
  local h = top + ch * #rows + 56
  local unit = r.units and r.units.values or ""
  local title = c2c and "Core-to-core latency" or
    ((r.metric == "bandwidth" and "Bandwidth" or "Latency") .. " matrix")
  local body = {}
  body[#body + 1] = label(16, 42, subtitle(r) .. (unit ~= "" and ("; values in " .. unit) or ""),
                          'fill="#555555"')
  body[#body + 1] = label(left + cw * #cols / 2, top - 30,
                          c2c and "CPU (reader)" or "memory node", 'text-anchor="middle"')
  body[#body + 1] = label(16, top + ch * #rows / 2, c2c and "CPU" or "CPU node",
                          'dominant-baseline="middle"')
  for j, c in ipairs(cols) do
    body[#body + 1] = label(left + (j - 0.5) * cw, top - 8, tostring(c),
                            'text-anchor="middle" font-weight="bold"')
  end
  for i, rl in ipairs(rows) do
    local y = top + (i - 1) * ch
    body[#body + 1] = label(left - 10, y + ch / 2, tostring(rl),
                            'text-anchor="end" dominant-baseline="middle" font-weight="bold"')
    for j = 1, #cols do
      local v = values[i] and values[i][j]
      local x = left + (j - 1) * cw
      local fill, ink, s = "#dddddd", "#555555", "–"
      if c2c and i == j then
        s = "·"
      elseif type(v) == "number" and v == v then
        local t = hi > lo and (v - lo) / (hi - lo) or 0
        fill, ink = ramp(better_high and 1 - t or t)
        s = text.number(v)
      end
      body[#body + 1] = fmt('<rect x="%d" y="%d" width="%d" height="%d" fill="%s" '
                            .. 'stroke="#ffffff" stroke-width="2"><title>%s</title></rect>\n',
                            x, y, cw, ch, fill, esc(fmt("%s -> %s: %s %s", rl, cols[j], s, unit)))
      body[#body + 1] = label(x + cw / 2, y + ch / 2, s,
        fmt('text-anchor="middle" dominant-baseline="middle" font-size="14" fill="%s"', ink))
    end
  end
  local note = better_high and "green: highest bandwidth, red: lowest"
    or "green: lowest latency, red: highest"
  body[#body + 1] = label(16, h - 16, note, 'fill="#555555"')
  return document(w, h, title, body)
end

-- Tick values for a linear axis from 0 to at least hi: steps of 1, 2 or 5
-- times a power of ten.
local function linear_ticks(hi)
  if hi <= 0 then hi = 1 end
  local raw = hi / 5
  local p = 10 ^ floor(log(raw, 10))
  local step = p
  for _, m in ipairs({ 1, 2, 5, 10 }) do
    if m * p >= raw then step = m * p; break end
  end
  local ticks, top = {}, step * math.ceil(hi / step)
  for v = 0, top + step / 2, step do ticks[#ticks + 1] = v end
  return ticks, top
end

-- Ticks for a log axis between lo and hi: 1, 2, 5 times powers of ten.
local function log_ticks(lo, hi)
  local ticks = {}
  local e = floor(log(lo, 10))
  while true do
    for _, m in ipairs({ 1, 2, 5 }) do
      local v = m * 10 ^ e
      if v > hi * 1.0001 then return ticks end
      if v >= lo * 0.9999 then ticks[#ticks + 1] = v end
    end
    e = e + 1
  end
end

local function axes(body, x0, y0, x1, y1)
  body[#body + 1] = fmt('<path d="M%s %sV%sH%s" fill="none" stroke="#000000"/>\n',
                        num(x0), num(y0), num(y1), num(x1))
end

local SERIES_COLOURS = { "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b" }

--- A line chart of a `latency_curve` result: ns per load against the
-- working-set size on a log axis, cache sizes marked with dashed lines.
-- Every series (`result.series`, each `{label =, points =}`) is drawn, and
-- cache levels the data cannot tell apart (`result.indistinct`) are marked.
-- @tparam table result
-- @tparam[opt] table opts `log_y` (boolean, default true)
-- @treturn string SVG text
function M.curve(result, opts)
  opts = opts or {}
  local r = result
  local series = r.series or { { label = r.label or "latency", points = r.points or {} } }
  local w, h = 780, 460
  local x0, x1, y0, y1 = 80, w - 40, 70, h - 70
  local smin, smax, lmin, lmax = math.huge, 0, math.huge, 0
  for _, s in ipairs(series) do
    for _, p in ipairs(s.points) do
      if p.latency_ns and p.latency_ns == p.latency_ns then
        smin, smax = min(smin, p.size), max(smax, p.size)
        lmin, lmax = min(lmin, p.latency_ns), max(lmax, p.latency_ns)
      end
    end
  end
  if smax == 0 then smin, smax, lmin, lmax = 4096, 8192, 1, 10 end
  if smax <= smin then smax = smin * 2 end
  local lx0, lx1 = log(smin, 2), log(smax, 2)
  local function X(size) return x0 + (log(size, 2) - lx0) / (lx1 - lx0) * (x1 - x0) end
  local log_y = opts.log_y ~= false
  local Y, yticks
  if log_y then
    local lo, hi = 10 ^ floor(log(max(lmin, 0.1), 10)), lmax * 1.15
    yticks = log_ticks(lo, hi)
    local a, b = log(lo), log(hi)
    Y = function(v) return y1 - (log(max(v, lo)) - a) / (b - a) * (y1 - y0) end
  else
    local top
    yticks, top = linear_ticks(lmax * 1.05)
    Y = function(v) return y1 - v / top * (y1 - y0) end
  end
  local body = {}
  body[#body + 1] = label(16, 42, subtitle(r), 'fill="#555555"')
  for _, v in ipairs(yticks) do
    local y = Y(v)
    body[#body + 1] = fmt('<path d="M%s %sH%s" stroke="#e5e5e5"/>\n', num(x0), num(y), num(x1))
    body[#body + 1] = label(x0 - 8, y, tick(v), 'text-anchor="end" dominant-baseline="middle"')
  end
  local e0, e1 = math.ceil(lx0 - 1e-9), floor(lx1 + 1e-9)
  local every = (e1 - e0) > 12 and 2 or 1
  for e = e0, e1 do
    local x = X(2 ^ e)
    body[#body + 1] = fmt('<path d="M%s %sV%s" stroke="#000000"/>\n', num(x), num(y1), num(y1 + 5))
    if (e - e0) % every == 0 then
      body[#body + 1] = label(x, y1 + 18, text.size(floor(2 ^ e)), 'text-anchor="middle"')
    end
  end
  -- Levels the data cannot tell apart are marked so (lnuma.curve_levels).
  local indistinct = {}
  for _, x in ipairs(r.indistinct or {}) do
    if type(x.name) == "string" then indistinct[x.name] = true end
  end
  for _, c in ipairs(r.caches or {}) do
    if c.size and c.size >= smin / 2 and c.size <= smax * 2 then
      local x = X(min(max(c.size, smin), smax))
      local name = ("L%d%s %s%s"):format(c.level, c.type == "data" and "d" or "", text.size(c.size),
        indistinct["L" .. c.level] and " (not distinct)" or "")
      body[#body + 1] = fmt('<path d="M%s %sV%s" stroke="#888888" stroke-dasharray="5,4"/>\n',
                            num(x), num(y0), num(y1))
      body[#body + 1] = x > x1 - 70
        and label(x - 4, y0 + 12, name, 'text-anchor="end" fill="#555555"')
        or label(x + 4, y0 + 12, name, 'fill="#555555"')
    end
  end
  axes(body, x0, y0, x1, y1)
  for k, s in ipairs(series) do
    local colour = SERIES_COLOURS[(k - 1) % #SERIES_COLOURS + 1]
    local pts = {}
    for _, p in ipairs(s.points) do
      if p.latency_ns and p.latency_ns == p.latency_ns then
        pts[#pts + 1] = num(X(p.size)) .. "," .. num(Y(p.latency_ns))
      end
    end
    if #pts > 0 then
      body[#body + 1] = fmt('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>\n',
                            table.concat(pts, " "), colour)
    end
    for _, p in ipairs(s.points) do
      if p.latency_ns and p.latency_ns == p.latency_ns then
        body[#body + 1] = fmt(
          '<circle cx="%s" cy="%s" r="3.5" fill="%s"><title>%s</title></circle>\n',
          num(X(p.size)), num(Y(p.latency_ns)), colour,
          esc(fmt("%s: %s ns", text.size(p.size), text.number(p.latency_ns))))
      end
    end
    if #series > 1 then
      local ly = y0 + 8 + (k - 1) * 18
      body[#body + 1] = fmt('<path d="M%s %sh24" stroke="%s" stroke-width="2"/>\n',
                            num(x0 + 14), num(ly), colour)
      body[#body + 1] = label(x0 + 44, ly, s.label or ("series " .. k),
                              'dominant-baseline="middle"')
    end
  end
  body[#body + 1] = label((x0 + x1) / 2, h - 28, "working set (bytes, log scale)",
                          'text-anchor="middle"')
  body[#body + 1] = fmt('<text x="20" y="%s" text-anchor="middle" transform="rotate(-90 20 %s)">'
                        .. '%s</text>\n', num((y0 + y1) / 2), num((y0 + y1) / 2),
                        "latency (ns per load" .. (log_y and ", log scale)" or ")"))
  return document(w, h, "Memory latency by working-set size", body)
end

--- The loaded-latency curve of a `loaded_latency` result: the chaser's
-- latency against the bandwidth the other threads generate, one point per
-- injection delay.
-- @tparam table result
-- @treturn string SVG text
function M.loaded(result)
  local r = result
  local pts = r.points or {}
  local w, h = 720, 440
  local x0, x1, y0, y1 = 80, w - 40, 70, h - 70
  local bmax, lmax = 0, 0
  for _, p in ipairs(pts) do
    bmax = max(bmax, p.gbps or 0)
    lmax = max(lmax, p.stats and p.stats.max or p.latency_ns or 0)
  end
  local xt, xtop = linear_ticks(bmax * 1.05)
  local yt, ytop = linear_ticks(lmax * 1.1)
  local function X(v) return x0 + v / xtop * (x1 - x0) end
  local function Y(v) return y1 - v / ytop * (y1 - y0) end
  local body = {}
  body[#body + 1] = label(16, 42, subtitle(r), 'fill="#555555"')
  for _, v in ipairs(yt) do
    body[#body + 1] = fmt('<path d="M%s %sH%s" stroke="#e5e5e5"/>\n', num(x0), num(Y(v)), num(x1))
    body[#body + 1] = label(x0 - 8, Y(v), tick(v), 'text-anchor="end" dominant-baseline="middle"')
  end
  for _, v in ipairs(xt) do
    body[#body + 1] = label(X(v), y1 + 18, tick(v), 'text-anchor="middle"')
  end
  axes(body, x0, y0, x1, y1)
  local line, by_load = {}, {}
  for i, p in ipairs(pts) do by_load[i] = p end -- sorted here, not in the result
  table.sort(by_load, function(a, b) return (a.gbps or 0) < (b.gbps or 0) end)
  for _, p in ipairs(by_load) do
    line[#line + 1] = num(X(p.gbps or 0)) .. "," .. num(Y(p.latency_ns or 0))
  end
  if #line > 0 then
    body[#body + 1] = fmt('<polyline points="%s" fill="none" stroke="#1f77b4" stroke-width="2"/>\n',
                          table.concat(line, " "))
  end
  for _, p in ipairs(pts) do
    local x, y = X(p.gbps or 0), Y(p.latency_ns or 0)
    if p.stats and p.stats.min and p.stats.max then -- the repetitions' range
      body[#body + 1] = fmt('<path d="M%s %sV%s" stroke="#1f77b4" stroke-width="1"/>\n',
                            num(x), num(Y(p.stats.min)), num(Y(p.stats.max)))
    end
    body[#body + 1] = fmt(
      '<circle cx="%s" cy="%s" r="4" fill="%s"><title>%s</title></circle>\n',
      num(x), num(y), p.unstable and "#d62728" or "#1f77b4",
      esc(fmt("delay %s ns: %s GB/s, %s ns (spread %s%%)", tostring(p.delay_ns),
              text.number(p.gbps), text.number(p.latency_ns),
              text.number((p.spread or 0) * 100))))
    body[#body + 1] = label(x + 6, y - 6, tostring(p.delay_ns) .. " ns",
                            'font-size="10" fill="#555555"')
  end
  body[#body + 1] = label((x0 + x1) / 2, h - 28, "bandwidth of the traffic threads (GB/s)",
                          'text-anchor="middle"')
  body[#body + 1] = fmt('<text x="20" y="%s" text-anchor="middle" transform="rotate(-90 20 %s)">'
                        .. 'latency (ns per load)</text>\n', num((y0 + y1) / 2), num((y0 + y1) / 2))
  return document(w, h, "Loaded latency", body)
end

--- Bars for the repetitions of a single figure (latency, bandwidth,
-- migration), with the median marked.
-- @tparam table result
-- @treturn string SVG text
function M.bars(result)
  local r = result
  local reps, names = r.repetitions or {}, nil
  if r.benchmark == "bandwidth_kernels" then
    reps, names = {}, {}
    for i, k in ipairs(r.kernels or {}) do reps[i], names[i] = k.gbps, k.kernel end
  end
  local unit = (r.benchmark == "bandwidth" or names) and "GB/s"
    or r.benchmark == "migration" and "pages/s"
    or "ns per load"
  local w, h = 620, 360
  local x0, x1, y0, y1 = 80, w - 30, 70, h - 60
  local hi = 0
  for _, v in ipairs(reps) do hi = max(hi, v) end
  local yt, top = linear_ticks(hi * 1.1)
  local function Y(v) return y1 - v / top * (y1 - y0) end
  local body = {}
  body[#body + 1] = label(16, 42, subtitle(r), 'fill="#555555"')
  for _, v in ipairs(yt) do
    body[#body + 1] = fmt('<path d="M%s %sH%s" stroke="#e5e5e5"/>\n', num(x0), num(Y(v)), num(x1))
    body[#body + 1] = label(x0 - 8, Y(v), tick(v), 'text-anchor="end" dominant-baseline="middle"')
  end
  local bw = (x1 - x0) / max(#reps, 1)
  for i, v in ipairs(reps) do
    local x = x0 + (i - 1) * bw
    body[#body + 1] = fmt('<rect x="%s" y="%s" width="%s" height="%s" fill="#6baed6">'
                          .. '<title>%s</title></rect>\n', num(x + bw * 0.15), num(Y(v)),
                          num(bw * 0.7), num(y1 - Y(v)), esc(text.number(v) .. " " .. unit))
    body[#body + 1] = label(x + bw / 2, y1 + 16, names and names[i] or tostring(i),
                            'text-anchor="middle"')
    if names then
      body[#body + 1] = label(x + bw / 2, Y(v) - 6, text.number(v), 'text-anchor="middle"')
    end
  end
  local med = not names and r.stats and r.stats.median
  if med then
    body[#body + 1] = fmt('<path d="M%s %sH%s" stroke="#d62728" stroke-width="2"/>\n',
                          num(x0), num(Y(med)), num(x1))
    body[#body + 1] = label(x1, Y(med) - 6, "median " .. text.number(med),
                            'text-anchor="end" fill="#d62728"')
  end
  axes(body, x0, y0, x1, y1)
  body[#body + 1] = label((x0 + x1) / 2, h - 20, names and "kernel" or "repetition",
                          'text-anchor="middle"')
  local titles = { latency = "Latency", bandwidth = "Bandwidth", migration = "Page migration",
                   bandwidth_kernels = "Bandwidth by kernel" }
  return document(w, h, (titles[r.benchmark] or "Result") .. " (" .. unit .. ")", body)
end

--- The picture that suits a result: heatmap, curve, loaded curve or bars.
-- @tparam table result a result of `lnuma.bench.*`
-- @treturn string SVG text
function M.render(result)
  if type(result) ~= "table" then
    argerror("svg", nil, "table expected, got " .. type(result), 2)
  end
  local b = result.benchmark
  if b == "matrix" or b == "c2c" then return M.heatmap(result)
  elseif b == "latency_curve" then return M.curve(result)
  elseif b == "loaded_latency" then return M.loaded(result)
  elseif b == "latency" or b == "bandwidth" or b == "migration" or b == "bandwidth_kernels" then
    return M.bars(result)
  elseif b == "exec" then return require("lnuma.report.exec").svg(result)
  elseif b == "experiment" then return require("lnuma.experiment_svg").render(result)
  end
  argerror("svg", nil, "not an lnuma benchmark result: benchmark = " .. tostring(b), 2)
end

-- The drawing helpers, for lnuma.experiment_svg.
M.util = { esc = esc, num = num, tick = tick, document = document, label = label,
           axes = axes, subtitle = subtitle, colours = SERIES_COLOURS }

--- Writes the picture of a result to a file.
-- @tparam table result
-- @tparam string path
-- @treturn[1] true
-- @treturn[2] nil
-- @treturn[2] string message
function M.write(result, path)
  local svg = M.render(result)
  local f, err = io.open(path, "w")
  if not f then return nil, err end
  f:write(svg)
  f:close()
  return true
end

return M
