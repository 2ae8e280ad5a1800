--- Reading a latency curve: which cache levels its points show, where memory
-- begins, where latency steps up, and where a 4 KiB-page series departs from
-- a huge-page one (the TLB).  Pure functions over points and the topology's
-- caches, so they are tested without measuring; exported as
-- `lnuma.bench.curve_levels` and `lnuma.bench.curve_tlb`.
-- @module lnuma.curve_levels

local M = {}

local fmt = string.format

--- A cache level is named only where the data show a step at it: the median
-- latency of the measured sizes that fit in it (beyond the previous level) must
-- be below `RATIO` times the latency well beyond it (the first size at least
-- four times the level; memory for the last level).
M.RATIO = 0.7

--- The 4 KiB series departs from the huge-page one at the first size from
-- which on it stays more than `TLB_RATIO` times slower (a one-off, noise or
-- a cache effect of page colouring, is not a departure).
M.TLB_RATIO = 1.15

--- The rule `curve_levels` applies, in words (results carry it).
M.RULE = "a cache level is named where the working sets that fit in it (beyond the "
  .. "previous level) cost less than 0.7x the latency well beyond it (the first size >= 4x "
  .. "the level; memory for the last level); memory is the median of the sizes >= 4x the "
  .. "last-level cache"

local O = require "lnuma.options"
local size_text, ns_text = O.size_text, O.number

