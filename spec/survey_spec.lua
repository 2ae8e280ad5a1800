-- `lnuma survey`: a quick survey measures less, never something else --
-- bandwidth and latency buffers well beyond the last-level cache, a figure
-- whose spread is above the bound measured again and flagged when it stays
-- above, plain text in files (colour only on a terminal), and the latency
-- curve's levels, the levels it cannot tell apart and its huge-page series.
local lnuma = require "lnuma"
local survey = require "lnuma.survey"
local cli_survey = require "lnuma.cli.survey"
local H = dofile("spec/support/helpers.lua")

local LUA = H.LUA
local MiB, GiB = 1024 * 1024, 1024 * 1024 * 1024

local sh_quote, tmpdir = H.quote, H.tmpdir

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local body = f:read("a")
  f:close()
  return body
end

local exists = H.exists

describe("lnuma.survey.stability (what to do with a figure's spread)", function()
  it("keeps a figure within the bound", function()
    assert.same({ state = "stable", spread = 0.05, remeasured = false },
                survey.stability({ 0.05 }))
    assert.equal("stable", survey.stability({ 0.10 }).state) -- the bound itself is within
  end)

  it("measures a figure above the bound again", function()
    assert.equal("remeasure", survey.stability({ 0.24 }).state)
  end)

  it("keeps the re-measured figure when it is within the bound", function()
    local st = survey.stability({ 0.24, 0.08 })
    assert.equal("stable", st.state)
    assert.is_true(st.remeasured)
    assert.is_nil(st.note)
  end)

  it("flags a figure that stays above the bound, with its spread", function()
    local st = survey.stability({ 0.24, 0.30 })
    assert.equal("unstable", st.state)
    assert.equal("unstable (spread 30%)", st.note)
    assert.equal("unstable (spread 142%)", survey.stability({ 0.5, 1.42 }, 0.2).note)
  end)

  it("rejects no spreads", function()
    assert.has_error(function() survey.stability({}) end,
      "bad argument #1 to 'stability' (array of spreads expected)")
  end)
end)

describe("lnuma.survey.ledger (measuring a figure again)", function()
  it("measures again only above the bound, and flags what stays above", function()
    local led, remeasure = survey.ledger(0.1)
    local calls = 0
    local calm, settles, noisy = { spread = 0.05 }, { spread = 0.3 }, { spread = 0.24 }
    remeasure(calm, "calm", function() calls = calls + 1 end)
    assert.equal(0, calls)
    remeasure(settles, "settles", function()
      calls = calls + 1
      settles.spread = 0.04
      return 0.04
    end)
    remeasure(noisy, "noisy", function()
      calls = calls + 1
      noisy.spread = 0.3
      return 0.3
    end)
    assert.equal(2, calls)
    assert.equal(2, led.remeasured)
    assert.is_nil(settles.unstable)
    assert.equal(0.3, settles.first_spread)
    assert.equal("unstable (spread 30%)", noisy.unstable)
    assert.same({ "noisy: unstable (spread 30%)" }, led.unstable)
    -- plain data, for survey.json
    assert.same(led, lnuma.report.decode(lnuma.report.json(led)))
  end)
end)

