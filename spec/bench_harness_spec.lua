local lnuma = require "lnuma"
local bench = lnuma.bench

-- Busy-waits ns nanoseconds on the clock.
local function spin(ns)
  local now = lnuma.clock.now
  local t_end = now() + ns
  while now() < t_end do end
end

describe("lnuma.bench.run", function()
  it("times a 20 us spin to the right order of magnitude, with a CV", function()
    local r = bench.run(function() spin(20000) end,
      { min_time = 2000000, repetitions = 5, warmup = 0 })
    assert.equal("ns", r.unit)
    -- the least disturbed repetition (a busy machine stretches the others)
    assert.is_true(r.min >= 19000 and r.min < 200000, tostring(r.min))
    assert.is_true(r.median >= 19000, tostring(r.median))
    assert.is_true(r.min <= r.median and r.median <= r.max)
    assert.is_number(r.cv)
    assert.is_true(r.cv >= 0)
    assert.equal(5, r.repetitions)
    assert.equal(5, #r.samples)
    assert.is_true(r.iterations >= 1)
    -- a repetition lasts about min_time: the iterations were scaled up to it
    assert.is_true(r.histogram.max >= 2000000 * 0.2, tostring(r.histogram.max))
  end)

  it("times a 1 ms sleep to the right order of magnitude", function()
    local r = bench.run(function() lnuma.clock.sleep(1000000) end,
      { min_time = 3000000, repetitions = 3, warmup = 0 })
    assert.is_true(r.median >= 1000000 and r.median < 10000000, tostring(r.median))
    assert.equal(3, r.histogram.count)
  end)

  it("subtracts the loop's own cost: an empty function costs about nothing", function()
    local r = bench.run(function() end, { min_time = 2000000, repetitions = 9 })
    assert.is_true(r.overhead_ns > 0)
    -- without the subtraction every sample would be about overhead_ns
    assert.is_true(r.min < r.overhead_ns / 2, ("min %g, loop %g"):format(r.min, r.overhead_ns))
  end)

  it("reports the clock, the CPU and what it did with the collector", function()
    local r = bench.run(function() end, { min_time = 1000000, repetitions = 2 })
    assert.is_string(r.clock.source)
    assert.is_number(r.clock.cost_lua_ns)
    assert.equal("integer", math.type(r.cpu))
    assert.is_false(r.pinned)
    assert.equal("stop", r.gc)
    assert.equal("integer", math.type(r.iterations))
    assert.is_true(r.elapsed_ns > 0)
    assert.equal(2, r.histogram.count)
    assert.matches("ns per repetition", r.histogram.unit)
  end)

  it("says how much of the run the thread spent on a CPU, and warns when little", function()
    local r = bench.run(function() spin(2000) end, { min_time = 2000000, repetitions = 3 })
    if not lnuma.clock.thread_cpu() then
      pending("no CLOCK_THREAD_CPUTIME_ID here")
      return
    end
    assert.is_true(r.on_cpu > 0 and r.on_cpu <= 1, tostring(r.on_cpu))
    assert.is_true(r.cpu_median >= 0 and r.cpu_median <= r.median * 1.5 + 100)
    if r.on_cpu < 0.95 then
      assert.matches("off its CPU", r.warning)
    else
      assert.is_nil(r.warning)
    end
    -- a sleeping function is off its CPU nearly all the time
    local s = bench.run(function() lnuma.clock.sleep(1000000) end,
      { min_time = 2000000, repetitions = 2, warmup = 0 })
    assert.is_true(s.on_cpu < 0.6, tostring(s.on_cpu))
    assert.matches("off its CPU", s.warning)
    assert.is_true(s.cpu_median < s.median / 2)
  end)

  it("pins to a CPU for the run and restores the binding after", function()
    local before = lnuma.binding().cpus
    local cpu = before[#before]
    local r = bench.run(function() end, { min_time = 1000000, repetitions = 2, cpu = cpu })
    assert.is_true(r.pinned)
    assert.equal(cpu, r.cpu)
    assert.same(before, lnuma.binding().cpus)
  end)

  it("stops the collector during the run and restarts it after", function()
    local running
    bench.run(function() running = collectgarbage("isrunning") end,
      { min_time = 1000000, repetitions = 2 })
    assert.is_false(running)
    assert.is_true(collectgarbage("isrunning"))
    bench.run(function() running = collectgarbage("isrunning") end,
      { min_time = 1000000, repetitions = 2, gc = "keep" })
    assert.is_true(running)
  end)

  it("puts things back when the function raises", function()
    assert.error_matches(function()
      bench.run(function() error("boom") end, { min_time = 1000000 })
    end, "boom")
    assert.is_true(collectgarbage("isrunning"))
  end)


  describe("bad arguments", function()
    it("rejects a non-function", function()
      assert.has_error(function() bench.run(42) end,
        "bad argument #1 to 'run' (function expected, got number)")
      assert.error_matches(function() bench.run() end, "function expected, got nil")
    end)
    it("rejects non-positive durations and other bad options, naming them", function()
      local f = function() end
      assert.error_matches(function() bench.run(f, { min_time = 0 }) end,
        "min_time: must be positive, got 0")
      assert.error_matches(function() bench.run(f, { min_time = -5 }) end, "min_time")
      assert.error_matches(function() bench.run(f, { min_time = 0.5 }) end,
        "min_time: integer nanoseconds expected")
      assert.error_matches(function() bench.run(f, { warmup = -1 }) end,
        "warmup: must be zero or more")
      assert.error_matches(function() bench.run(f, { repetitions = 0 }) end, "repetitions")
      assert.error_matches(function() bench.run(f, { gc = "off" }) end, "gc: invalid value 'off'")
      assert.error_matches(function() bench.run(f, { cpu = -1 }) end, "cpu: CPU index expected")
      assert.error_matches(function() bench.run(f, { cpu = 8000 }) end,
        "bad argument #2 to 'run' %(cpu: CPU 8000 does not exist")
      assert.error_matches(function() bench.run(f, { mintime = 5 }) end,
        "unknown option 'mintime'")
      assert.error_matches(function() bench.run(f, 5) end, "options table expected")
    end)
  end)
end)

describe("lnuma.bench.compare", function()
  local same = { 10, 11, 12, 10, 11, 12, 10, 11, 12, 11 }
  local slower = { 20, 21, 22, 20, 21, 22, 20, 21, 22, 21 }

  it("finds no difference between identical samples", function()
    local c = bench.compare(same, same)
    assert.equal(1, c.ratio)
    assert.is_false(c.significant)
    assert.is_true(c.p_value > 0.5)
  end)

  it("finds clearly different samples significantly different", function()
    local c = bench.compare(same, slower)
    assert.near(21 / 11, c.ratio, 1e-12) -- median(b) / median(a)
    assert.is_true(c.significant)
    assert.is_true(c.p_value < 0.001, tostring(c.p_value))
    assert.is_nil(c.warning)
  end)

  it("computes the U test with tie and continuity correction", function()
    -- By hand (the formula of scipy's mannwhitneyu, method="asymptotic"):
    -- ranks of a = 1, 2, 3.5, 5.5, 7.5 -> U = 19.5 - 15 = 4.5; mu = 15;
    -- three ties of 2: var = 30/12 * (12 - 18/110); z = (10.5 - 0.5)/sqrt(var)
    -- = 1.83832; p = erfc(z/sqrt 2) = 0.066015
    local u, z, p = bench.mann_whitney({ 1, 2, 3, 4, 5 }, { 3, 4, 5, 6, 7, 8 })
    assert.equal(4.5, u)
    assert.near(-1.83832, z, 1e-5)
    assert.near(0.066015, p, 1e-5)
  end)

  it("compares two run results, with a warning for few samples", function()
    local fast = bench.run(function() end, { min_time = 1000000, repetitions = 3 })
    local slow = bench.run(function() spin(5000) end, { min_time = 1000000, repetitions = 3 })
    local c = bench.compare(fast, slow)
    assert.is_true(c.ratio > 1)
    assert.matches("few samples", c.warning)
    assert.equal(3, c.n_a)
  end)

  it("treats all-equal samples as no difference", function()
    local c = bench.compare({ 5, 5, 5 }, { 5, 5, 5 })
    assert.equal(1, c.p_value)
    assert.is_false(c.significant)
  end)

  describe("bad arguments", function()
    it("rejects what is not samples", function()
      assert.error_matches(function() bench.compare(nil, same) end,
        "bad argument #1 to 'compare' %(result table or array of numbers expected")
      assert.error_matches(function() bench.compare(same, { 1 }) end,
        "bad argument #2 to 'compare' %(at least 2 samples needed, got 1%)")
      assert.error_matches(function() bench.compare(same, { 1, "x" }) end, "sample 2 is x")
      assert.error_matches(function() bench.compare(same, same, { alpha = 2 }) end, "alpha")
      assert.error_matches(function() bench.compare(same, same, { alpa = 0.1 }) end,
        "unknown option 'alpa'")
    end)
  end)
end)

describe("examples/timing.lua", function()
  it("runs and prints the clock, the percentiles and the comparison", function()
    local build = os.getenv("LNUMA_BUILD") or "build"
    local cmd = ("LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='%s/?.so;;' lua5.4 "
      .. "examples/timing.lua 2>&1"):format(build)
    local p = assert(io.popen(cmd))
    local out = p:read("a")
    assert.is_true(p:close(), out)
    assert.matches("clock: %a+ at %d+ Hz", out)
    assert.matches("p99%.9 %d+ ns", out)
    assert.matches("ratio [%d.]+, p = ", out)
  end)
end)
