-- Core-to-core latency (lnuma.bench.c2c and `lnuma c2c`): every pair of
-- CPUs hands a line of its own back and forth, in every sample a fresh one
-- on the node asked; each pair's samples give its tails, the matrix its
-- medians.  Tiny sample counts: these specs check behaviour, not speed.
local lnuma = require "lnuma"
local H = dofile("spec/support/helpers.lua")

local LUA = H.LUA
local QUICK = { samples = 3, roundtrips = 50 }

local function quick(t) return H.with_defaults(QUICK, t) end

local allowed_cpus = H.allowed_cpus
local function two_cpus() return H.two_cpus(pending) end

local function finite(x)
  return type(x) == "number" and x == x and x > -math.huge and x < math.huge
end

-- Runs a shell command; returns stdout, stderr and the exit code.
local sh = H.run

local function lnuma_cli(args) return sh(LUA .. " bin/lnuma " .. args) end

-- Checks what every c2c result must hold for its CPUs.
local function check_result(r, cpus, samples)
  local n = #cpus
  assert.same(cpus, r.rows)
  assert.same(cpus, r.cpus_ran)
  assert.equal(n * (n - 1) // 2, #r.pairs)
  local k = 0
  for i = 1, n do
    assert.equal(0, r.values[i][i])
    for j = i + 1, n do
      k = k + 1
      local p = r.pairs[k]
      assert.same({ cpus[i], cpus[j] }, { p.a, p.b })
      assert.equal(samples, p.samples)
      assert.equal(samples, #p.samples_ns)
      for _, v in ipairs({ p.p50, p.min, p.max }) do
        assert.is_true(finite(v) and v > 0, tostring(v))
      end
      assert.is_true(p.min <= p.p50 and p.p50 <= p.max)
      -- a p99 only from 100 samples: from fewer it would be the slowest one
      if samples >= 100 then
        assert.is_true(p.p50 <= p.p99 and p.p99 <= p.max)
        local sorted = { table.unpack(p.samples_ns) }
        table.sort(sorted)
        assert.equal(sorted[99], p.p99) -- nearest rank
      else
        assert.is_nil(p.p99)
      end
      assert.equal(p.p50, r.values[i][j])
      assert.equal(p.p50, r.values[j][i])
      assert.equal(0, p.lines_off_node)
    end
  end
  assert.equal(#r.pairs, r.stats.n)
  assert.equal(samples, #r.repetitions)
  assert.equal(samples, r.repetition_stats.n)
  assert.is_true(r.repetition_stats.spread >= 0)
  assert.is_true(r.lines.fresh)
  assert.equal(#r.pairs * samples, r.lines.count)
  assert.equal(128, r.lines.stride)
  assert.equal(0, r.lines.pairs_off_node)
  assert.equal(1.0, r.placement.fraction)
  assert.equal(r.node, r.placement.node)
  assert.is_true(r.placement.page_size >= 4096)
  assert.is_true(r.clock.overhead_ns > 0)
  assert.matches("half a round trip", r.figure)
end

describe("lnuma.bench.c2c_lines (a fresh line for every pair and sample)", function()
  for _, n in ipairs({ 2, 3, 4, 5, 8 }) do
    it(("never gives two (pair, sample)s one line (%d CPUs)"):format(n), function()
      local samples = 3
      local lines = lnuma.bench.c2c_lines(n, samples)
      local pairs = n * (n - 1) // 2
      assert.equal(pairs * samples, #lines)
      local used, met, bytes = {}, {}, lnuma.core.c2c_memory(n, samples)
      local busy = {}
      for _, l in ipairs(lines) do
        assert.is_nil(used[l.line], ("line %d used twice"):format(l.line))
        used[l.line] = true
        assert.equal(l.line * 128, l.offset)
        assert.is_true(l.offset + 64 <= bytes)
        assert.is_true(l.a < l.b and l.b < n)
        local key = ("%d:%d-%d"):format(l.sample, l.a, l.b)
        assert.is_nil(met[key])
        met[key] = true
        -- a CPU is in one pair at a time
        for _, c in ipairs({ l.a, l.b }) do
          local step = ("%d:%d:%d"):format(l.sample, l.round, c)
          assert.is_nil(busy[step])
          busy[step] = true
        end
      end
    end)
  end

  it("schedules disjoint pairs in rounds that meet every pair once", function()
    local rounds = lnuma.bench.c2c_schedule(6)
    assert.equal(5, #rounds)
    local met = {}
    for _, round in ipairs(rounds) do
      local busy = {}
      assert.equal(3, #round)
      for _, pair in ipairs(round) do
        for _, p in ipairs(pair) do
          assert.is_nil(busy[p])
          busy[p] = true
        end
        met[pair[1] .. "-" .. pair[2]] = true
      end
    end
    local n = 0
    for _ in pairs(met) do n = n + 1 end
    assert.equal(15, n)
  end)

  it("are the lines the measurement used", function()
    local r = assert(lnuma.bench.c2c(quick { cpus = two_cpus(), samples = 4 }))
    assert.is_true(r.lines.fresh)
    assert.equal(4, r.lines.count)
    assert.equal(lnuma.core.c2c_memory(2, 4), r.lines.bytes)
    assert.equal(16, r.lines.warmup)
    r = assert(lnuma.bench.c2c(quick { cpus = two_cpus(), samples = 2, warmup = 0 }))
    assert.equal(0, r.parameters.warmup)
    assert.is_true(r.lines.fresh)
  end)

  it("needs two CPUs", function()
    assert.has_error(function() lnuma.bench.c2c_lines(1, 3) end,
      "bad argument #1 to 'c2c_lines' (between 2 and 4096 CPUs)")
  end)
end)

describe("lnuma.bench.c2c", function()
  for _, mode in ipairs({ "pingpong", "cas" }) do
    it(("measures every pair with positive, finite figures and p50 <= p99 (%s)")
       :format(mode), function()
      local cpus = two_cpus()
      local r = assert(lnuma.bench.c2c(quick { cpus = cpus, mode = mode }))
      assert.equal("c2c", r.benchmark)
      assert.equal(mode, r.mode)
      assert.equal(mode, r.parameters.mode)
      check_result(r, cpus, 3)
      assert.equal(1, r.rounds)
      if mode == "cas" then assert.matches("compare%-and%-swap", r.figure) end
    end)
  end

  it("measures every allowed CPU by default, the lines on the first CPU's node", function()
    local cpus = allowed_cpus()
    if #cpus < 2 then pending("needs two CPUs") end
    local r = assert(lnuma.bench.c2c(quick {}))
    local topo = lnuma.topology()
    local first
    for _, c in ipairs(topo.cpus) do
      if c.os_index == cpus[1] then first = c.node end
    end
    assert.equal(first, r.node)
    check_result(r, cpus, 3)
  end)

  it("takes 100 samples a pair by default, so that each pair has a p99", function()
    local cpus = two_cpus()
    local r = assert(lnuma.bench.c2c { cpus = cpus, roundtrips = 20 })
    assert.equal(100, r.samples)
    assert.equal(100, r.p99_samples)
    check_result(r, cpus, 100)
    local text = lnuma.report.text(r)
    assert.not_matches("no p99", text)
    assert.matches("no p99: a pair needs 100 samples for one", lnuma.report.text(
      assert(lnuma.bench.c2c(quick { cpus = cpus }))))
  end)

  it("takes fewer samples by default only where the lines of 100 would pass 1 GiB", function()
    assert.equal(100, lnuma.bench.c2c_samples(2))
    assert.equal(100, lnuma.bench.c2c_samples(410)) -- 83845 pairs x 100 x 128 bytes < 1 GiB
    assert.equal(99, lnuma.bench.c2c_samples(412))
    assert.equal(1, lnuma.bench.c2c_samples(4096))
  end)

  it("puts the lines on the node asked and proves it page by page", function()
    local nodes = lnuma.topology().allowed.nodes
    local node = nodes[#nodes]
    local r = assert(lnuma.bench.c2c(quick { cpus = two_cpus(), node = node }))
    assert.equal(node, r.node)
    assert.equal(node, r.parameters.node)
    assert.equal(node, r.placement.node)
    for _, e in ipairs(r.placement.pages_by_node) do assert.equal(node, e.node) end
    assert.equal(0, r.lines.pairs_off_node)
    assert.same({}, r.warnings)
  end)

  it("survives lnuma.report.json with every sample", function()
    local r = assert(lnuma.bench.c2c(quick { cpus = two_cpus() }))
    local back = lnuma.report.decode(lnuma.report.json(r))
    assert.same(r.pairs[1].samples_ns, back.pairs[1].samples_ns)
    assert.equal(r.mode, back.mode)
    assert.same(r.lines, back.lines)
    assert.same(r.placement, back.placement)
  end)

  describe("bad arguments", function()
    it("names an unknown mode", function()
      assert.has_error(function() lnuma.bench.c2c { mode = "xchg" } end,
        "bad argument #1 to 'c2c' (mode: 'xchg' is not one of pingpong, cas)")
    end)

    it("says that c2c needs two CPUs and how many were given", function()
      local c = allowed_cpus()[1]
      assert.has_error(function() lnuma.bench.c2c { cpus = { c } } end,
        ("bad argument #1 to 'c2c' (cpus: c2c needs at least two CPUs; 1 was given (CPU %d))")
          :format(c))
    end)

    it("rejects a CPU named twice", function()
      assert.has_error(function() lnuma.bench.c2c { cpus = { 0, 0 } } end,
        "bad argument #1 to 'c2c' (cpus: CPU 0 is named twice)")
    end)

    it("names an unknown option", function()
      assert.has_error(function() lnuma.bench.c2c { sample = 3 } end,
        "bad argument #1 to 'c2c' (unknown option 'sample')")
    end)

    it("names a bad count", function()
      assert.has_error(function() lnuma.bench.c2c { samples = 0 } end,
        "bad argument #1 to 'c2c' (samples: must be between 1 and 100000, got 0)")
      assert.has_error(function() lnuma.bench.c2c { roundtrips = 1.5 } end,
        "bad argument #1 to 'c2c' (roundtrips: integer expected, got a fraction)")
    end)

    it("checks the raw binding's options before it touches the buffer", function()
      local buf <close> = assert(lnuma.alloc(4096))
      assert.has_error(function() lnuma.core.bench_c2c(buf, { cpus = { 0 } }) end,
        "bad argument #2 to 'bench_c2c' (cpus: c2c needs at least two CPUs; 1 given)")
      assert.has_error(function() lnuma.core.bench_c2c(buf, { cpus = { 0, 1 }, mode = "x" }) end,
        "bad argument #2 to 'bench_c2c' (mode: unknown name 'x')")
      -- an option's metamethod frees the buffer: the binding sees it after reading them
      local opts = setmetatable({ cpus = { 0, 1 } }, { __index = function() buf:free() end })
      assert.has_error(function() lnuma.core.bench_c2c(buf, opts) end,
        "attempt to use a freed buffer")
    end)
  end)

  it("returns nil and says so when this process may use one CPU", function()
    if not os.execute("command -v taskset >/dev/null 2>&1") then pending("no taskset") end
    local c = allowed_cpus()[1]
    local build = os.getenv("LNUMA_BUILD") or "build"
    local out, err, code = sh(("LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='%s/?.so;;' "
      .. "taskset -c %d %s -e 'local l = require \"lnuma\"; print(l.bench.c2c())'")
      :format(build, c, LUA))
    assert.equal(0, code, err)
    assert.equal(("nil\tc2c: needs at least two CPUs; this process may use 1 (CPU %d)\t22\n")
      :format(c), out)
    local _, cli_err, cli_code = sh(("taskset -c %d %s bin/lnuma c2c"):format(c, LUA))
    assert.are_not.equal(0, cli_code)
    assert.matches(("c2c: needs at least two CPUs; this process may use 1 %%(CPU %d%%)"):format(c),
                   cli_err)
  end)
end)

describe("the c2c report", function()
  it("shows the matrix, a pairs table with p50 and p99, placement with page size", function()
    local r = assert(lnuma.bench.c2c(quick { cpus = two_cpus(), mode = "cas" }))
    local text = lnuma.report.text(r)
    assert.matches("core%-to%-core latency, cas: one%-way ns = half a round trip", text)
    assert.matches("cpus%s+p50%s+p99%s+min%s+max%s+samples", text)
    assert.matches(("%d%%-%d"):format(r.pairs[1].a, r.pairs[1].b), text)
    assert.matches("across pairs: median", text)
    assert.matches("per sample %(a whole tournament%): median", text)
    assert.matches("each used by one pair in one sample, 128 bytes apart", text)
    assert.matches("placement: 100.0%% of %d+ pages of %d+[KMG] on node %d+ %(pages per node "
                   .. "[%d: ]+%)", text)
    assert.matches("clock: ", text)
    assert.matches("cas, one way = half a round trip", lnuma.report.svg(r))
  end)

  it("lists the pairs with the worst tails when there are many", function()
    local pairs, values, rows = {}, {}, {}
    for i = 1, 9 do
      rows[i], values[i] = i - 1, {}
      for j = 1, 9 do values[i][j] = i == j and 0 or 50 end
    end
    for i = 0, 8 do
      for j = i + 1, 8 do
        pairs[#pairs + 1] = { a = i, b = j, p50 = 50, p99 = 60 + #pairs, min = 40,
                              max = 99 + #pairs, samples = 5 }
      end
    end
    local text = lnuma.report.text { benchmark = "c2c", mode = "pingpong", rows = rows,
      columns = rows, values = values, pairs = pairs, rounds = 9, samples = 5,
      roundtrips = 100, node = 0, warnings = {} }
    assert.matches("the 32 of 36 with the highest p99", text)
    assert.matches("7%-8%s+50%s+95", text)   -- the worst tail first
    assert.not_matches("\n  0%-1 ", text)     -- the best ones left out
  end)
end)

describe("lnuma c2c", function()
  it("measures with --mode, --node and --samples", function()
    local cpus = two_cpus()
    local node = lnuma.topology().allowed.nodes[1]
    local out, err, code = lnuma_cli(("c2c --cpus %d,%d --mode cas --node %d --samples 3 "
      .. "--roundtrips 50 --json"):format(cpus[1], cpus[2], node))
    assert.equal(0, code, err)
    local r = assert(lnuma.report.decode(out))
    assert.equal("cas", r.mode)
    assert.equal(node, r.node)
    assert.equal(3, r.pairs[1].samples)
    assert.is_nil(r.pairs[1].p99) -- too few samples for one
    assert.is_true(r.pairs[1].p50 <= r.pairs[1].max)
  end)

  it("says that c2c needs at least two CPUs and that 1 was given", function()
    local c = allowed_cpus()[1]
    local out, err, code = lnuma_cli("c2c --cpus " .. c)
    assert.are_not.equal(0, code)
    assert.equal("", out)
    assert.matches(("%%-%%-cpus: c2c needs at least two CPUs; 1 was given %%(CPU %d%%)"):format(c),
                   err)
    assert.not_matches("may use", err)
  end)

  it("names an unknown mode", function()
    local _, err, code = lnuma_cli("c2c --mode xchg")
    assert.are_not.equal(0, code)
    assert.matches("%-%-mode: 'xchg' is not one of pingpong, cas", err)
  end)
end)

describe("c2c on several nodes #multinode", function()
  -- The emulated four-node machine has four CPUs: an even and an odd
  -- tournament (where one CPU sits out each round) must both finish.
  for _, count in ipairs({ 3, 4 }) do
    for _, mode in ipairs({ "pingpong", "cas" }) do
      it(("measures %d CPUs with the lines on the last node (%s)"):format(count, mode), function()
        local all = allowed_cpus()
        if #all < count then pending(("needs %d CPUs"):format(count)) end
        local cpus = {}
        for i = 1, count do cpus[i] = all[i] end
        local topo = lnuma.topology()
        local node
        for _, n in ipairs(topo.nodes) do
          if n.memory > 0 then node = n.os_index end
        end
        -- few round trips: under TCG a handoff can wait for the host to run a vCPU
        local r = assert(lnuma.bench.c2c { cpus = cpus, mode = mode, node = node, samples = 2,
                                           roundtrips = 8, warmup = 2 })
        assert.equal(node, r.node)
        assert.equal(count % 2 == 0 and count - 1 or count, r.rounds)
        check_result(r, cpus, 2)
      end)
    end
  end
end)
