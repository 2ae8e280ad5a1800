-- Nanosecond timing with lnuma: the clock, a latency histogram, and the
-- benchmark harness comparing two ways to build a string.
-- Run: lua5.4 examples/timing.lua   (after `make`, from the repository root
-- with LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/?.so;;')
local lnuma = require "lnuma"
local clock = lnuma.clock

local info = clock.info()
print(("clock: %s at %d Hz (%s), now() costs %.1f ns from Lua, %.1f ns from C")
  :format(info.source, info.hz, info.frequency_source, info.cost_lua_ns, info.cost_c_ns))

-- Per-call latency into a histogram: record() allocates nothing.
local h = lnuma.histogram { lowest = 1, highest = 1000000000, precision = 3 }
local now = clock.now
for _ = 1, 100000 do
  local t0 = now()
  local s = 0
  for k = 1, 100 do s = s + k end
  h:record(now() - t0)
end
local p = h:percentiles { 50, 99, 99.9 }
print(("100 additions: p50 %d ns, p99 %d ns, p99.9 %d ns, max %d ns (%d samples)")
  :format(p[50], p[99], p[99.9], h:max(), h:count()))

-- The harness: warm-up, auto iterations, repetitions, loop cost subtracted.
local function concat()
  local t = {}
  for i = 1, 100 do t[i] = i end
  return table.concat(t)
end
local function append()
  local s = ""
  for i = 1, 100 do s = s .. i end
  return s
end
local opts = { min_time = 20000000, repetitions = 9 }
local a, b = lnuma.bench.run(concat, opts), lnuma.bench.run(append, opts)
local c = lnuma.bench.compare(a, b)
print(("table.concat %.0f ns, repeated .. %.0f ns per call: ratio %.2f, p = %.3g (%s)")
  :format(a.median, b.median, c.ratio, c.p_value,
    c.significant and "significant" or "not significant"))
