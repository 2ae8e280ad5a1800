--- The latency curve: latency by working-set size, every cache level a step
-- (`lnuma.bench.latency_curve`).  It runs on huge pages where they can be
-- had, so that TLB misses do not look like a cache level, with a second
-- series on 4 KiB pages that shows where the TLB runs out; the levels are
-- named only where the data show a step (lnuma.curve_levels).
-- @module lnuma.bench.curve

local U = require "lnuma.bench.util"
local O = require "lnuma.options"
local latency = require "lnuma.bench.latency"
local levels = require "lnuma.curve_levels"

local max = math.max

local M = {}


-- The largest cache the CPU sees (nil when the topology names none).
local function llc_of(topo, cpu)
  local size
  for _, c in ipairs(U.caches_of(topo, cpu)) do size = max(size or 0, c.size) end
  return size
end

-- Powers of two from 4 KiB to four times the last-level cache (memory well
-- beyond it), at least 64 MiB; a last-level cache of 32 MiB is assumed
-- where the topology names none.
local function dense_sizes(topo, cpu)
  local top = max(64 * U.MIB, 4 * (llc_of(topo, cpu) or 32 * U.MIB))
  local sizes, s = {}, 4 * U.KIB
  while s < top do
    sizes[#sizes + 1] = s
    s = s * 2
  end
  sizes[#sizes + 1] = s
  return sizes
end

-- One size well inside each cache level (the largest power of two at most
-- half of it, beyond the level below) and one four times the last level;
-- powers of four from 4 KiB to 64 MiB where the topology names no caches.
local function sparse_sizes(topo, cpu)
  local caches = U.caches_of(topo, cpu)
  local sizes, below = {}, 0
  if #caches == 0 then
    for e = 12, 26, 2 do sizes[#sizes + 1] = 1 << e end
    return sizes
  end
  table.sort(caches, function(a, b) return a.size < b.size end)
  for _, c in ipairs(caches) do
    local s = 4 * U.KIB
    while s * 2 <= c.size // 2 do s = s * 2 end
    if s > below and s <= c.size // 2 then sizes[#sizes + 1] = s end
    below = max(below, c.size)
  end
  local s = 4 * U.KIB
  while s < 4 * below do s = s * 2 end
  sizes[#sizes + 1] = s
  return sizes
end

--- The system's transparent huge page mode ("always", "madvise", "never"),
-- or nil where the kernel has no THP.
-- @treturn string|nil
function M.thp_mode()
  local t = require("lnuma.core").thp()
  return t.available and t.enabled ~= "" and t.enabled or nil
end

-- Which huge pages a series of `bytes` on `node` can have: hugetlb 2M pages
-- when enough are free on the node, else THP unless the system has it off.
-- nil and the reason when neither.
local function huge_available(node, bytes)
  local ok, mi = pcall(require("lnuma.memory").meminfo, node)
  local h = ok and type(mi) == "table" and mi.huge and mi.huge["2M"]
  if h and h.free and h.page_size and h.free * h.page_size >= bytes then return "2M" end
  local mode = M.thp_mode()
  if mode and mode ~= "never" then return "thp" end
  return nil, ("no huge pages here (transparent huge pages %s, no 2M pages free on node %d)")
    :format(mode and ("'" .. mode .. "'") or "absent", node)
end

local function series_label(huge)
  if huge == "thp" then return "huge pages (THP)" end
  if huge == "2M" or huge == "1G" then return ("huge pages (hugetlb %s)"):format(huge) end
  if huge == false then return "4 KiB pages" end
  return "default pages"
end

-- The series option: an array of page kinds as `huge` takes them.
local function opt_series(fname, o)
  local v = o.series
  if v == nil then return nil end
  if type(v) ~= "table" or #v == 0 or #v > 4 then
    O.argerror(fname, "series", "array of 1 to 4 page kinds (false, true, \"thp\", \"2M\", "
             .. "\"1G\", ...) expected", 3)
  end
  local out = {}
  for i = 1, #v do
    local key = ("series[%d]"):format(i)
    local kind = O.opt_huge(fname, { [key] = v[i] }, key)
    if kind == nil then
      O.argerror(fname, key, "a series names its page kind (\"default\" leaves it to the system)",
               3)
    end
    out[i] = kind
  end
  return out
end

-- What a series got: its placement and how much of it is on huge pages
-- (placement.huge_fraction where the placement reads page sizes; nil means
-- unknown).
local function series_got(r, s, buf, largest, node)
  local pl = U.placement(r, buf, { { offset = 0, length = largest, node = node } })
  s.placement = pl
  s.huge_fraction = pl.huge_fraction
  s.huge_method = pl.huge_method
  local info = buf:info() or {}
  s.page_size = info.page_size
  if s.huge_fraction == nil and (s.huge == "2M" or s.huge == "1G")
     and (info.page_size or 0) >= 2 * U.MIB then
    s.huge_fraction, s.huge_method = 1, "hugetlb mapping"
  end
  if s.huge_fraction ~= nil then
    s.label = ("%s, %.0f%% huge"):format(s.label, s.huge_fraction * 100)
  end
end

--- Latency by working-set size, from 4 KiB to well beyond the last-level
-- cache, so that every cache level shows as a step.  By default two series
-- are measured, alternating size by size: the main one on huge pages (hugetlb
-- 2M pages when enough are reserved, else transparent huge pages), so that TLB
-- misses do not look like a cache level, and one on 4 KiB pages, which shows
-- where the TLB runs out.  Where huge pages cannot be had, one 4 KiB series
-- (and a warning).
-- @tparam table opts as `latency` (its `size` excepted), plus `sizes` (array
--   of sizes; default: powers of two from 4 KiB to four times the last-level
--   cache, at least 64 MiB), `series` (array of page kinds, the main one
--   first, e.g. `{"thp", false}`; `huge` alone measures that one series) and
--   `progress` (boolean; default: when stderr is a terminal)
-- @treturn table result with `points` (the main series: `{size, latency_ns,
--   spread, p99, level}` each), `series` (`{label, huge, main, points,
--   placement, huge_fraction, page_size}` each; `huge_fraction` nil when
--   unknown), `main_series` and `main_reason`, `levels` (`{name, size,
--   latency_ns, sizes, basis}`: the cache levels the data show, then memory),
--   `indistinct` (`{name, size, reason}`: levels the data cannot tell apart),
--   `steps`, `level_rule`, `tlb` (where the 4 KiB series departs from the
--   huge one), `caches` (from the topology), `placement` (the main series'),
--   `cpus_ran`, `warnings`
-- @return[2] nil when memory or pinning is refused
-- @treturn[2] string message
-- @treturn[2] integer errno
function M.latency_curve(opts)
  local known = {}
  for k in pairs(latency.KEYS) do known[k] = true end
  known.size, known.buffer, known.sizes, known.progress, known.series = nil, nil, true, true, true
  local o = O.check_opts("latency_curve", opts, known)
  local topo, msg, code = U.machine()
  if not topo then return nil, msg, code end
  local asked_series = opt_series("latency_curve", o)
  if asked_series and o.huge ~= nil then
    O.argerror("latency_curve", "series", "give either huge (one series) or series")
  end
  local base = {}
  for k, v in pairs(o) do base[k] = v end
  base.sizes, base.progress, base.series = nil, nil, nil
  local p = latency.params("latency_curve", topo, base)
  p.size = nil
  local sizes = {}
  if o.sizes ~= nil then
    if type(o.sizes) ~= "table" or #o.sizes == 0 then
      O.argerror("latency_curve", "sizes", "non-empty array of sizes expected")
    end
    for i, s in ipairs(o.sizes) do
      local key = ("sizes[%d]"):format(i)
      sizes[i] = O.opt_size("latency_curve", { [key] = s }, key)
    end
  else
    sizes = dense_sizes(topo, p.cpu)
  end
  table.sort(sizes)
  p.sizes = sizes
  local largest = sizes[#sizes]
  local r = U.new_result("latency_curve", p, {
    latency_ns = "ns per load", size = "bytes", spread = "fraction of the median",
    huge_fraction = "fraction of the memory on huge pages",
  })
  for k, v in pairs(p) do r[k] = v end
  r.caches = U.caches_of(topo, p.cpu)
  -- The series: asked, one kind (huge), or huge pages and 4 KiB by default.
  local kinds, why = asked_series, nil
  if not kinds and p.huge ~= nil then kinds = { p.huge } end
  local default = kinds == nil
  if default then
    local h, no = huge_available(p.node, largest)
    kinds = h and { h, false } or { false }
    why = no
  end
  local series, bufs = {}, {}
  local function free_all()
    for _, b in ipairs(bufs) do b:free() end
  end
  for _, kind in ipairs(kinds) do
    local buf, amsg, acode = U.alloc(largest, p.node, kind)
    if buf then
      bufs[#bufs + 1] = buf
      series[#series + 1] = { huge = kind, label = series_label(kind), points = {} }
    elseif default and kind ~= false then
      why = ("huge pages (%s) could not be had: %s"):format(kind, tostring(amsg))
    else
      free_all()
      return nil, amsg, acode
    end
  end
  series[1].main = true
  r.series, r.main_series, r.huge = series, 1, series[1].huge
  p.series = {}
  for i, s in ipairs(series) do p.series[i] = s.huge end
  if series[1].huge then
    r.main_reason = "huge pages, so TLB misses do not look like a cache level"
      .. (#series > 1 and "; the 4 KiB series shows where the TLB runs out" or "")
  else
    r.main_reason = "4 KiB pages" .. (why and (": " .. why) or " (asked)")
      .. ": a step beyond the TLB's reach may be TLB misses, not a cache level"
    if why then U.warn(r, "latency curve on 4 KiB pages: %s", why) end
  end
  local show = U.progress_fn(o.progress, "latency curve")
  local n, done = #sizes * #series, 0
  for i, size in ipairs(sizes) do
    -- Alternate the series' order from size to size, so that drift and
    -- neighbours fall on every series alike.
    for k = 1, #series do
      local si = i % 2 == 1 and k or #series + 1 - k
      local s = series[si]
      done = done + 1
      show(done, n, O.size_text(size) .. " " .. s.label)
      local cell = U.new_result("latency", p, {})
      local buf = bufs[si]
      local view = size == largest and buf or buf:view(0, size)
      local ok, rmsg, rcode = latency.measure(cell, view, p)
      if not ok then
        show()
        free_all()
        return nil, rmsg, rcode
      end
      s.points[i] = { size = size, latency_ns = cell.latency_ns, spread = cell.stats.spread,
                      p99 = cell.chunks.p99 }
      r.cpus_ran = cell.cpus_ran
      U.adopt(r, cell, ("%s (%s): "):format(O.size_text(size), s.label))
    end
  end
  show()
  for i, s in ipairs(series) do
    series_got(r, s, bufs[i], largest, p.node)
    if s.huge and s.huge_fraction and s.huge_fraction < 0.9 then
      U.doubt(r, s.huge == "thp" and "thp_not_granted" or "hugetlb_not_granted",
              "the %s series got only %.0f%% of its memory on huge pages: its TLB misses "
           .. "may show as a step", s.huge, s.huge_fraction * 100)
    end
  end
  free_all()
  r.points, r.placement = series[1].points, series[1].placement
  M.curve_annotate(r)
  U.numa_balancing_warning(r, topo)
  return r
end

--- Reads the levels and the TLB effect of a curve result (again): sets
-- `levels`, `indistinct`, `steps`, `level_rule`, each main point's `level`
-- and `tlb`.  `latency_curve` calls it; use it on a result whose points
-- were changed (re-measured).
-- @tparam table r a `latency_curve` result
-- @treturn table r
function M.curve_annotate(r)
  local lv = levels.curve_levels(r.points, r.caches)
  r.levels, r.indistinct, r.steps, r.level_rule = lv.levels, lv.indistinct, lv.steps, lv.rule
  for _, pt in ipairs(r.points or {}) do pt.level = lv.labels[pt.size] end
  r.tlb = nil
  local main = r.series and r.series[r.main_series or 1]
  if main and main.huge then
    for _, s in ipairs(r.series) do
      if s.huge == false then
        r.tlb = levels.curve_tlb(main.points, s.points)
        break
      end
    end
  end
  return r
end

--- The working-set sizes `latency_curve` measures by default for a CPU:
-- powers of two from 4 KiB to four times the largest cache the CPU sees (at
-- least 64 MiB); `{sparse = true}`: one size well inside each cache level and
-- one four times the last (what a quick survey measures).
-- @tparam[opt] integer cpu default: the first allowed CPU
-- @tparam[opt] table opts `sparse` (boolean), `topology` (default this machine's)
-- @treturn table sizes in bytes, ascending
function M.curve_sizes(cpu, opts)
  local o = O.check_opts("curve_sizes", opts, { sparse = true, topology = true })
  local topo = o.topology or assert(U.machine())
  if type(topo) ~= "table" or type(topo.caches) ~= "table" then
    O.argerror("curve_sizes", "topology", "a topology (lnuma.topology{...}) expected")
  end
  cpu = cpu or U.first_allowed_cpu(topo)
  if o.sparse then return sparse_sizes(topo, cpu) end
  return dense_sizes(topo, cpu)
end

--- See `lnuma.curve_levels.curve_levels`.
-- @function curve_levels
M.curve_levels = levels.curve_levels

--- See `lnuma.curve_levels.curve_tlb`.
-- @function curve_tlb
M.curve_tlb = levels.curve_tlb

return M
