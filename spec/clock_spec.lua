local lnuma = require "lnuma"
local clock = lnuma.clock

-- now() - CLOCK_MONOTONIC_RAW from the narrowest of several brackets
-- (raw, now, raw), so that a preemption between two reads does not count.
local function offset_vs_raw()
  local raw, now = clock.monotonic_raw, clock.now
  local best, off = math.huge, 0
  for _ = 1, 15 do
    local a = raw()
    local n = now()
    local b = raw()
    if b - a < best then best, off = b - a, n - (a + (b - a) // 2) end
  end
  return off
end

describe("lnuma.clock", function()
  it("reads integer nanoseconds", function()
    assert.equal("integer", math.type(clock.now()))
    assert.equal("integer", math.type(clock.ticks()))
    assert.equal("integer", math.type(clock.monotonic_raw()))
  end)

  it("tells the CPU time of the calling thread apart from elapsed time", function()
    local c0 = clock.thread_cpu()
    if not c0 then
      pending("no CLOCK_THREAD_CPUTIME_ID here")
      return
    end
    assert.equal("integer", math.type(c0))
    clock.sleep(20000000)
    assert.is_true(clock.thread_cpu() - c0 < 10000000)
  end)

  it("is monotonic over a million calls", function()
    local now = clock.now
    local prev, backwards = now(), 0
    for _ = 1, 1000000 do
      local t = now()
      if t < prev then backwards = backwards + 1 end
      prev = t
    end
    assert.equal(0, backwards)
  end)

  it("agrees with CLOCK_MONOTONIC_RAW over a 1 s sleep within 100 ppm", function()
    local o0, r0 = offset_vs_raw(), clock.monotonic_raw()
    clock.sleep(1000000000)
    local o1, r1 = offset_vs_raw(), clock.monotonic_raw()
    local ppm = (o1 - o0) / (r1 - r0) * 1e6
    assert.is_true(math.abs(ppm) < 100, ("drift of %.3f ppm"):format(ppm))
    -- and is on the same time line (aligned at calibration)
    assert.is_true(math.abs(o1) < 100000, ("offset of %d ns"):format(o1))
  end)

  it("converts ticks to ns with the frequency info() reports", function()
    local info = clock.info()
    assert.is_true(math.abs(clock.to_ns(info.hz) - 1000000000) <= 1000)
    assert.equal(0, clock.to_ns(0))
    assert.equal(-clock.to_ns(info.hz), clock.to_ns(-info.hz))
    local t0 = clock.ticks()
    clock.sleep(2000000)
    local ns = clock.to_ns(clock.ticks() - t0)
    assert.is_true(ns >= 2000000 and ns < 1000000000, tostring(ns))
  end)

  it("times a region with the fenced pair start/stop", function()
    local t0 = clock.start()
    clock.sleep(1000000)
    local ns = clock.stop(t0)
    assert.is_true(ns >= 1000000 and ns < 1000000000, tostring(ns))
    local t1 = clock.stop()
    assert.is_true(t1 > t0)
  end)

  it("describes its source, frequency and cost in info()", function()
    local info = clock.info()
    assert.is_truthy(({ tsc = true, cntvct = true, monotonic_raw = true })[info.source])
    assert.equal("integer", math.type(info.hz))
    assert.is_true(info.hz > 0)
    assert.is_truthy(({ calibration = true, cpuid_15h = true, hypervisor = true, kernel = true,
      cntfrq = true, definition = true })[info.frequency_source], info.frequency_source)
    assert.is_boolean(info.invariant)
    assert.is_string(info.reason)
    assert.is_true(info.cost_c_ns > 0 and info.cost_c_ns < 10000)
    assert.is_true(info.cost_lua_ns > 0 and info.cost_lua_ns < 10000)
    assert.is_true(info.resolution_ns > 0)
    assert.equal("ns", info.unit)
    if info.source == "tsc" then
      assert.is_true(info.invariant)
      assert.is_truthy(info.invariant_from)
    elseif info.source == "monotonic_raw" then
      assert.equal(1000000000, info.hz)
      assert.matches("CLOCK_MONOTONIC_RAW", info.reason)
    end
  end)

  it("uses the TSC where /proc/cpuinfo says it is invariant", function()
    local f = io.open("/proc/cpuinfo")
    local text = f and f:read("a") or ""
    if f then f:close() end
    local flags = text:match("flags%s*:([^\n]*)")
    if not flags or not flags:match(" tsc ") then
      pending("no x86 TSC flags in /proc/cpuinfo")
      return
    end
    local info = clock.info()
    if flags:match(" constant_tsc") and flags:match(" nonstop_tsc") then
      assert.equal("tsc", info.source)
    else
      assert.is_false(info.invariant)
      assert.equal("monotonic_raw", info.source)
      assert.matches("not invariant", info.reason)
    end
  end)

  it("calibrates on request and estimates its error", function()
    local before = clock.info().hz
    local ppm, info = clock.calibrate { duration = 50000000 }
    assert.is_number(ppm)
    assert.is_true(ppm >= 0 and ppm < 100, tostring(ppm))
    assert.is_true(math.abs(info.hz - before) / before < 1e-3)
    if info.source ~= "monotonic_raw" then
      assert.equal(ppm, info.error_ppm)
      assert.is_true(info.calibration_ns >= 50000000)
    end
    assert.is_number(info.cost_lua_ns)
    assert.is_true(math.abs(offset_vs_raw()) < 100000)
  end)

  describe("bad arguments", function()
    it("rejects non-positive and fractional durations, naming the option", function()
      assert.error_matches(function() clock.calibrate { duration = 0 } end,
        "duration: must be a positive number of ns, got 0")
      assert.error_matches(function() clock.calibrate { duration = -1 } end, "duration")
      assert.error_matches(function() clock.calibrate { duration = 1.5 } end,
        "duration: integer expected")
      assert.error_matches(function() clock.calibrate { duration = 10 } end,
        "duration: .*outside 1 ms")
      assert.error_matches(function() clock.calibrate { durations = 10 } end,
        "unknown option 'durations'")
      assert.error_matches(function() clock.calibrate(5) end, "table expected")
    end)
    it("rejects bad ticks and sleeps", function()
      assert.error_matches(function() clock.to_ns("x") end, "number expected")
      assert.error_matches(function() clock.to_ns(1.5) end, "integer representation")
      assert.error_matches(function() clock.stop("x") end, "number expected")
      assert.error_matches(function() clock.sleep(-1) end, "must not be negative")
      assert.error_matches(function() clock.sleep(0.5) end, "integer nanoseconds expected")
    end)
  end)
end)