local function median(values)
  local s = {}
  for i, v in ipairs(values) do s[i] = v end
  table.sort(s)
  local n = #s
  if n == 0 then return nil end
  if n % 2 == 1 then return s[(n + 1) // 2] end
  return (s[n // 2] + s[n // 2 + 1]) / 2
end

local function valid(p)
  return type(p) == "table" and type(p.size) == "number" and type(p.latency_ns) == "number"
    and p.latency_ns == p.latency_ns
end

-- The points with a latency, by size.
local function clean(points)
  local out = {}
  for _, p in ipairs(points or {}) do
    if valid(p) then out[#out + 1] = p end
  end
  table.sort(out, function(a, b) return a.size < b.size end)
  return out
end

-- One cache per level (data or unified), smallest level first.
local function levels_of(caches)
  local by_level = {}
  for _, c in ipairs(caches or {}) do
    if c.type ~= "instruction" and math.type(c.level) == "integer" and type(c.size) == "number"
       and c.size > 0 and not by_level[c.level] then
      by_level[c.level] = c
    end
  end
  local out = {}
  for _, c in pairs(by_level) do out[#out + 1] = c end
  table.sort(out, function(a, b) return a.level < b.level end)
  return out
end

-- Latency steps between neighbouring sizes (a jump of more than 1/RATIO).
local function steps(pts, ratio)
  local out = {}
  for i = 2, #pts do
    local a, b = pts[i - 1], pts[i]
    if a.latency_ns > 0 and b.latency_ns * ratio > a.latency_ns then
      out[#out + 1] = { from_size = a.size, size = b.size, from_ns = a.latency_ns,
                        to_ns = b.latency_ns }
    end
  end
  return out
end

-- Memory: the points well beyond the last-level cache.
local function memory_basis(pts, llc)
  for _, factor in ipairs({ 4, 2 }) do
    local basis = {}
    for _, p in ipairs(pts) do
      if p.size >= factor * llc then basis[#basis + 1] = p end
    end
    if #basis > 0 then return basis, factor end
  end
end

--- Names the plateaus of a latency curve from the caches, only where the
-- data show a step there (see `RULE`).
-- @tparam table points `{size = bytes, latency_ns = ns}` each, any order
-- @tparam table caches the topology's caches (`{level, size, type}` each,
--   as `latency_curve` results carry them)
-- @tparam[opt] table opts `ratio` (default `RATIO`)
-- @treturn table `{levels = {{name, size, latency_ns, sizes, basis, ...}, ...,
--   {name = "memory", ...}}, indistinct = {{name, size, reason}, ...},
--   labels = {[size] = name}, steps = {{from_size, size, from_ns, to_ns}},
--   rule = text}`: every measured size is under at most one name, and never
--   under both a cache and memory
function M.curve_levels(points, caches, opts)
  local ratio = opts and opts.ratio or M.RATIO
  local pts = clean(points)
  local out = { levels = {}, indistinct = {}, labels = {}, steps = steps(pts, ratio),
                rule = M.RULE, ratio = ratio }
  local cs = levels_of(caches)
  if #cs == 0 then
    out.indistinct[1] = { name = "caches", reason = "the topology names no caches here, so no "
      .. "plateau is named and memory cannot be told from cache (see the steps instead)" }
    return out
  end
  local llc = cs[#cs]
  -- Memory first: the last level is judged against it.
  local basis, factor = memory_basis(pts, llc.size)
  local mem
  if basis then
    local lats = {}
    for i, p in ipairs(basis) do lats[i] = p.latency_ns end
    mem = { name = "memory", latency_ns = median(lats), basis = {} }
    for i, p in ipairs(basis) do mem.basis[i] = p.size end
    if factor < 4 then
      mem.note = fmt("measured at %s, only %dx the last-level cache: part of it may still "
        .. "hit the cache", size_text(basis[1].size), factor)
    end
  end
  local names = {}
  for i, c in ipairs(cs) do
    local name = "L" .. c.level
    local lo = i > 1 and cs[i - 1].size or 0
    local cand = {}
    for _, p in ipairs(pts) do
      if p.size > lo and p.size <= c.size then cand[#cand + 1] = p end
    end
    local ref, ref_size, ref_what
    if i == #cs then
      if mem then ref, ref_size, ref_what = mem.latency_ns, mem.basis[1], "memory" end
    else
      for _, p in ipairs(pts) do
        if p.size >= 4 * c.size then
          ref, ref_size, ref_what = p.latency_ns, p.size, "what lies beyond it"
          break
        end
      end
    end
    local what = fmt("%s (%s)", name, size_text(c.size))
    if not ref then
      out.indistinct[#out.indistinct + 1] = { name = name, size = c.size, reason = fmt(
        "%s: nothing measured well beyond it (%s)", what,
        i == #cs and fmt("no size >= %s", size_text(2 * c.size)) or
        fmt("no size >= %s", size_text(4 * c.size))) }
    elseif #cand == 0 then
      out.indistinct[#out.indistinct + 1] = { name = name, size = c.size, reason = fmt(
        "%s: no measured size fits in it alone (between %s and %s)", what, size_text(lo),
        size_text(c.size)) }
    else
      -- The level holds the leading run of sizes that are clearly faster.
      local shown = {}
      for _, p in ipairs(cand) do
        if p.latency_ns < ratio * ref then shown[#shown + 1] = p else break end
      end
      if #shown == 0 then
        -- The best case the level had: its fastest size.
        local p = cand[1]
        for _, q in ipairs(cand) do
          if q.latency_ns < p.latency_ns then p = q end
        end
        out.indistinct[#out.indistinct + 1] = { name = name, size = c.size, reason = fmt(
          "%s cannot be told from %s here: the fastest size that fits in it, %s, costs %s ns, "
          .. "%.2fx the %s ns at %s (a level needs < %.1fx)", what, ref_what, size_text(p.size),
          ns_text(p.latency_ns), p.latency_ns / ref, ns_text(ref), size_text(ref_size), ratio) }
      else
        local lats, sizes = {}, {}
        for k, p in ipairs(shown) do lats[k], sizes[k] = p.latency_ns, p.size end
        local lv = { name = name, size = c.size, latency_ns = median(lats), basis = sizes,
                     beyond_ns = ref, beyond_size = ref_size }
        lv.ratio = lv.latency_ns / ref
        local last = shown[#shown]
        if #shown < #cand and cand[#shown + 1].size <= c.size // 2 then
          local p = cand[#shown + 1]
          lv.note = fmt("only working sets up to %s show it: %s costs %s ns, as %s does "
            .. "(the cache is shared or smaller here)", size_text(last.size),
            size_text(p.size), ns_text(p.latency_ns), ref_what == "memory" and "memory"
            or "the next level")
        end
        out.levels[#out.levels + 1] = lv
        for _, s in ipairs(sizes) do names[s] = name end
      end
    end
  end
  -- Every other size costs what the next named level up costs: it is
  -- labelled with that level, or memory when none is named above it.
  for _, p in ipairs(pts) do
    if not names[p.size] then
      local label
      for _, lv in ipairs(out.levels) do
        if lv.basis[1] > p.size then label = lv.name; break end
      end
      if not label and mem then label = "memory" end
      if label then names[p.size] = label end
    end
  end
  if mem then
    out.levels[#out.levels + 1] = mem
  else
    out.indistinct[#out.indistinct + 1] = { name = "memory", reason = fmt(
      "memory: no size beyond twice the last-level cache (L%d, %s) was measured",
      llc.level, size_text(llc.size)) }
  end
  for _, lv in ipairs(out.levels) do
    lv.sizes = {}
    for _, p in ipairs(pts) do
      if names[p.size] == lv.name then lv.sizes[#lv.sizes + 1] = p.size end
    end
  end
  out.labels = names
  return out
end

--- Where a 4 KiB-page series departs from a huge-page series of the same
-- sizes: the first size from which on it stays more than `TLB_RATIO` times
-- slower (the 4 KiB TLB no longer covers the working set).
-- @tparam table huge points of the huge-page series
-- @tparam table small points of the 4 KiB series
-- @tparam[opt] table opts `ratio` (default `TLB_RATIO`)
-- @treturn table `{departs_at = bytes or nil, ratio = 4K/huge there,
--   largest_ratio, largest_at, compared = n, threshold = the ratio used,
--   rule = text}`
function M.curve_tlb(huge, small, opts)
  local ratio = opts and opts.ratio or M.TLB_RATIO
  local by_size = {}
  for _, p in ipairs(clean(huge)) do by_size[p.size] = p.latency_ns end
  local out = { compared = 0, threshold = ratio, rule = fmt("the first size from which on "
    .. "the 4 KiB series stays more than %.2fx the huge-page one", ratio) }
  local ratios = {}
  for _, p in ipairs(clean(small)) do
    local h = by_size[p.size]
    if h and h > 0 then
      local r = p.latency_ns / h
      ratios[#ratios + 1] = { size = p.size, ratio = r }
      if not out.largest_ratio or r > out.largest_ratio then
        out.largest_ratio, out.largest_at = r, p.size
      end
    end
  end
  out.compared = #ratios
  for i = #ratios, 1, -1 do
    if ratios[i].ratio <= ratio then break end
    out.departs_at, out.ratio = ratios[i].size, ratios[i].ratio
  end
  return out
end

return M
