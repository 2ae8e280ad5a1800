--- The percentile distribution of a histogram in HdrHistogram's layout
-- (`lnuma.report.distribution`): the `.hgrm` text its plotter and the
-- tools around it read, or the CSV of the same rows.
--
-- Rows come at percentile levels that halve the distance to 100% in
-- `ticks` steps each (0, 10, ... 50, 55, ... 75, 77.5, ...), each the value
-- `Histogram:percentile` gives there (the highest value of the bucket where
-- the count reaches the level; `lowest - 1` in the underflow, the exact
-- maximum in the overflow; the exact minimum at 0%), the values counted up to
-- that bucket, and 1 / (1 - percentile); the last row is the maximum at 100%.
-- @module lnuma.report.distribution

local argerror = require("lnuma.options").argerror

local M = {}

local MAX_TICKS = 1000
local floor, log, max, min = math.floor, math.log, math.max, math.min

-- The level after p: the step halves with every halving of 100 - p.
local function next_level(p, ticks)
  local half_distance = 2 ^ (floor(log(100 / (100 - p), 2)) + 1)
  local q = p + 100 / (ticks * half_distance)
  if q <= p or q >= 100 then return 100 end -- no float step left
  return q
end

local function integer_field(e, key, fname)
  local v = e[key]
  if math.type(v) ~= "integer" or v < 0 then
    argerror(fname, nil, ("histogram export: %s must be a non-negative integer, got %s")
      :format(key, tostring(v)), 3)
  end
  return v
end

