-- Reports of benchmark results: text summaries, tables, CSV, the terminal
-- heatmap and SVG pictures (which must parse as XML), from results made by
-- hand so that every kind is covered without measuring anything.
local lnuma = require "lnuma"

local report = lnuma.report

local function matrix()
  return { benchmark = "matrix", metric = "latency", size = 1 << 28, rows = { 0, 1 },
           columns = { 0, 1, 2 }, values = { { 90.5, 140.25, 200 }, { 141, 88.125, 0 / 0 } },
           units = { values = "ns per load" }, warnings = {} }
end

local function curve()
  local pts = {}
  for e = 12, 24 do pts[#pts + 1] = { size = 1 << e, latency_ns = e * 1.5, spread = 0.01 } end
  return { benchmark = "latency_curve", points = pts, pattern = "random", cpu = 0, node = 0,
           caches = { { level = 1, size = 49152, type = "data" }, { level = 2, size = 2 << 20 } },
           warnings = {} }
end

local SAMPLES = {
  matrix = matrix,
  latency_curve = curve,
  c2c = function()
    return { benchmark = "c2c", rows = { 0, 1, 2 }, columns = { 0, 1, 2 },
             values = { { 0, 50, 60 }, { 50, 0, 55 }, { 60, 55, 0 } }, pairs = 3, rounds = 3,
             units = { values = "ns" }, warnings = {} }
  end,
  loaded_latency = function()
    return { benchmark = "loaded_latency", threads = 3, traffic = "read", cpus = { 0, 1, 2 },
             repetitions = 3, step_time = 50000000,
             points = { { delay_ns = 0, delay_achieved_ns = 0, gbps = 20, latency_ns = 180,
                          spread = 0.05, mean_ns = 190, chunk_p99_ns = 300,
                          stats = { n = 3, median = 180, min = 175, max = 184 } },
                        { delay_ns = 1000, delay_achieved_ns = 1001, gbps = 3,
                          latency_ns = 100, spread = 0.3, mean_ns = 101, chunk_p99_ns = 120,
                          remeasured = true, unstable = true,
                          stats = { n = 3, median = 100, min = 80, max = 110 } } },
             warnings = {} }
  end,
  latency = function()
    return { benchmark = "latency", latency_ns = 98.5, size = 1 << 30, pattern = "random",
             node = 0, cpu = 0, repetitions = { 98, 98.5, 99 },
             stats = { n = 3, median = 98.5, min = 98, max = 99, spread = 0.01 },
             placement = { node = 0, fraction = 1, pages = 10,
                           pages_by_node = { { node = 0, pages = 10 } } },
             cpus_ran = { 0 }, clock = { source = "tsc", overhead_ns = 8 },
             warnings = { "only a test" } }
  end,
  bandwidth = function()
    return { benchmark = "bandwidth", gbps = 12.5, kernel = "triad", size = 1 << 30,
             threads = 2, node = nil, isa = "avx512", passes = 1, bytes = 1 << 30,
             repetitions = { 12, 12.5, 13 }, stats = { n = 3, median = 12.5, min = 12,
             max = 13, spread = 0.08 }, cpus_ran = { 0, 1 }, warnings = {} }
  end,
  migration = function()
    return { benchmark = "migration", pages_per_s = 1e6, gbps = 4.1, size = 1 << 26, from = 0,
             to = 1, moved = 16384, pages = 16384, repetitions = { 1e6 },
             stats = { n = 1, median = 1e6, min = 1e6, max = 1e6, spread = 0 }, warnings = {} }
  end,
  bandwidth_kernels = function()
    return { benchmark = "bandwidth_kernels", threads = 2, size = 1 << 30,
             kernels = { { kernel = "read", gbps = 10, spread = 0.01, isa = "avx2" },
                         { kernel = "copy", gbps = 8, spread = 0.02, isa = "avx2" } },
             warnings = {} }
  end,
}

local function tmpname()
  local name = os.tmpname()
  return name
end

local function xml_ok(svg)
  local path = tmpname()
  local f = assert(io.open(path, "w"))
  f:write(svg)
  f:close()
  local ok = os.execute("xmllint --noout " .. path .. " 2>/dev/null")
  os.remove(path)
  return ok
end

describe("lnuma.report for benchmark results", function()
  local has_xmllint = os.execute("command -v xmllint >/dev/null 2>&1")

  for kind, make in pairs(SAMPLES) do
    it("renders a " .. kind .. " result as text, CSV and SVG that parses as XML", function()
      local r = make()
      local text = report.text(r)
      assert.is_string(text)
      assert.is_true(#text > 20)
      local csv = report.csv(r)
      assert.matches("\n$", csv)
      local svg = report.svg(r)
      assert.matches("^<%?xml", svg)
      assert.matches("</svg>\n$", svg)
      if not has_xmllint then pending("xmllint is not installed (make deps installs it)") end
      assert.is_true(xml_ok(svg), kind .. " SVG does not parse")
    end)
  end

  it("writes the values into the cells of a heatmap and escapes text", function()
    local r = matrix()
    r.rows[1] = "<a&b>"
    local svg = report.svg(r)
    assert.matches(">90.5<", svg)
    assert.matches(">140<", svg)
    assert.matches("&lt;a&amp;b&gt;", svg)
    assert.matches(">–<", svg) -- the missing cell
  end)

  it("draws the latency curve on a log size axis with the caches marked", function()
    local svg = report.svg(curve())
    assert.matches(">4K<", svg)
    assert.matches(">16M<", svg)
    assert.matches("L1d 48K", svg)
    assert.matches("L2 2M", svg)
    assert.matches("log scale", svg)
  end)

  it("lays out the CSV of a matrix as a grid", function()
    assert.equal("cpu_node,node0,node1,node2\n0,90.5,140.25,200\n1,141,88.125,\n",
                 report.csv(matrix()))
  end)

  it("shows a heatmap in the terminal, with or without colour", function()
    local plain = report.heatmap(matrix())
    assert.matches("node 0", plain)
    assert.matches("90.5", plain)
    assert.is_nil(plain:find("\27", 1, true))
    assert.is_not_nil(report.heatmap(matrix(), { color = true }):find("\27[48;5;", 1, true))
  end)

  it("says the warnings of a result loudly", function()
    assert.matches("WARNING: only a test", report.text(SAMPLES.latency()))
  end)

  it("formats sizes and tables", function()
    assert.equal("4K", report.size(4096))
    assert.equal("1.5M", report.size(1572864))
    assert.equal("1G", report.size(1 << 30))
    assert.equal("a   b\n--  -\nxy  1", report.table({ "a", "b" }, { { "xy", 1 } }))
  end)

  it("round-trips a result through JSON and renders it again the same", function()
    local r = matrix()
    r.values[2][3] = 77 -- JSON has no NaN
    local back = report.decode(report.json(r))
    assert.same(r.values, back.values)
    assert.equal(report.svg(r), report.svg(back))
    local path = tmpname()
    assert.is_true(report.save(r, path .. ".json"))
    assert.same(r.values, report.load(path .. ".json").values)
    os.remove(path .. ".json")
    os.remove(path)
  end)

  describe("bad arguments", function()
    it("rejects what is not a benchmark result", function()
      assert.error_matches(function() report.svg({ benchmark = "nope" }) end,
        "bad argument #1 to 'svg' (not an lnuma benchmark result: benchmark = \"nope\"", 1, true)
      assert.error_matches(function() report.svg(42) end,
        "bad argument #1 to 'svg' (table expected, got number)", 1, true)
      assert.error_matches(function() report.text("x") end,
        "bad argument #1 to 'text' (table expected, got string)", 1, true)
      assert.error_matches(function() report.csv({}) end,
        "bad argument #1 to 'csv' (not an lnuma benchmark result: benchmark = nil", 1, true)
      assert.has_error(function() report.save(matrix(), 3) end)
    end)
    it("returns nil and a message for a file it cannot read or write", function()
      local ok, msg = report.save(matrix(), "/nonexistent/dir/x.svg")
      assert.is_nil(ok)
      assert.is_string(msg)
      local v, err = report.load("/nonexistent/x.json")
      assert.is_nil(v)
      assert.is_string(err)
    end)
  end)
end)
