local lnuma = require "lnuma"
local clock = lnuma.clock

local function two_cpus()
  local topo = assert(lnuma.topology())
  local cpus = topo.allowed.cpus
  if #cpus < 2 then return nil end
  return { cpus[1], cpus[2] }
end

local function err_of(fn, ...)
  local ok, msg = pcall(fn, ...)
  assert.is_false(ok)
  return tostring(msg)
end

describe("lnuma.clock.skew", function()
  it("measures a matrix with a zero diagonal, antisymmetric within its uncertainty", function()
    local cpus = two_cpus()
    if not cpus then return pending("this process may use only one CPU") end
    local r = assert(clock.skew { cpus = cpus, tries = 200 })
    assert.same(cpus, r.cpus)
    assert.same(cpus, r.cpus_ran)
    assert.equal("clock.skew", r.benchmark)
    assert.equal(200, r.parameters.tries)
    for a = 1, 2 do
      assert.equal(0, r.offset_ns[a][a])
      assert.equal(0, r.uncertainty_ns[a][a])
      assert.equal(0, r.rtt_ns[a][a])
    end
    local ab, ba = r.offset_ns[1][2], r.offset_ns[2][1]
    local u = r.uncertainty_ns[1][2] + r.uncertainty_ns[2][1]
    assert.is_true(math.abs(ab + ba) <= u + 1e-6,
                   ("offsets %.1f and %.1f ns, uncertainty %.1f ns"):format(ab, ba, u))
    for a = 1, 2 do
      for b = 1, 2 do
        assert.is_true(r.uncertainty_ns[a][b] >= 0)
        assert.is_true(r.uncertainty_ticks[a][b] >= 0)
        if a ~= b then
          assert.is_true(r.rtt_ns[a][b] > 0)
          assert.is_true(r.rtt_median_ns[a][b] >= r.rtt_ns[a][b])
          -- the round trip bounds the interval: its width is at most the fastest trip
          assert.is_true(2 * r.uncertainty_ticks[a][b] <= r.rtt_ns[a][b] * r.clock.hz / 1e9 + 1)
        end
      end
    end
    assert.equal(1, #r.pairs)
    local p = r.pairs[1]
    assert.equal(cpus[1], p.a)
    assert.equal(cpus[2], p.b)
    -- both directions intersected: at least as tight as either
    assert.is_true(p.uncertainty_ns <= r.uncertainty_ns[1][2] + 1e-6 or not p.consistent)
    assert.is_true(r.max_uncertainty_ns >= 0)
    assert.is_true(r.rtt_stats.median > 0)
    assert.truthy(lnuma.report.json(r))
  end)

  it("gives offsets in ns and in counter ticks that agree", function()
    local cpus = two_cpus()
    if not cpus then return pending("this process may use only one CPU") end
    local r = assert(clock.skew { cpus = cpus, tries = 50 })
    local ns = 1e9 / r.clock.hz
    assert.near(r.offset_ticks[1][2] * ns, r.offset_ns[1][2], 1e-6)
    assert.near(r.uncertainty_ticks[2][1] * ns, r.uncertainty_ns[2][1], 1e-6)
  end)

  it("takes a cpulist", function()
    local cpus = two_cpus()
    if not cpus then return pending("this process may use only one CPU") end
    local r = assert(clock.skew { cpus = ("%d,%d"):format(cpus[1], cpus[2]), tries = 5 })
    assert.equal(2, #r.cpus)
  end)

  describe("bad arguments", function()
    it("names the option", function()
      assert.matches("bad argument #1 to 'skew' %(unknown option 'cpu'%)",
                     err_of(clock.skew, { cpu = 0 }))
      assert.matches("%(cpus: at least two CPUs%)", err_of(clock.skew, { cpus = { 0 } }))
      assert.matches("%(cpus: CPU 0 is listed twice%)", err_of(clock.skew, { cpus = { 0, 0 } }))
      assert.matches("%(cpus: element 2 is 99999, not a valid index",
                     err_of(clock.skew, { cpus = { 0, 99999 } }))
      assert.matches("%(tries: must be between 1 and 100000, got 0%)",
                     err_of(clock.skew, { tries = 0 }))
      assert.matches("%(tries: must be between 1 and 100000, got 100001%)",
                     err_of(clock.skew, { tries = 100001 }))
      assert.matches("%(tries: integer expected, got a fraction%)",
                     err_of(clock.skew, { tries = 0 / 0 }))
      assert.matches("table expected, got string", err_of(clock.skew, "0-1"))
    end)

    it("is bounded in the core binding too", function()
      local sk = lnuma.core.clock.skew
      assert.matches("%(cpus: 2 to 256 CPUs, not 300%)", err_of(sk, { cpus = "0-299" }))
      assert.matches("%(cpus: required%)", err_of(sk, {}))
      assert.matches("%(tries: must be between 1 and 100000, got 1000000%)",
                     err_of(sk, { cpus = "0-1", tries = 1000000 }))
    end)
  end)
end)

describe("lnuma.clock.drift", function()
  it("measures the rate against CLOCK_MONOTONIC_RAW with its uncertainty", function()
    local d = assert(clock.drift { duration = 50000000, samples = 11, threshold = 1000 })
    assert.equal("clock.drift", d.benchmark)
    assert.equal(11, d.samples)
    assert.is_true(d.duration_ns >= 50000000 and d.duration_ns < 5000000000)
    assert.is_true(d.uncertainty_ppm >= 0)
    assert.is_true(d.error_uncertainty_ns > 0)
    assert.equal("number", type(d.drift_ppm))
    assert.equal(1000, d.threshold_ns)
    if d.clock.source ~= "monotonic_raw" then
      -- the start-up calibration holds the clock within 100 ppm
      assert.is_true(math.abs(d.drift_ppm) < 100, ("drift %.3f ppm"):format(d.drift_ppm))
      assert.is_true(d.uncertainty_ppm > 0)
      -- when to recalibrate: the time the threshold allows at the worst rate
      local rate = math.abs(d.drift_ppm) + d.uncertainty_ppm
      local left = 1000 - math.abs(d.error_ns)
      if left <= 0 then
        assert.equal(0, d.recalibrate_after_ns)
      else
        assert.near(left / (rate * 1e-6), d.recalibrate_after_ns, left / (rate * 1e-6) * 1e-6 + 1)
      end
    else
      assert.equal(0, d.drift_ppm)
      assert.is_nil(d.recalibrate_after_ns)
    end
    assert.truthy(lnuma.report.json(d))
  end)

  describe("bad arguments", function()
    it("refuses durations outside 1 ms .. 1 h, NaN and fractions", function()
      assert.matches("%(duration: must be between 1000000 and 3600000000000 ns %(1 ms %.%. 1 h%), "
                     .. "got 3600000000001%)", err_of(clock.drift, { duration = 3600000000001 }))
      assert.matches("%(duration: must be between 1000000 and 3600000000000 ns %(1 ms %.%. 1 h%), "
                     .. "got 1e%+300%)", err_of(clock.drift, { duration = 1e300 }))
      assert.matches("%(duration: integer ns expected, got nan%)",
                     err_of(clock.drift, { duration = 0 / 0 }))
      assert.matches("%(duration: must be between", err_of(clock.drift, { duration = 999999 }))
      assert.matches("%(duration: integer ns expected, got 1000000%.5%)",
                     err_of(clock.drift, { duration = 1000000.5 }))
      assert.matches("%(threshold: must be between 1 and", err_of(clock.drift, { threshold = 0 }))
      assert.matches("%(samples: must be between 2 and 11, got 12%)",
                     err_of(clock.drift, { duration = 1000000, samples = 12 }))
      assert.matches("unknown option 'durations'", err_of(clock.drift, { durations = 1 }))
      assert.matches("%(duration: integer expected, got a fraction%)",
                     err_of(lnuma.core.clock.drift, { duration = 0 / 0 }))
      assert.matches("%(duration: must be between 1000000 and 3600000000000 ns",
                     err_of(lnuma.core.clock.drift, { duration = 3600000000001 }))
    end)
  end)
end)

describe("lnuma.clock.recalibrate", function()
  after_each(function() clock.recalibrate { stop = true } end)

  it("recalibrates in the background while now() stays monotonic", function()
    local st = assert(clock.recalibrate { every = 10000000 })
    assert.equal(10000000, st.every_ns)
    assert.equal(0, st.count)
    local now, prev, backwards, worst = clock.now, clock.now(), 0, 0
    local deadline = clock.monotonic_raw() + 300000000
    while clock.monotonic_raw() < deadline do
      for _ = 1, 1000 do
        local t = now()
        if t < prev then
          backwards = backwards + 1
          worst = math.max(worst, prev - t)
        end
        prev = t
      end
    end
    assert.equal(0, backwards, ("%d steps back, the largest %d ns; %s"):format(backwards, worst,
      require("lnuma.report").json(clock.recalibration())))
    local info = clock.info()
    assert.is_table(info.recalibration)
    assert.is_true(info.recalibration.count >= 1, "no recalibration in 300 ms")
    assert.is_true(info.recalibrations >= info.recalibration.count)
    if info.source ~= "monotonic_raw" then
      assert.is_true(math.abs(info.recalibration.last_error_ns) < 1000000)
    end
    local last = clock.recalibrate { stop = true }
    assert.is_true(last.count >= 1)
    assert.is_nil(clock.recalibration())
    assert.is_nil(clock.recalibrate { stop = true })
  end)

  it("restarts with a new period", function()
    clock.recalibrate { every = 20000000 }
    local st = clock.recalibrate { every = 10e9 }
    assert.equal(10000000000, st.every_ns)
    assert.equal(10000000000, clock.recalibration().every_ns)
  end)

  describe("bad arguments", function()
    it("names the option and the range", function()
      assert.matches("%(every: must be between 10000000 and 86400000000000 ns "
                     .. "%(10 ms %.%. 1 day%), "
                     .. "got 1%)", err_of(clock.recalibrate, { every = 1 }))
      assert.matches("%(every: must be between .*got inf%)",
                     err_of(clock.recalibrate, { every = math.huge }))
      assert.matches("%(every: integer ns expected, got nan%)",
                     err_of(clock.recalibrate, { every = 0 / 0 }))
      assert.matches("%(every: required", err_of(clock.recalibrate, {}))
      assert.matches("%(stop: give either every or stop, not both%)",
                     err_of(clock.recalibrate, { every = 10e9, stop = true }))
      assert.matches("unknown option 'evry'", err_of(clock.recalibrate, { evry = 1 }))
      assert.matches("%(every: must be between",
                     err_of(lnuma.core.clock.recalibrate, { every = -1 }))
      assert.is_nil(clock.recalibration())
    end)
  end)
end)