-- The export's counts as buckets {top, count}, underflow and overflow
-- included, checked as they are read.
local function buckets_of(e, fname)
  local total = integer_field(e, "count", fname)
  local under = integer_field(e, "underflow", fname)
  local over = integer_field(e, "overflow", fname)
  if total == 0 then return {}, 0 end
  local lo, hi = e.min, e.max
  if math.type(lo) ~= "integer" or math.type(hi) ~= "integer" or lo > hi then
    argerror(fname, nil, "histogram export: min and max must be integers, min <= max", 3)
  end
  if type(e.mean) ~= "number" or type(e.stddev) ~= "number" then
    argerror(fname, nil, "histogram export: mean and stddev must be numbers", 3)
  end
  local out = {}
  if under > 0 then out[1] = { top = max(lo, (e.lowest or lo + 1) - 1), count = under } end
  if type(e.buckets) ~= "table" then
    argerror(fname, nil, "histogram export: buckets must be a list", 3)
  end
  if under > math.maxinteger - over then
    argerror(fname, nil, "histogram export: its counts add up past math.maxinteger", 3)
  end
  local sum = under + over
  for i, b in ipairs(e.buckets) do
    if type(b) ~= "table" or math.type(b.highest) ~= "integer"
       or math.type(b.count) ~= "integer" or b.count < 0 then
      argerror(fname, nil, ("histogram export: buckets[%d] needs integer highest and count")
        :format(i), 3)
    end
    out[#out + 1] = { top = min(max(b.highest, lo), hi), count = b.count }
    if b.count > math.maxinteger - sum then
      argerror(fname, nil, "histogram export: its counts add up past math.maxinteger", 3)
    end
    sum = sum + b.count
  end
  if over > 0 then out[#out + 1] = { top = hi, count = over } end
  if sum ~= total then
    argerror(fname, nil, ("histogram export: its buckets, underflow and overflow hold %d "
      .. "values, not its count %d"):format(sum, total), 3)
  end
  return out, total
end

-- The rows: {value, percentile (0..100), cumulative count}; 0% is the
-- exact minimum and 100% the exact maximum, as Histogram:percentile has them.
local function rows_of(buckets, total, ticks, least, top)
  local rows, p, cum = {}, 0, 0
  for _, b in ipairs(buckets) do
    cum = cum + b.count
    if b.count > 0 then
      if cum >= total then -- the last bucket: its level, then 100%
        rows[#rows + 1] = { p == 0 and least or b.top, p, total }
        break
      end
      local reached = 100.0 * cum / total -- a float: 100 * cum may pass maxinteger
      while p <= reached and p < 100 do
        rows[#rows + 1] = { p == 0 and least or b.top, p, cum }
        p = next_level(p, ticks)
      end
    end
  end
  if total > 0 then rows[#rows + 1] = { top, 100, total } end
  return rows
end

local function text_of(rows, e, scale, unit)
  local out = { ("%12s %14s %10s %14s"):format("Value", "Percentile", "TotalCount",
                                              "1/(1-Percentile)"), "" }
  for _, r in ipairs(rows) do
    local f = r[2] / 100
    if r[2] >= 100 then
      out[#out + 1] = ("%12.3f %14.12f %10d"):format(r[1] / scale, f, r[3])
    else
      out[#out + 1] = ("%12.3f %14.12f %10d %14.2f"):format(r[1] / scale, f, r[3], 1 / (1 - f))
    end
  end
  local n = e.count
  out[#out + 1] = ("#[Mean    = %12.3f, StdDeviation   = %12.3f]"):format(
    n > 0 and e.mean / scale or 0, n > 0 and e.stddev / scale or 0)
  out[#out + 1] = ("#[Max     = %12.3f, Total count    = %12d]"):format(
    n > 0 and e.max / scale or 0, n)
  out[#out + 1] = ("#[Underflow = %10d, Overflow       = %12d]"):format(e.underflow, e.overflow)
  out[#out + 1] = ("#[Unit    = %s]"):format(unit)
  return table.concat(out, "\n") .. "\n"
end

local function csv_of(rows, scale)
  local out = { '"Value","Percentile","TotalCount","1/(1-Percentile)"' }
  for _, r in ipairs(rows) do
    local f = r[2] / 100
    out[#out + 1] = ("%.3f,%.12f,%d,%s"):format(r[1] / scale, f, r[3],
      f >= 1 and "Infinity" or ("%.2f"):format(1 / (1 - f)))
  end
  return table.concat(out, "\n") .. "\n"
end

--- The percentile distribution of a histogram, as HdrHistogram prints it
-- (its `.hgrm` text, which its plotter reads) or as CSV.
-- @param h an `lnuma.histogram`, or the table its `export()` gives (the
--   `histogram` field of a result)
-- @tparam[opt] table opts `ticks` (levels per halving of the distance to
--   100%, 1..1000, default 5), `scale` (values are divided by it: 1000
--   shows ns as us; default 1), `format` ("hgrm" (default) or "csv")
-- @treturn string the rows, one per line, with a `#[...]` footer of mean,
--   standard deviation, maximum, count, underflow, overflow and unit (hgrm)
-- @raise on a bad option or an export whose counts do not add up
-- @usage io.open("latency.hgrm", "w"):write(lnuma.report.distribution(h))
function M.distribution(h, opts)
  local fname = "distribution"
  local e = h
  if type(h) == "userdata" and require("lnuma").type(h) == "histogram" then
    e = h:export()
  elseif type(h) ~= "table" then
    argerror(fname, nil, "a histogram or its export expected, got " .. type(h), 2)
  end
  opts = opts or {}
  if type(opts) ~= "table" then argerror(fname, nil, "options table expected", 2) end
  local O = require "lnuma.options"
  local o = O.check_opts(fname, opts, { ticks = true, scale = true, format = true })
  local ticks = O.opt_int(fname, o, "ticks", 5, 1, MAX_TICKS)
  local scale = o.scale or 1
  if type(scale) ~= "number" or scale ~= scale or scale <= 0 or scale == math.huge then
    argerror(fname, "scale", "a positive finite number expected, got " .. tostring(scale), 2)
  end
  local format = O.opt_choice(fname, o, "format", "hgrm", { "hgrm", "csv" })
  local buckets, total = buckets_of(e, fname)
  local rows = rows_of(buckets, total, ticks, e.min, e.max)
  if format == "csv" then return csv_of(rows, scale) end
  return text_of(rows, e, scale, tostring(e.unit or "") .. (scale ~= 1 and
    (" / %s"):format(scale) or ""))
end

return M
