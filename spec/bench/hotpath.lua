-- make bench: the hot methods and the typed-range methods, as ratios measured
-- in one run (issue 14).  Lines: "name value unit (goal ...)".
--
--  - buf:get("u64", i), buf:set("u64", i, v), pool:get() + pool:put(o),
--    arena:alloc(64) (+ a reset per 1000) against a do-nothing method of a C
--    userdata called the same way (spec/bench/mod/hotpath_ref.c, loaded as a
--    user's module would be): ratio = lnuma / reference, goal at most the
--    figure issue 14 measured (get 1.20, set 1.29, pool 1.10) or 2 (arena).
--    The reference checks its arguments with the auxiliary library, as a
--    C method is written (luaL_checkudata ...).  The ratio over a bare method
--    that does not look at its arguments is printed beside it: it is the
--    cost of the Lua C API itself (here reading the arguments and checking
--    the self by its metatable cost as much as the call), so no checked
--    method comes near 1.2 times a bare one;
--  - buf:sum/min/max, buf:fill, buf:copy and h:record_many over a buffer
--    four times the size of the last-level cache (at least 256 MiB): GB/s
--    against plain C loops over the same memory (a u64 sum for reads, a u64
--    store loop and memset for fills, memcpy for copies): goal >= 0.9.
--
-- bench: realtime (spec/bench/run: both sides alike, at one SCHED_RR priority)
-- Rounds alternate the reference and lnuma (the order flips every round);
-- a figure is the best round (the least disturbed on a shared machine), and
-- the median of the per-round ratios is printed beside it.
local lnuma = require "lnuma"
local ref = require "hotpath_ref"

local now = lnuma.clock.monotonic_raw
local ROUNDS = 15

local function median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local n = #s
  return n % 2 == 1 and s[(n + 1) // 2] or (s[n // 2] + s[n // 2 + 1]) / 2
end

-- Times fa and fb (each returns nothing; each runs `units` units of work)
-- over ROUNDS alternating rounds; returns best ns per unit of each and the
-- median of the per-round ratios a / b.
local function duel(fa, fb, units)
  local best_a, best_b, ratios = math.huge, math.huge, {}
  fa(); fb() -- warm-up
  for r = 1, ROUNDS do
    local ta, tb
    local function run_a() local t0 = now(); fa(); ta = (now() - t0) / units end
    local function run_b() local t0 = now(); fb(); tb = (now() - t0) / units end
    if r % 2 == 1 then run_a(); run_b() else run_b(); run_a() end
    best_a, best_b = math.min(best_a, ta), math.min(best_b, tb)
    ratios[#ratios + 1] = ta / tb
  end
  return best_a, best_b, median(ratios)
end

local function verdict(ratio, goal, at_most)
  local met = at_most and ratio <= goal or (not at_most and ratio >= goal)
  return ("goal %s %.2f: %s"):format(at_most and "<=" or ">=", goal, met and "met" or "NOT met")
end

print(("# processor: %s"):format((io.open("/proc/cpuinfo"):read("a"):match(
  "model name%s*:%s*([^\n]+)") or "unknown")))

-- ---- hot methods against do-nothing C methods ---------------------------------------

-- Times the functions of fs (each runs `units` units of work) over ROUNDS
-- rounds, the order rotating every round; returns the best ns per unit of
-- each and, for each k > 1, the median of the per-round ratios fs[1] / fs[k].
local function rounds(fs, units)
  local best, ratios = {}, {}
  for k, f in ipairs(fs) do f(); best[k], ratios[k] = math.huge, {} end -- warm-up
  for r = 1, ROUNDS do
    local t = {}
    for j = 0, #fs - 1 do
      local k = (r + j) % #fs + 1
      local t0 = now()
      fs[k]()
      t[k] = (now() - t0) / units
      best[k] = math.min(best[k], t[k])
    end
    for k = 2, #fs do ratios[k][#ratios[k] + 1] = t[1] / t[k] end
  end
  local med = {}
  for k = 2, #fs do med[k] = median(ratios[k]) end
  return best, med
end

local CALLS = 1024 * 64
local o, floor, chk = ref.new(), ref.floor(), ref.checked()
local buf <close> = assert(lnuma.alloc(8192))
local pool <close> = assert(lnuma.pool{size = 64, count = 16})
local arena <close> = assert(lnuma.arena{size = 64 * 1024})

-- The same loop over an object x: buf, the bare reference o, the checked one.
local function gets(x) return function()
  for _ = 1, CALLS // 1024 do for i = 0, 1023 do x:get("u64", i) end end
end end
local function sets(x) return function()
  for _ = 1, CALLS // 1024 do for i = 0, 1023 do x:set("u64", i, i) end end
end end
local function allocs(x) return function()
  for _ = 1, CALLS // 1000 do for _ = 1, 1000 do x:alloc(64) end x:reset() end
end end

local hot = {
  -- name, goal (at most, over the checked reference), lnuma, bare, checked
  { "buf_get", 1.20, gets(buf), gets(o), gets(chk) },
  { "buf_set", 1.29, sets(buf), sets(o), sets(chk) },
  { "pool_get_put", 1.10, function()
      for _ = 1, CALLS do local x = pool:get(); pool:put(x) end
    end, function()
      for _ = 1, CALLS do local x = o:get(); o:put(x) end
    end, function()
      for _ = 1, CALLS do local x = chk:take(); chk:put(x) end
    end },
  { "arena_alloc", 2.0, allocs(arena), allocs(o), allocs(chk) },
  { "arena_get", 1.20, function()
      arena:reset(); arena:alloc(8192)
      for _ = 1, CALLS // 1024 do for i = 0, 1023 do arena:get("u64", i * 8) end end
    end, gets(o), gets(chk) },
}

print(("# hot methods: %d calls a round, best of %d rounds in rotating order, ns per call;"
  .. " references: a do-nothing method that checks its arguments with the auxiliary"
  .. " library as a new user writes one (luaL_checkudata, luaL_checkstring, ...: the goal's"
  .. " reference), and a bare one that does not even look at them (the cost of the call"
  .. " itself, for scale)"):format(CALLS, ROUNDS))
for _, h in ipairs(hot) do
  local name, goal = h[1], h[2]
  local best, med = rounds({ h[3], h[5], h[4] }, CALLS)
  collectgarbage()
  print(("hotpath.%s %.2f ns (checked do-nothing %.2f ns, bare do-nothing %.2f ns)")
    :format(name, best[1], best[2], best[3]))
  print(("hotpath.ratio.%s %.2f x (over the checked do-nothing; %s; median of round ratios"
    .. " %.2f)"):format(name, best[1] / best[2], verdict(best[1] / best[2], goal, true), med[2]))
  print(("hotpath.ratio_bare.%s %.2f x (over the bare do-nothing, no goal; median %.2f)")
    :format(name, best[1] / best[3], med[3]))
end
do -- the floor of a checked get, and the Buffer-returning alloc, for scale
  local best = rounds({ gets(buf), function()
    for _ = 1, CALLS // 1024 do for i = 0, 1023 do floor:get("u64", i) end end
  end }, CALLS)
  print(("hotpath.ratio.buf_get_over_floor %.2f x (no goal: the floor is a get that checks its"
    .. " self by the metatable in an upvalue, reads two arguments, pushes an integer: %.2f ns)")
    :format(best[1] / best[2], best[2]))
  local n = CALLS // 1000 // 4 * 1000
  best = rounds({ function()
    for _ = 1, CALLS // 1000 // 4 do for _ = 1, 1000 do arena:alloc_buffer(64) end arena:reset() end
  end, function()
    for _ = 1, CALLS // 1000 // 4 do for _ = 1, 1000 do chk:alloc(64) end chk:reset() end
  end }, n)
  print(("hotpath.arena_alloc_buffer %.2f ns (no goal: the Buffer-returning alloc, for scale;"
    .. " %.2f x the checked do-nothing)"):format(best[1], best[1] / best[2]))
end

-- ---- typed ranges against C loops at memory size ------------------------------------

local function llc_bytes()
  local biggest = 0
  for i = 0, 9 do
    local f = io.open(("/sys/devices/system/cpu/cpu0/cache/index%d/size"):format(i))
    if f then
      local n, unit = f:read("a"):match("(%d+)(%a?)")
      f:close()
      local v = tonumber(n) * ({ K = 1024, M = 1024 * 1024 })[unit] or 1
      if v > biggest then biggest = v end
    end
  end
  return biggest
end

local SIZE = math.max(256 << 20, 4 * llc_bytes())
local N = SIZE // 8
local src <close> = assert(lnuma.alloc(SIZE, {populate = true}))
local dst <close> = assert(lnuma.alloc(SIZE, {populate = true}))
local sa, da = src:address(), dst:address()
src:fill("u64", 3)
local h = lnuma.histogram()

local bulk = {
  -- name, lnuma, reference, reference name
  { "sum_u64", function() src:sum("u64") end, function() ref.sum_u64(sa, N) end, "u64 sum loop" },
  { "sum_i32", function() src:sum("i32") end, function() ref.sum_u64(sa, N) end, "u64 sum loop" },
  { "sum_f64", function() src:sum("f64") end, function() ref.sum_u64(sa, N) end, "u64 sum loop" },
  { "min_u64", function() src:min("u64") end, function() ref.sum_u64(sa, N) end, "u64 sum loop" },
  { "max_f64", function() src:max("f64") end, function() ref.sum_u64(sa, N) end, "u64 sum loop" },
  { "min_u8", function() src:min("u8") end, function() ref.sum_u64(sa, N) end, "u64 sum loop" },
  { "sum_u8", function() src:sum("u8") end, function() ref.sum_u64(sa, N) end, "u64 sum loop" },
  { "fill_u64", function() dst:fill("u64", 7) end, function() ref.fill_u64(da, N, 7) end,
    "u64 store loop" },
  { "fill_u64_vs_memset", function() dst:fill("u64", 7) end,
    function() ref.memset(da, 7, SIZE) end, "memset" },
  { "fill_u8", function() dst:fill("u8", 7) end, function() ref.memset(da, 7, SIZE) end,
    "memset" },
  { "copy", function() dst:copy(src) end, function() ref.memcpy(da, sa, SIZE) end, "memcpy" },
  { "record_many_u32", function() h:reset(); h:record_many(src, "u32") end,
    function() ref.sum_u64(sa, N) end, "u64 sum loop" },
  { "record_many_u64", function() h:reset(); h:record_many(src, "u64") end,
    function() ref.sum_u64(sa, N) end, "u64 sum loop" },
}

print(("# typed ranges over %d MiB (buffers populated, default policy), GB/s, best of %d"
  .. " alternating rounds"):format(SIZE >> 20, ROUNDS))
for _, b in ipairs(bulk) do
  local name, fa, fb, what = b[1], b[2], b[3], b[4]
  local a, r, med = duel(fa, fb, 1)
  local ga, gr = SIZE / a, SIZE / r
  print(("hotpath.bulk.%s %.2f GB/s (reference, %s: %.2f GB/s)"):format(name, ga, what, gr))
  print(("hotpath.bulk.ratio.%s %.2f x (%s; median of round ratios %.2f)"):format(name, ga / gr,
    verdict(ga / gr, 0.9, false), 1 / med))
end

-- record_many on data shaped like latencies, in ns per element, for scale
-- (no goal): "crowded", nine values in ten in one bucket and the rest over
-- 300 others; "spread", every value in one of 300 buckets.  The rows above
-- see one bucket in runs, which costs an add per sixteen; here the counting
-- of each element is timed too.  The pattern (1 MiB, from a fixed seed) is
-- copied over the whole of dst.
do
  local PATTERN = 1 << 20
  local function shaped(crowded)
    local pattern <close> = assert(lnuma.alloc(PATTERN))
    local x = 12345
    for i = 0, PATTERN // 4 - 1 do
      x = (x * 1103515245 + 12345) % 2147483648
      local r = x >> 8
      local v
      if crowded then v = (r % 10 == 0) and 101 + (r // 10) % 300 or 100 else v = 100 + r % 300 end
      pattern:set("u32", i, v)
    end
    for off = 0, SIZE - 1, PATTERN do dst:copy(pattern, off, 0, math.min(PATTERN, SIZE - off)) end
  end
  for _, shape in ipairs{ "crowded", "spread" } do
    shaped(shape == "crowded")
    local a, r = duel(function() h:reset(); h:record_many(dst, "u32") end,
      function() ref.sum_u64(da, N) end, SIZE // 4)
    print(("hotpath.record_many_u32_%s %.3f ns/element (no goal: %s data, for scale;"
      .. " the u64 sum loop over the same bytes: %.3f ns per 4 bytes)"):format(shape, a, shape, r))
  end
end

-- The loop record_many replaces, for scale (a small range: it is slow).
do
  local small <close> = assert(lnuma.alloc(4096 * 4))
  small:fill("u32", 1000)
  local M = 4096
  local a, r = duel(function() h:record_many(small, "u32") end, function()
    for i = 0, M - 1 do h:record(small:get("u32", i)) end
  end, M)
  print(("hotpath.record_many_u32 %.2f ns/element (the Lua loop h:record(buf:get(...)): %.2f;"
    .. " %.0f times faster)"):format(a, r, r / a))
end
