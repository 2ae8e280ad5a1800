-- lnuma.bench.loaded_latency and `lnuma loaded`: the loaded-latency curve
-- with delays in ns, repetitions and spread per point, every traffic type
-- and how its bytes are counted.  Sizes and steps are tiny: these specs
-- check behaviour, not speed, on a shared two-CPU machine.
local lnuma = require "lnuma"
local H = dofile("spec/support/helpers.lua")


local allowed_cpus = H.allowed_cpus
local function two_cpus() return H.two_cpus(pending) end

-- A small curve: 2 MiB chase, 4 MiB traffic, 5 ms steps.
local function small(t)
  local o = { size = "2M", traffic_size = "4M", step_time = 5000000, repetitions = 2,
              delays = { 0, 1000, 10000 }, progress = false }
  for k, v in pairs(t or {}) do o[k] = v end
  return assert(lnuma.bench.loaded_latency(o))
end

local has_warning = H.warning

local run = H.lnuma

local COUNTING = { -- reads, writes, memory bytes per counted byte
  read = { 1, 0, 1 }, ["rw2:1"] = { 2, 1, 1 }, ["rw1:1"] = { 1, 1, 1 },
  write = { 0, 1, 2 }, write_nt = { 0, 1, 1 }, copy = { 1, 1, 1.5 },
}