-- A matrix whose every cell looked noisy is measured again, cell by cell.
local function settle_a_matrix(metric, size)
  local opts = { repetitions = 2, min_time = 1000000 }
  local m = assert(lnuma.bench.matrix { metric = metric, size = size, progress = false,
                                        repetitions = 2, min_time = 1000000 })
  for _, cell in ipairs(m.cells) do cell.spread = 5 end
  local led, remeasure = survey.ledger()
  survey.settle_matrix(m, opts, remeasure)
  assert.equal(#m.cells, led.remeasured)
  for _, cell in ipairs(m.cells) do
    assert.equal(5, cell.first_spread)
    assert.is_true(cell.spread < 5)
    local v = metric == "latency" and cell.latency_ns or cell.gbps
    assert.equal(v, m.values[cell.row][cell.column])
    assert.equal(cell.spread > 0.1, cell.unstable ~= nil)
  end
  return m
end

describe("lnuma.survey.settle_matrix", function()
  it("measures a cell above the bound again and puts the new figure in its place", function()
    settle_a_matrix("latency", "1M")
  end)
end)

describe("lnuma.survey.settle_matrix on several nodes #multinode", function()
  it("measures every cell again on its own nodes", function()
    if #lnuma.topology().allowed.nodes < 2 then
      pending("needs ≥2 NUMA nodes: runs in the emulated machines (make test-vm)")
    end
    local m = settle_a_matrix("bandwidth", "4M")
    -- every node with CPUs reads every node (a memory-only node is a column)
    assert.is_true(#m.rows >= 1 and #m.columns >= 2)
    assert.equal(#m.rows * #m.columns, #m.cells)
  end)
end)

describe("lnuma.survey sizes", function()
  -- Two packages of 32 MiB L3, four cores each.
  local topo = assert(lnuma.topology { synthetic =
    "pack:2 l3:1(size=32MiB) l2:4(size=1MiB) l1:1(size=48KiB) core:1 pu:1" })

  it("finds the last-level caches of the allowed CPUs", function()
    local llc = survey.llc(topo)
    assert.same({ one = 32 * MiB, all = 64 * MiB, level = 3 }, llc)
    assert.same({}, survey.llc({ caches = {}, allowed = { cpus = { 0 } } }))
  end)

  it("gives a quick survey bandwidth buffers of at least 4x the last-level caches", function()
    local q = survey.settings(topo, true)
    assert.equal(256 * MiB, q.bandwidth_size) -- 4 x 64M
    assert.equal(128 * MiB, q.latency_size)   -- 4 x 32M, one CPU's
    assert.equal(q.bandwidth_size, q.peak.size)
    assert.equal(q.bandwidth_size, q.bw_matrix.size)
    assert.equal(q.bandwidth_size, q.loaded.traffic_size)
    assert.equal(q.latency_size, q.lat_matrix.size)
    assert.equal(128 * MiB, q.curve.sizes[#q.curve.sizes])
    assert.equal("memory", survey.bandwidth_scope(q.bandwidth_size, q.llc.all))
    -- the full survey: at least bench_util's default (1 GiB)
    local f = survey.settings(topo, false)
    assert.equal(GiB, f.bandwidth_size)
    assert.is_true(f.peak.repetitions > q.peak.repetitions)
  end)

  it("calls a figure from buffers under 4x the cache cache bandwidth", function()
    assert.equal("cache", survey.bandwidth_scope(32 * MiB, 32 * MiB))
    assert.equal("memory", survey.bandwidth_scope(128 * MiB, 32 * MiB))
    assert.equal("unknown", survey.bandwidth_scope(GiB, nil))
  end)
end)

describe("the survey summary", function()
  local function fake()
    return {
      benchmark = "survey", quick = true, host = "h", cpu_model = "cpu", date = "d",
      topology = { nodes = { {} }, cpus = { 0, 1 }, allowed = { cpus = { 0, 1 } } },
      settings = { llc = { all = 32 * MiB }, bandwidth_size = 32 * MiB, latency_size = 128 * MiB,
                   bandwidth_scope = "cache" },
      peak_bandwidth = { threads = 2, cpus = { 0, 1 }, size = 32 * MiB, kernels = {
        { kernel = "read", gbps = 62.2, spread = 0.05, isa = "avx2" },
        { kernel = "write", gbps = 40, spread = 1.42, isa = "avx2",
          unstable = survey.stability({ 0.9, 1.42 }).note } } },
      stability = { bound = 0.1, remeasured = 1, unstable = { "peak_bandwidth (write): x" } },
      warnings = {}, files = {}, elapsed_s = 1,
    }
  end

  it("flags an unstable figure and names cache bandwidth as such", function()
    local text = cli_survey.summary_text(fake(), "/tmp/x", false)
    assert.matches("write%s+40%s+142.0%%%s+avx2%s+unstable %(spread 142%%%)", text)
    assert.matches("Peak cache bandwidth", text)
    assert.matches("less than 4x the last%-level caches %(32M%): cache bandwidth", text)
    assert.matches("still unstable: 1", text)
  end)

  it("gives the worst pair's c2c p99 where the pairs have one, and none from few samples",
     function()
    local s = fake()
    s.c2c = { benchmark = "c2c", mode = "pingpong", rows = { 0, 1, 2 }, columns = { 0, 1, 2 },
              rounds = 3,
              values = { { 0, 60, 70 }, { 60, 0, 80 }, { 70, 80, 0 } },
              stats = { min = 60, median = 70, max = 80, n = 3 },
              pairs = { { a = 0, b = 1, p50 = 60, p99 = 95 },
                        { a = 0, b = 2, p50 = 70, p99 = 140 },
                        { a = 1, b = 2, p50 = 80, p99 = 120 } } }
    local text = cli_survey.summary_text(s, "/tmp/x", false)
    assert.matches("3 pairs in 3 rounds%): min 60, median 70, max 80 ns; the worst "
                   .. "pair's p99 140 ns", text)
    for _, pair in ipairs(s.c2c.pairs) do pair.p99 = nil end
    text = cli_survey.summary_text(s, "/tmp/x", false)
    assert.matches("max 80 ns\n", text)
    assert.not_matches("p99", text)
  end)
end)

describe("lnuma survey --quick", function()
  it("measures memory, writes plain-text files and shows the curve's levels and series",
     function()
    local dir = tmpdir()
    finally(function() os.execute("rm -rf " .. sh_quote(dir)) end)
    -- Under script(1) stdout is a terminal: colour is allowed there, never in files.
    local tty = os.execute("command -v script >/dev/null 2>&1")
    local line = LUA .. " bin/lnuma survey --quick --out " .. sh_quote(dir)
    local out_file = dir .. "/stdout"
    local shell = tty and ("script -qec %s /dev/null > %s 2>&1"):format(sh_quote(line),
                                                                      sh_quote(out_file))
      or (line .. " > " .. sh_quote(out_file) .. " 2>&1")
    assert.is_true(os.execute(shell))
    local out = slurp(out_file)
    local folder = out:match("Results: (%S+)/ ")
    assert.is_string(folder, out)
    assert.matches("Latency by working set", out)
    assert.matches("Peak [%a ]*bandwidth", out)
    local summary = assert(slurp(folder .. "/summary.txt"))
    local s = assert(lnuma.report.load(folder .. "/survey.json"))
    -- every file is plain: no escape code, wherever stdout went
    for _, file in ipairs({ "summary.txt", "survey.json", table.unpack(s.files) }) do
      local body = assert(slurp(folder .. "/" .. file), file)
      assert.is_nil(body:find("\27", 1, true), "an escape code in " .. file)
    end
    assert.matches("Latency by working set", summary)
    assert.matches("series 1 %(main%)", summary)
    assert.matches("main series on ", summary)
    if tty then assert.truthy(out:find("\27", 1, true)) end -- the terminal got colour
    assert.equal("survey", s.benchmark)
    assert.is_true(s.quick)
    -- the conditions, read by the core (host and CPU model too)
    assert.equal(lnuma.provenance().kernel.release, s.provenance.kernel.release)
    assert.equal(s.provenance.host, s.host)
    assert.is_table(s.doubts)
    -- every part is there, with its picture
    for _, part in ipairs({ "latency_curve", "latency_matrix", "bandwidth_matrix",
                            "peak_bandwidth" }) do
      assert.is_table(s[part], part)
      assert.is_true(exists(folder .. "/" .. part:gsub("_", "-") .. ".svg"), part)
    end
    -- bandwidth buffers: at least 4x the last-level caches (1 GiB where unknown)
    local llc = s.settings.llc.all
    for _, part in ipairs({ "peak_bandwidth", "bandwidth_matrix" }) do
      if llc then
        assert.is_true(s[part].size >= 4 * llc, part)
      else
        assert.is_true(s[part].size >= GiB, part)
        assert.matches("last%-level cache size unknown", summary)
      end
    end
    assert.is_true(s.latency_matrix.size >= 4 * (s.settings.llc.one or 64 * MiB))
    -- the curve: its series (huge pages and 4 KiB where huge pages can be had)
    local curve = s.latency_curve
    assert.is_table(curve.series[1].points)
    assert.is_string(curve.main_reason)
    assert.is_table(curve.levels)
    assert.is_table(curve.indistinct)
    for _, x in ipairs(curve.indistinct) do
      assert.truthy(summary:find(x.reason, 1, true), x.reason)
    end
    assert.equal(0.1, s.stability.bound)
    -- and lnuma report renders the saved survey again
    local p = io.popen(LUA .. " bin/lnuma report " .. sh_quote(folder .. "/survey.json"))
    local again = p:read("a")
    p:close()
    assert.matches("== latency_curve", again)
  end)
end)
