-- make bench: the Lua harness timing the clock and the histogram, as a
-- cross-check of spec/bench/clock.c's plain loops (the harness subtracts the
-- loop's own cost, so its figures are net).  Lines: "name value unit".
local lnuma = require "lnuma"
local bench = lnuma.bench

local opts = { min_time = 20000000, repetitions = 9 }
local now, raw = lnuma.clock.now, lnuma.clock.monotonic_raw
local h = lnuma.histogram()
local i = 0

local r_now = bench.run(function() now() end, opts)
local r_raw = bench.run(function() raw() end, opts)
local r_rec = bench.run(function() i = i + 1; h:record(i) end, opts)

local function line(name, r, what)
  print(("%s %.2f ns (%s; median of %d repetitions of %d calls, cv %.3f, loop %.2f ns "
    .. "subtracted; CPU time %.2f ns, on CPU %.0f%% of the time)"):format(name, r.median, what,
    r.repetitions, r.iterations, r.cv or 0, r.overhead_ns, r.cpu_median or -1,
    (r.on_cpu or 0) * 100))
end

line("harness.lua_now", r_now, "lnuma.clock.now()")
line("harness.lua_monotonic_raw", r_raw, "clock_gettime(CLOCK_MONOTONIC_RAW) from Lua")
line("harness.lua_record", r_rec, "h:record(i)")
local c = bench.compare(r_raw, r_now)
print(("harness.now_over_monotonic_raw %.3f ratio (p = %.2g, %s)"):format(c.ratio, c.p_value,
  c.significant and "significant" or "not significant"))
print(("harness.clock %s at %d Hz (%s), cost from Lua %.2f ns, from C %.2f ns"):format(
  r_now.clock.source, r_now.clock.hz, r_now.clock.frequency_source, r_now.clock.cost_lua_ns,
  r_now.clock.cost_c_ns))
