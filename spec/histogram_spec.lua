local lnuma = require "lnuma"

-- reported is an upper bound of exact within the stated precision
local function within(reported, exact, precision)
  return reported >= exact and (reported - exact) <= exact / 10 ^ precision
end

describe("lnuma.histogram", function()
  it("keeps percentiles of uniform 1..1e6 within the stated precision", function()
    for precision = 1, 5 do
      local h = lnuma.histogram { lowest = 1, highest = 3600000000000, precision = precision }
      for v = 1, 1000000 do h:record(v) end
      assert.equal(1000000, h:count())
      for _, p in ipairs { 1, 25, 50, 90, 99, 99.9, 99.99 } do
        local exact = math.floor(p * 10000 + 0.5)
        local got = h:percentile(p)
        assert.equal("integer", math.type(got))
        assert.is_true(within(got, exact, precision),
          ("precision %d: p%g = %d, exact %d"):format(precision, p, got, exact))
      end
      assert.equal(1, h:min())
      assert.equal(1000000, h:max())
      assert.near(500000.5, h:mean(), 1e-6)
      assert.near(math.sqrt((1e12 - 1) / 12), h:stddev(), 1e-3)
    end
  end)

  it("reports a constant exactly", function()
    local h = lnuma.histogram { precision = 2 }
    h:record(4242, 1000)
    local p = h:percentiles { 0, 50, 99, 99.9, 100 }
    for _, q in ipairs { 0, 50, 99, 99.9, 100 } do assert.equal(4242, p[q]) end
    assert.equal(4242, h:min())
    assert.equal(4242, h:max())
    assert.equal(4242.0, h:mean())
    assert.equal(0.0, h:stddev())
  end)

  it("splits a two-point mix at its weight", function()
    local h = lnuma.histogram { precision = 3 }
    h:record(100, 900)
    h:record(10000, 100)
    local p = h:percentiles { 50, 90, 90.1, 99.9 }
    assert.equal(100, p[50])
    assert.equal(100, p[90])
    assert.is_true(within(p[90.1], 10000, 3))
    assert.is_true(within(p[99.9], 10000, 3))
    assert.near(1090, h:mean(), 1e-9)
    assert.near(2970, h:stddev(), 1e-6)
  end)

  it("merges into the histogram of both", function()
    local a, b, both = lnuma.histogram(), lnuma.histogram(), lnuma.histogram()
    for i = 1, 20000 do
      local v = (i * 7919) % 100003 + 1
      if i % 3 == 0 then b:record(v * 10) else a:record(v) end
      both:record(i % 3 == 0 and v * 10 or v)
    end
    assert.equal(a, a:merge(b))
    assert.equal(both:count(), a:count())
    assert.equal(both:min(), a:min())
    assert.equal(both:max(), a:max())
    assert.near(both:mean(), a:mean(), 1e-6)
    assert.near(both:stddev(), a:stddev(), 1e-6 * both:stddev())
    assert.same(both:percentiles { 1, 50, 90, 99, 99.9 }, a:percentiles { 1, 50, 90, 99, 99.9 })
    assert.same(both:export().buckets, a:export().buckets)
  end)

  it("counts values out of range instead of dropping them", function()
    local h = lnuma.histogram { lowest = 100, highest = 1000 }
    h:record(5, 2)
    h:record(500, 4)
    h:record(100000, 3)
    assert.equal(9, h:count())
    assert.equal(2, h:underflow())
    assert.equal(3, h:overflow())
    assert.equal(5, h:min())
    assert.equal(100000, h:max())
    assert.equal(100000, h:percentile(99))
    local e = h:export()
    assert.equal(2, e.underflow)
    assert.equal(3, e.overflow)
    assert.matches("underflow 2, overflow 3", tostring(h))
  end)

  it("iterates over its non-empty buckets in order", function()
    local h = lnuma.histogram { precision = 2 }
    for v = 1, 5000, 7 do h:record(v) end
    local total, prev = 0, 0
    for lo, hi, n in h:buckets() do
      assert.is_true(lo > prev and hi >= lo and n > 0)
      total, prev = total + n, hi
    end
    assert.equal(h:count(), total)
  end)

  it("exports a plain table for JSON", function()
    local h = lnuma.histogram { unit = "cycles" }
    for v = 1, 100 do h:record(v) end
    local e = h:export()
    assert.equal("cycles", e.unit)
    assert.equal(100, e.count)
    assert.equal(1, e.lowest)
    assert.equal(3, e.precision)
    assert.equal(1, e.min)
    assert.equal(100, e.max)
    assert.equal(50, e.percentiles[1].percentile)
    assert.equal(50, e.percentiles[1].value)
    assert.equal(100, e.buckets[#e.buckets].highest)
    for k, v in pairs(e) do
      assert.is_true(type(v) ~= "userdata" and type(v) ~= "function", k)
    end
    local ok, json = pcall(require, "dkjson")
    if ok then assert.matches('"count":100', json.encode(e)) end
  end)

  it("corrects for coordinated omission as recording the missed samples does", function()
    -- A loop meant to sample every 1000 ns, stalled once for 5500 ns: the
    -- samples it missed would have seen 4500, 3500, 2500 and 1500 ns.
    local fast, slow = lnuma.histogram(), lnuma.histogram()
    for _, h in ipairs({ fast, slow }) do
      for _ = 1, 96 do h:record(200) end
    end
    fast:record_corrected(5500, 1000, 2)
    for _, v in ipairs({ 5500, 4500, 3500, 2500, 1500 }) do slow:record(v, 2) end
    assert.equal(106, fast:count())
    assert.same(slow:export(), fast:export())
    fast:record_corrected(999, 1000) -- within the interval: the value alone
    fast:record_corrected(70, 0)     -- no interval: the value alone
    assert.equal(108, fast:count())
    -- A stall of a million intervals costs a pass over the buckets, not a million records.
    local h = lnuma.histogram()
    h:record_corrected(10 ^ 12 // 1, 10 ^ 6 // 1)
    assert.equal(10 ^ 6 // 1, h:count())
    assert.equal(10 ^ 6 // 1, h:min())
    assert.near(5.000005e11, h:mean(), 1)
  end)

  it("prints its percentile distribution as HdrHistogram does, at Histogram:percentile's values",
     function()
    local h = lnuma.histogram { lowest = 10, highest = 100000 }
    h:record(3, 5)       -- underflow
    for v = 10, 20000, 7 do h:record(v) end
    h:record(900000, 4)  -- overflow
    local text = lnuma.report.distribution(h)
    local lines = {}
    for line in text:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.matches("^%s+Value%s+Percentile%s+TotalCount%s+1/%(1%-Percentile%)$", lines[1])
    local rows, last = {}, nil
    for _, line in ipairs(lines) do
      local v, f, n = line:match("^%s*([%d.]+) ([%d.]+)%s+(%d+)")
      if v then
        rows[#rows + 1] = { tonumber(v), tonumber(f), tonumber(n) }
        last = line
      end
    end
    assert.is_true(#rows > 20)
    for i, r in ipairs(rows) do
      assert.equal(h:percentile(r[2] * 100), r[1], ("row %d, %.6f%%"):format(i, r[2] * 100))
      if i > 1 then assert.is_true(r[2] > rows[i - 1][2] and r[3] >= rows[i - 1][3]) end
    end
    assert.same({ 3, 0 }, { rows[1][1], rows[1][2] })
    assert.same({ 0.1, 0.5 }, { rows[2][2], rows[6][2] })   -- 10% steps to the half,
    assert.near(0.55, rows[7][2], 1e-12)                    -- then 5%, then 2.5%, ...
    assert.same({ 900000, 1, h:count() }, rows[#rows])
    assert.matches("^%s+900000%.000 1%.000000000000%s+%d+$", last) -- no 1/(1-1) column
    assert.matches("#[Mean    = ", text, 1, true)
    assert.matches(("Total count    = %12d]"):format(h:count()), text, 1, true)
    assert.matches("Underflow =          5, Overflow       =            4]", text, 1, true)
    -- The export (a result's `histogram` field) gives the same; CSV the same rows.
    assert.equal(text, lnuma.report.distribution(h:export()))
    local csv = lnuma.report.distribution(h, { format = "csv", scale = 1000 })
    assert.matches('^"Value","Percentile","TotalCount","1/%(1%-Percentile%)"\n'
                   .. "0%.003,0%.0+,5,1%.00\n", csv)
    assert.matches("\n900%.000,1%.000000000000,%d+,Infinity\n$", csv)
    local _, ncsv = csv:gsub("\n", "")
    assert.equal(#rows + 1, ncsv)
    local _, coarse = lnuma.report.distribution(h, { ticks = 1 }):gsub("\n", "")
    assert.is_true(coarse < #lines)
  end)

  it("prints an empty distribution, and refuses what does not add up", function()
    local h = lnuma.histogram()
    assert.matches("Total count    =            0]", lnuma.report.distribution(h), 1, true)
    local e = { count = 3, underflow = 0, overflow = 0, min = 1, max = 2, mean = 1, stddev = 0,
                buckets = { { lowest = 1, highest = 1, count = 1 } } }
    assert.error_matches(function() lnuma.report.distribution(e) end,
      "hold 1 values, not its count 3")
    e.buckets[1].count = math.maxinteger
    e.buckets[2] = { lowest = 2, highest = 2, count = 1 }
    assert.error_matches(function() lnuma.report.distribution(e) end, "past math.maxinteger")
    e.buckets = "x"
    assert.error_matches(function() lnuma.report.distribution(e) end, "buckets must be a list")
    assert.error_matches(function() lnuma.report.distribution(5) end,
      "a histogram or its export expected, got number")
    assert.error_matches(function() lnuma.report.distribution(h, { ticks = 0 }) end,
      "ticks: must be between 1 and 1000")
    assert.error_matches(function() lnuma.report.distribution(h, { scale = 0 }) end,
      "scale: a positive finite number expected")
    assert.error_matches(function() lnuma.report.distribution(h, { format = "xml" }) end,
      "format")
    assert.error_matches(function() lnuma.report.distribution(h, { tick = 5 }) end,
      "unknown option 'tick'")
    -- 2^63 - 1 values: the levels stop where doubles do.
    h:record(5, math.maxinteger - 1)
    h:record(7)
    local _, n = lnuma.report.distribution(h, { ticks = 1000 }):gsub("\n", "")
    assert.is_true(n > 1000 and n < 100000)
  end)

  it("empties with reset and answers nil when empty", function()
    local h = lnuma.histogram()
    h:record(10)
    assert.equal(h, h:reset())
    assert.equal(0, h:count())
    assert.is_nil(h:min())
    assert.is_nil(h:max())
    assert.is_nil(h:mean())
    assert.is_nil(h:percentile(50))
    assert.same({}, h:percentiles { 50 })
    assert.matches("empty", tostring(h))
    assert.equal("histogram", lnuma.type(h))
    assert.same({}, h:export().buckets)
  end)

  describe("bad arguments", function()
    it("rejects bad shapes, naming the option", function()
      assert.error_matches(function() lnuma.histogram { precision = 0 } end,
        "precision: 0 is outside 1..5")
      assert.error_matches(function() lnuma.histogram { precision = 6 } end,
        "precision: 6 is outside 1..5")
      assert.error_matches(function() lnuma.histogram { lowest = 0 } end,
        "lowest: 0 must be at least 1")
      assert.error_matches(function() lnuma.histogram { lowest = 10, highest = 10 } end,
        "lowest: 10 must be below highest %(10%)")
      assert.error_matches(function() lnuma.histogram { highest = 1 } end,
        "highest: 1 must be above lowest %(1%)")
      assert.error_matches(function() lnuma.histogram { precison = 3 } end,
        "unknown option 'precison'")
      assert.error_matches(function() lnuma.histogram { lowest = 1.5 } end,
        "lowest: integer expected")
    end)
    it("rejects percentiles outside 0..100", function()
      local h = lnuma.histogram()
      h:record(1)
      assert.error_matches(function() h:percentile(100.5) end, "outside 0..100")
      assert.error_matches(function() h:percentile(-1) end, "outside 0..100")
      assert.error_matches(function() h:percentile(0 / 0) end, "outside 0..100")
      assert.error_matches(function() h:percentile("x") end, "percentile must be a number")
      assert.error_matches(function() h:percentiles { 50, 101 } end, "outside 0..100")
      assert.error_matches(function() h:percentiles {} end, "non%-empty")
    end)
    it("rejects merging histograms of another shape", function()
      local a, b = lnuma.histogram { precision = 3 }, lnuma.histogram { precision = 2 }
      assert.error_matches(function() a:merge(b) end, "histograms differ in shape")
      assert.error_matches(function() a:merge({}) end, "lnuma.Histogram expected")
    end)
    it("rejects bad values, counts and selves", function()
      local h = lnuma.histogram()
      assert.error_matches(function() h:record(1.5) end, "integer representation")
      assert.error_matches(function() h:record("x") end, "number expected")
      assert.error_matches(function() h:record(1, 0) end, "count must be at least 1")
      assert.error_matches(function() h.record(io.stdout, 1) end, "lnuma.Histogram expected")
      assert.error_matches(function() h.count(nil) end, "lnuma.Histogram expected")
      assert.error_matches(function() h:record_corrected(5, -1) end,
        "expected_interval must be at least 0")
      assert.error_matches(function() h:record_corrected(5, 1, 0) end, "count must be at least 1")
      assert.error_matches(function() h:record_corrected(5) end, "number expected, got no value")
      assert.error_matches(function() h:record_corrected(1 << 62, 1, 4) end,
        "would take the histogram %(0 values%) past its limit")
      assert.equal(0, h:count())
    end)
  end)
end)
