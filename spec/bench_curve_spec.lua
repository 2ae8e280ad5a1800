-- The latency curve (lnuma.bench.latency_curve) and how it is read
-- (lnuma.bench.curve_levels, curve_tlb): a cache level is named only where
-- the data show a step at it, no size is both a cache and memory, and the
-- curve runs on huge pages with a 4 KiB series beside it.  The reading is
-- tested on synthetic points; the measuring on a tiny real curve.
local lnuma = require "lnuma"
local H = dofile("spec/support/helpers.lua")

local KiB, MiB = 1024, 1024 * 1024
local QUICK = { repetitions = 2, min_time = 1000000 }

local function quick(t) return H.with_defaults(QUICK, t) end

-- The caches of a typical core: L1d 48K, L2 1M, L3 32M (and an L1i to ignore).
local CACHES = {
  { level = 1, size = 48 * KiB, type = "data" },
  { level = 1, size = 32 * KiB, type = "instruction" },
  { level = 2, size = 1 * MiB, type = "unified" },
  { level = 3, size = 32 * MiB, type = "unified" },
}

-- Points from 4K to 256M with a latency per size given by fn.
local function curve_of(fn)
  local pts = {}
  for e = 12, 28 do pts[#pts + 1] = { size = 1 << e, latency_ns = fn(1 << e) } end
  return pts
end

-- Clear steps: 1.2 ns in L1, 3.5 in L2, 12 in L3, 100 in memory (80 at 32M,
-- where the L3 is full).
local function stepped(size)
  if size <= 32 * KiB then return 1.2 end
  if size <= 1 * MiB then return 3.5 end
  if size <= 16 * MiB then return 12 end
  if size <= 32 * MiB then return 80 end
  return 100
end

-- An L3 that is as slow as memory (a VM whose L3 is shared with others).
local function no_l3(size)
  if size <= 1 * MiB then return stepped(size) end
  return 95 + (size >> 20) % 7
end

local function names(levels)
  local out = {}
  for i, lv in ipairs(levels) do out[i] = lv.name end
  return out
end

local function find(list, name)
  for _, x in ipairs(list) do
    if x.name == name then return x end
  end
end

describe("lnuma.bench.curve_levels (reading a curve)", function()
  it("names L1, L2, L3 and memory where the curve steps at each, every size under one name",
     function()
    local pts = curve_of(stepped)
    local r = lnuma.bench.curve_levels(pts, CACHES)
    assert.same({ "L1", "L2", "L3", "memory" }, names(r.levels))
    assert.same({}, r.indistinct)
    assert.equal(1.2, find(r.levels, "L1").latency_ns)
    assert.equal(3.5, find(r.levels, "L2").latency_ns)
    assert.equal(12, find(r.levels, "L3").latency_ns)
    assert.equal(100, find(r.levels, "memory").latency_ns)
    assert.equal(48 * KiB, find(r.levels, "L1").size)
    -- Each measured size is under exactly one name, and the label agrees.
    local count = {}
    for _, lv in ipairs(r.levels) do
      for _, s in ipairs(lv.sizes) do
        count[s] = (count[s] or 0) + 1
        assert.equal(lv.name, r.labels[s])
      end
    end
    for _, p in ipairs(pts) do assert.equal(1, count[p.size], "size " .. p.size) end
    -- memory's figure comes from sizes at least 4x the L3; 32M (the L3's
    -- own size, 80 ns) costs nearly what memory costs and is counted there.
    assert.same({ 128 * MiB, 256 * MiB }, find(r.levels, "memory").basis)
    assert.equal("L3", r.labels[16 * MiB])
    assert.equal("memory", r.labels[32 * MiB])
    assert.equal("memory", r.labels[64 * MiB])
    assert.matches("0.7x", r.rule)
  end)

  it("names no L3 where its plateau equals memory, and says why", function()
    local r = lnuma.bench.curve_levels(curve_of(no_l3), CACHES)
    assert.same({ "L1", "L2", "memory" }, names(r.levels))
    local l3 = assert(find(r.indistinct, "L3"))
    assert.equal(32 * MiB, l3.size)
    assert.equal("L3 (32M) cannot be told from memory here: the fastest size that fits in "
      .. "it, 8M, costs 96 ns, 0.98x the 98.0 ns at 128M (a level needs < 0.7x)", l3.reason)
    -- A size that fits in the L3 is never labelled both L3 and memory.
    assert.equal("memory", r.labels[16 * MiB])
    for _, lv in ipairs(r.levels) do
      for _, s in ipairs(lv.sizes) do
        if lv.name ~= "memory" then assert.is_true(s <= 1 * MiB) end
      end
    end
  end)

  it("uses a strict 0.7x bound: a level at exactly 0.7x what lies beyond is not named",
     function()
    local pts = curve_of(function(size)
      if size <= 32 * KiB then return 1 end
      if size <= 1 * MiB then return 7 end
      if size <= 16 * MiB then return 10 end
      return 100
    end)
    local r = lnuma.bench.curve_levels(pts, CACHES)
    assert.same({ "L1", "L3", "memory" }, names(r.levels))
    assert.matches("^L2 %(1M%) cannot be told from what lies beyond it here",
                   find(r.indistinct, "L2").reason)
    assert.equal("L3", r.labels[512 * KiB]) -- it costs what the L3 costs
  end)

  it("names an L3 that holds less than its size, and says up to where", function()
    local pts = curve_of(function(size)
      if size <= 4 * MiB then return stepped(size) end
      return 100
    end)
    local l3 = find(lnuma.bench.curve_levels(pts, CACHES).levels, "L3")
    assert.same({ 2 * MiB, 4 * MiB }, l3.basis)
    assert.matches("only working sets up to 4M show it: 8M costs 100 ns", l3.note)
  end)

  it("names nothing where the topology names no caches, but finds the steps", function()
    local r = lnuma.bench.curve_levels(curve_of(stepped), {})
    assert.same({}, r.levels)
    assert.matches("names no caches", find(r.indistinct, "caches").reason)
    assert.equal(3, #r.steps)
    assert.same({ 64 * KiB, 2 * MiB, 32 * MiB },
                { r.steps[1].size, r.steps[2].size, r.steps[3].size })
    assert.same({ 12, 80 }, { r.steps[3].from_ns, r.steps[3].to_ns })
    assert.is_nil(next(r.labels))
  end)

  it("says memory was not measured when no size goes beyond the last-level cache", function()
    local pts = {}
    for _, p in ipairs(curve_of(stepped)) do
      if p.size <= 32 * MiB then pts[#pts + 1] = p end
    end
    local r = lnuma.bench.curve_levels(pts, CACHES)
    assert.same({ "L1", "L2" }, names(r.levels))
    assert.matches("no size beyond twice the last%-level cache",
                   find(r.indistinct, "memory").reason)
    assert.matches("nothing measured well beyond it", find(r.indistinct, "L3").reason)
  end)
end)

describe("lnuma.bench.curve_tlb", function()
  it("finds the size from which on 4 KiB pages stay more than 1.15x slower", function()
    local huge = curve_of(stepped)
    -- a one-off at 1M (noise) is not the TLB; 1.1x at 2M is within the bound
    local small = curve_of(function(size)
      return stepped(size) * (size >= 8 * MiB and 1.6 or size == 2 * MiB and 1.1
                              or size == 1 * MiB and 1.5 or 1)
    end)
    local t = lnuma.bench.curve_tlb(huge, small)
    assert.equal(8 * MiB, t.departs_at)
    assert.near(1.6, t.ratio, 1e-9)
    assert.equal(17, t.compared)
    assert.near(1.6, t.largest_ratio, 1e-9)
    assert.is_nil(lnuma.bench.curve_tlb(huge, huge).departs_at)
  end)
end)

describe("a curve's text and picture", function()
  local function result(fn)
    local pts = curve_of(fn)
    local r = { benchmark = "latency_curve", points = pts, caches = CACHES, pattern = "random",
                cpu = 0, node = 0, warnings = {}, main_series = 1,
                main_reason = "huge pages, so TLB misses do not look like a cache level",
                series = { { huge = "thp", label = "huge pages (THP)", points = pts },
                           { huge = false, label = "4 KiB pages", points = curve_of(fn) } } }
    return lnuma.bench.curve_annotate(r)
  end

  it("says an L3 that cannot be told from memory instead of giving it a figure", function()
    local text = lnuma.report.text(result(no_l3))
    assert.matches("L3 %(32M%) cannot be told from memory here", text)
    assert.not_matches("L3 %(32M%) [%d.]+ ns", text)
    assert.matches("levels: L1 %(48K%) 1.20 ns, L2 %(1M%) 3.50 ns, memory [%d.]+ ns", text)
    assert.matches("series 1 %(main%): transparent huge pages, huge%-page coverage unknown", text)
    assert.matches("main series on huge pages, so TLB misses do not look like a cache level",
                   text)
    assert.matches("TLB: no reach shown: at the largest size the 4 KiB series is within "
      .. "1.15x of the huge%-page one %(most [%d.]+x at [%dKMG]+%)", text)
    assert.matches("latency_4k_ns", lnuma.report.csv(result(no_l3)))
  end)

  it("marks the level in the picture", function()
    local svg = lnuma.report.svg(result(no_l3))
    assert.matches("L3 32M %(not distinct%)", svg)
    assert.matches("4 KiB pages", svg)
  end)
end)

describe("lnuma.bench.latency_curve", function()
  it("measures each size, smallest first, on huge pages and on 4 KiB pages", function()
    local r = assert(lnuma.bench.latency_curve(quick { sizes = { "1M", 4096, "64K" } }))
    assert.equal("latency_curve", r.benchmark)
    assert.same({ 4096, 65536, MiB }, { r.points[1].size, r.points[2].size, r.points[3].size })
    for _, p in ipairs(r.points) do assert.is_true(p.latency_ns > 0) end
    assert.equal(1.0, r.placement.fraction)
    assert.equal(1, r.main_series)
    assert.equal(r.points, r.series[1].points)
    if #r.series == 1 then
      -- No huge pages here: one 4 KiB series, and the result says so.
      assert.is_false(r.series[1].huge)
      assert.matches("no huge pages here", r.main_reason)
      assert.matches("latency curve on 4 KiB pages", r.warnings[1])
      return
    end
    assert.equal(2, #r.series)
    assert.is_truthy(r.series[1].huge == "thp" or r.series[1].huge == "2M")
    assert.is_false(r.series[2].huge)
    assert.same({ r.series[1].huge, false }, r.parameters.series)
    assert.matches("TLB misses do not look like a cache level", r.main_reason)
    for _, s in ipairs(r.series) do
      assert.equal(3, #s.points)
      assert.equal(1.0, s.placement.fraction)
      -- what it got: a fraction where the placement reads page sizes, else unknown
      assert.is_truthy(s.huge_fraction == nil or
                       (s.huge_fraction >= 0 and s.huge_fraction <= 1))
    end
    assert.is_table(r.levels)
    assert.is_table(r.indistinct)
    assert.is_table(r.tlb)
    assert.equal(3, r.tlb.compared)
    -- and the result survives JSON
    local back = lnuma.report.decode(lnuma.report.json(r))
    assert.equal(2, #back.series)
    assert.equal(r.main_reason, back.main_reason)
  end)

  it("measures one series where huge is given, and the series asked", function()
    local r = assert(lnuma.bench.latency_curve(quick { sizes = { 4096 }, huge = false }))
    assert.equal(1, #r.series)
    assert.is_false(r.series[1].huge)
    assert.matches("^4 KiB pages %(asked%)", r.main_reason)
    r = assert(lnuma.bench.latency_curve(quick { sizes = { 4096, 8192 },
                                                 series = { false, "none" } }))
    assert.equal(2, #r.series)
    assert.equal(2, #r.series[2].points)
  end)

  it("reads the system's transparent huge page mode", function()
    local mode = lnuma.bench.thp_mode()
    local f = io.open("/sys/kernel/mm/transparent_hugepage/enabled")
    if not f then
      assert.is_nil(mode)
      return
    end
    local line = f:read("l")
    f:close()
    assert.truthy(line:find("[" .. mode .. "]", 1, true))
  end)

  it("by default goes from 4 KiB to four times the last-level cache", function()
    local sizes = lnuma.bench.curve_sizes()
    assert.equal(4096, sizes[1])
    local llc = 0
    for _, c in ipairs(lnuma.topology().caches) do
      if c.type ~= "instruction" then llc = math.max(llc, c.size) end
    end
    assert.is_true(sizes[#sizes] >= math.max(4 * llc, 64 * MiB))
    for i = 2, #sizes do assert.equal(2 * sizes[i - 1], sizes[i]) end
  end)

  it("measures one size inside each level and one well beyond the last when sparse", function()
    local topo = assert(lnuma.topology { synthetic =
      "pack:1 l3:1(size=32MiB) l2:2(size=1MiB) l1:1(size=48KiB) core:1 pu:1" })
    assert.same({ 16 * KiB, 512 * KiB, 16 * MiB, 128 * MiB },
                lnuma.bench.curve_sizes(nil, { sparse = true, topology = topo }))
  end)

  it("rejects a single size, an empty list, and huge with series", function()
    assert.has_error(function() lnuma.bench.latency_curve { size = 4096 } end,
      "bad argument #1 to 'latency_curve' (unknown option 'size')")
    assert.has_error(function() lnuma.bench.latency_curve { sizes = {} } end,
      "bad argument #1 to 'latency_curve' (sizes: non-empty array of sizes expected)")
    assert.has_error(function() lnuma.bench.latency_curve { huge = "thp", series = { false } } end,
      "bad argument #1 to 'latency_curve' (series: give either huge (one series) or series)")
    assert.has_error(function() lnuma.bench.latency_curve { series = { "3M" } } end,
      "bad argument #1 to 'latency_curve' (series[1]: '3M' is not a page kind (expected "
      .. "\"thp\", \"2M\", \"1G\", \"none\", \"4K\", \"no\" or \"default\", in any case))")
    assert.has_error(function() lnuma.bench.latency_curve { series = { "thp", "default" } } end,
      "bad argument #1 to 'latency_curve' (series[2]: a series names its page kind (\"default\" "
      .. "leaves it to the system))")
    assert.has_error(function() lnuma.bench.curve_sizes(nil, { dense = true }) end,
      "bad argument #1 to 'curve_sizes' (unknown option 'dense')")
  end)
end)