describe("lnuma.bench.loaded_latency", function()
  it("sizes chase and traffic past the caches by default, and says when they are not", function()
    local cpus = two_cpus()
    local llc, topo = require "lnuma.llc", lnuma.topology()
    local r = small { cpus = cpus, delays = { 0 } }
    local one = llc.of(topo, { cpus[1] }).one
    local all = llc.of(topo, { cpus[2] }).all
    assert.equal(one, r.llc)
    assert.equal(all, r.traffic_llc)
    assert.equal(llc.scope(2 * 1024 * 1024, one), r.scope)
    assert.equal(llc.scope(4 * 1024 * 1024, all), r.traffic_scope)
    local text = lnuma.report.text(r)
    assert.equal(r.scope == "cache", text:find("cache latency", 1, true) ~= nil)
    assert.equal(r.traffic_scope == "cache", text:find("cache traffic", 1, true) ~= nil)
    -- The defaults: one short step, to read the sizes it took.
    local d = assert(lnuma.bench.loaded_latency { cpus = cpus, delays = { 0 }, repetitions = 1,
                                                  step_time = 1000000, progress = false })
    assert.equal(llc.latency_size(topo, cpus[1]), d.size)
    assert.equal(llc.bandwidth_size(topo), d.traffic_size)
    assert.are_not.equal("cache", d.scope)
    assert.are_not.equal("cache", d.traffic_scope)
  end)

  it("gives one point per delay in ns, sorted so that the offered load falls", function()
    local cpus = two_cpus()
    local r = small { cpus = cpus, delays = { 10000, 0, 1000 } }
    assert.equal(3, #r.points)
    for i, d in ipairs({ 0, 1000, 10000 }) do
      local p = r.points[i]
      assert.equal(d, p.delay_ns)
      assert.is_true(p.latency_ns > 0 and p.mean_ns > 0 and p.gbps >= 0)
      -- Each chunk is followed by at least the delay: the load cannot exceed
      -- one chunk per delay, in every repetition.
      for _, rep in ipairs(p.repetitions) do
        if d > 0 then assert.is_true(rep.gbps <= r.chunk_bytes / d * 1.001) end
      end
    end
    if not has_warning(r, "moved nothing") then
      assert.is_true(r.points[1].gbps > r.points[3].gbps)
    end
    assert.equal(r.monotonic, not has_warning(r, "not monotonic"))
    assert.same(cpus, r.cpus_ran)
  end)

  it("pauses for the time asked, measured on the clock, never less", function()
    two_cpus()
    local r = small { delays = { 0, 200, 2000, 20000 }, step_time = 4000000 }
    for _, p in ipairs(r.points) do
      if p.delay_ns == 0 then
        assert.equal(0, p.delay_achieved_ns)
      else
        assert.is_true(p.delay_achieved_ns >= p.delay_ns)
        assert.is_true(p.delay_achieved_ns <= 2 * p.delay_ns + 2000,
          ("asked %d ns, achieved %s ns"):format(p.delay_ns, tostring(p.delay_achieved_ns)))
        for _, rep in ipairs(p.repetitions) do
          if rep.delay_achieved_ns then
            assert.is_true(rep.delay_achieved_ns >= p.delay_ns)
            assert.is_true(rep.delay_mean_ns >= p.delay_ns)
          end
        end
      end
    end
    assert.matches("ns", r.units.delay_ns)
    assert.matches("measured", r.units.delay_achieved_ns)
  end)

  it("measures each point `repetitions` times: median, spread, p99", function()
    two_cpus()
    local r = small { repetitions = 3, max_spread = 10 } -- nothing re-measured
    for _, p in ipairs(r.points) do
      assert.equal(3, #p.repetitions)
      assert.equal(3, p.stats.n)
      assert.equal(p.stats.median, p.latency_ns)
      -- The figure lies among its repetitions, and spreads only when they differ.
      local lo, hi = math.huge, -math.huge
      for _, rep in ipairs(p.repetitions) do
        lo, hi = math.min(lo, rep.latency_ns), math.max(hi, rep.latency_ns)
      end
      assert.is_true(lo <= p.latency_ns and p.latency_ns <= hi)
      assert.is_true(p.spread >= 0)
      assert.equal(lo == hi, p.spread == 0)
      assert.is_true(p.chunk_p99_ns >= p.latency_ns)
      assert.equal(3, p.gbps_stats.n)
      assert.is_nil(p.remeasured)
      for _, rep in ipairs(p.repetitions) do
        assert.is_number(rep.latency_ns)
        assert.is_number(rep.gbps)
        assert.is_true(rep.chase_off_cpu >= 0 and rep.chase_off_cpu <= 1)
      end
    end
  end)

  it("measures an unstable point again, then flags it", function()
    two_cpus()
    local r = small { max_spread = 0 } -- any spread is too much
    local again = 0
    for _, p in ipairs(r.points) do
      if p.remeasured then
        again = again + 1
        assert.equal(2, #p.first_latencies)
        assert.equal(2, #p.repetitions)
        assert.equal(p.spread > 0, p.unstable)
        if p.unstable then
          assert.is_string(has_warning(r, ("delay %d ns: latency spread"):format(p.delay_ns)))
        end
      end
    end
    assert.is_true(again > 0)
  end)

  it("runs every traffic type and says how it counts bytes", function()
    two_cpus()
    for name, c in pairs(COUNTING) do
      local r = small { traffic = name, delays = { 0, 1000 }, repetitions = 1,
                        step_time = 2000000 }
      local t = r.traffic_info
      assert.equal(name, r.traffic)
      assert.equal(name, t.name)
      assert.equal(c[1], t.reads)
      assert.equal(c[2], t.writes)
      assert.equal(c[3], t.memory_bytes_per_counted_byte)
      assert.equal(4096 * (c[1] + c[2]), r.chunk_bytes)
      assert.equal(name == "write_nt", t.nontemporal)
      assert.matches("bytes loaded and stored", t.counting)
      assert.equal(2, #r.points)
      assert.is_true(r.points[1].latency_ns > 0)
    end
  end)

  it("proves where both buffers are and names the unit of every figure", function()
    two_cpus()
    local r = small { delays = { 0 } }
    for _, pl in ipairs({ r.placement, r.traffic_placement }) do
      assert.equal(1.0, pl.fraction)
      assert.is_true(pl.page_size >= 4096)
    end
    assert.is_string(r.clock.source)
    assert.is_number(r.clock.overhead_ns)
    for k, v in pairs(r.points[1]) do
      if type(v) == "number" then assert.is_string(r.units[k], "no unit for " .. k) end
    end
    local back = lnuma.report.decode(lnuma.report.json(r))
    assert.same(r.parameters, back.parameters)
    assert.equal(#r.points, #back.points)
    assert.matches("delay_ns.*gbps.*latency_ns.*spread", lnuma.report.text(r))
  end)

  describe("bad arguments", function()
    local function bad(opts, msg)
      assert.has_error(function() lnuma.bench.loaded_latency(opts) end,
        "bad argument #1 to 'loaded_latency' (" .. msg .. ")")
    end
    it("names the option that is wrong", function()
      bad({ kernel = "read" }, "unknown option 'kernel'")
      bad({ traffic = "rw3:1" }, "traffic: 'rw3:1' is not one of read, rw2:1, rw1:1, write, "
          .. "write_nt, copy")
      bad({ delays = { 0, -5 } }, "delays: element 2 (-5) is negative")
      bad({ delays = { 0, 1.5 } }, "delays: element 2 (1.5) is not an integer number of ns")
      bad({ delays = { "100" } }, "delays: element 1 is string, not a number of ns")
      bad({ delays = {} }, "delays: a non-empty array of ns expected, got table")
      bad({ delays = { 100, 100 } }, "delays: 100 ns is named twice")
      bad({ delays = { 0, 5000000 }, step_time = 5000000 },
          "delays: element 2 (5000000 ns) is not below step_time (5000000 ns)")
      bad({ repetitions = 0 }, "repetitions: must be between 1 and 1000, got 0")
      bad({ max_spread = -1 }, "max_spread: a fraction >= 0 expected (0.1 is 10%), got -1")
      bad({ cpus = { allowed_cpus()[1] } },
          "cpus: a chaser and at least one traffic thread: 2 CPUs")
    end)
  end)
end)

describe("lnuma.core.bench_loaded", function()
  it("copies its options before it looks at the buffers again", function()
    two_cpus()
    local chase, traffic = lnuma.alloc("1M"), lnuma.alloc("1M")
    local opts = setmetatable({ cpus = two_cpus(), delays = { 0 }, step_time = 1000000 }, {
      __index = function(_, k)
        if k == "traffic" then traffic:free() end
      end,
    })
    assert.error_matches(function() lnuma.core.bench_loaded(chase, traffic, opts) end,
      "attempt to use a freed buffer")
    assert.equal("freed buffer", lnuma.type(traffic))
    chase:free()
  end)

  it("says when the traffic memory is too small for the threads", function()
    two_cpus()
    local chase, traffic = lnuma.alloc("1M"), lnuma.alloc(4096)
    local r, msg = lnuma.core.bench_loaded(chase, traffic, { cpus = two_cpus(), delays = { 0 },
                                                             traffic = "copy" })
    assert.is_nil(r)
    assert.matches("too few for 1 threads of copy", msg)
    chase:free()
    traffic:free()
  end)
end)

describe("lnuma loaded", function()
  it("takes --traffic, --delays in ns and --repetitions", function()
    two_cpus()
    local out, err, code = run("loaded --size 2M --traffic-size 4M --delays 1000,0 "
                               .. "--step-time 3 --repetitions 2 --traffic rw1:1 --json")
    assert.equal(0, code, err)
    local r = assert(lnuma.report.decode(out))
    assert.equal("rw1:1", r.traffic)
    assert.equal(2, r.repetitions)
    assert.same({ 0, 1000 }, { r.points[1].delay_ns, r.points[2].delay_ns })
    out, err, code = run("loaded --size 2M --traffic-size 4M --delays 0,2000 --step-time 3 "
                         .. "--repetitions 2")
    assert.equal(0, code, err)
    assert.matches("delay_ns%s+achieved_ns%s+gbps%s+latency_ns%s+spread", out)
    assert.matches("2 repetitions of 3.00 ms per point", out)
  end)

  it("names the option that is wrong", function()
    local _, err, code = run("loaded --traffic rw9:1")
    assert.is_not.equal(0, code)
    assert.matches("%-%-traffic: 'rw9:1' is not one of", err)
    _, err, code = run("loaded --delays 0,1.5")
    assert.is_not.equal(0, code)
    assert.matches("'1.5' is not an integer", err)
  end)
end)

describe("lnuma.bench.loaded_latency on several nodes #multinode", function()
  it("puts the chase and the traffic on the node asked, and proves it", function()
    local topo = lnuma.topology()
    local cpus = two_cpus()
    local here, there = topo.cpus[1].node, nil
    for _, c in ipairs(topo.cpus) do
      if c.os_index == cpus[1] then here = c.node end
    end
    for _, n in ipairs(topo.allowed.nodes) do
      for _, info in ipairs(topo.nodes) do
        if info.os_index == n and n ~= here and info.memory > 0 and not there then there = n end
      end
    end
    if not there then pending("needs a second node with memory: runs in make test-vm") end
    local r = small { cpus = cpus, node = there, delays = { 0, 1000 }, repetitions = 1,
                      step_time = 2000000 }
    assert.equal(there, r.node)
    for _, pl in ipairs({ r.placement, r.traffic_placement }) do
      assert.equal(there, pl.node)
      assert.equal(1.0, pl.fraction)
    end
    assert.same(cpus, r.cpus_ran)
  end)
end)
