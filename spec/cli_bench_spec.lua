-- The benchmark commands of the lnuma CLI, run as a user runs them (small
-- sizes): JSON on stdout, pictures and data files where asked, errors that
-- name the option.
local lnuma = require "lnuma"
local H = dofile("spec/support/helpers.lua")


local sh_quote, run = H.quote, H.lnuma

local tmpdir = H.tmpdir

local function xml_ok(path)
  return os.execute("xmllint --noout " .. sh_quote(path) .. " 2>/dev/null")
end

describe("lnuma bandwidth", function()
  it("prints a JSON object with gbps for --kernel K --size S --threads N --json", function()
    local out, err, code = run("bandwidth --kernel read --size 4M --threads 1 --json "
                               .. "--repetitions 2 --min-time 1")
    assert.equal(0, code, err)
    local r = assert(lnuma.report.decode(out))
    assert.is_number(r.gbps)
    assert.is_true(r.gbps > 0)
    assert.equal("read", r.kernel)
    assert.equal(4 * 1024 * 1024, r.size)
    assert.equal(1, r.threads)
    assert.equal(1, r.placement.fraction)
  end)

  it("prints a readable summary, and writes SVG and CSV where asked", function()
    local dir = tmpdir()
    finally(function() os.execute("rm -rf " .. sh_quote(dir)) end)
    local out, err, code = run(("bandwidth --kernel triad --size 3M --repetitions 2 "
      .. "--min-time 1 --svg %s/bw.svg --csv %s/bw.csv"):format(dir, dir))
    assert.equal(0, code, err)
    assert.matches("^bandwidth: [%d.]+ GB/s", out)
    assert.matches("placement: 100.0%%", out)
    assert.is_true(xml_ok(dir .. "/bw.svg"))
    local f = assert(io.open(dir .. "/bw.csv"))
    assert.equal("repetition,gbps", f:read("l"))
    f:close()
  end)

  it("names the option that is wrong", function()
    local _, err, code = run("bandwidth --kernel scale")
    assert.equal(1, code)
    assert.matches("lnuma bandwidth: %-%-kernel: 'scale' is not one of read", err)
    _, err, code = run("bandwidth --size 12X")
    assert.is_true(code ~= 0)
    assert.matches("'12X' is not a size", err)
  end)
end)

describe("lnuma latency", function()
  it("prints the latency as JSON with its placement", function()
    local out, err, code = run("latency --size 2M --repetitions 2 --min-time 1 --json")
    assert.equal(0, code, err)
    local r = assert(lnuma.report.decode(out))
    assert.is_true(r.latency_ns > 0)
    assert.equal(1, r.placement.fraction)
  end)

  it("draws the curve with --curve --svg", function()
    local dir = tmpdir()
    finally(function() os.execute("rm -rf " .. sh_quote(dir)) end)
    local out, err, code = run(("latency --curve --sizes 4K,64K,1M --repetitions 2 "
      .. "--min-time 1 --svg %s/c.svg"):format(dir))
    assert.equal(0, code, err)
    assert.matches("latency curve", out)
    assert.is_true(xml_ok(dir .. "/c.svg"))
  end)
end)

describe("lnuma matrix, loaded, migration", function()
  it("plans a matrix on a synthetic machine", function()
    local out, err, code = run("matrix --plan --synthetic 'pack:2 numa:2 core:2 pu:1' --json")
    assert.equal(0, code, err)
    local r = assert(lnuma.report.decode(out))
    assert.equal(4, #r.rows)
    assert.equal(4, #r.columns)
    assert.is_true(r.planned)
  end)

  it("measures the latency matrix of this machine", function()
    local out, err, code = run("matrix --size 2M --repetitions 2")
    assert.equal(0, code, err)
    assert.matches("latency matrix", out)
    assert.matches("node 0", out)
  end)

  it("runs the loaded-latency curve where there are two CPUs", function()
    if #lnuma.topology().allowed.cpus < 2 then pending("needs two CPUs") end
    local out, err, code = run("loaded --size 2M --traffic-size 4M --delays 0,1000 "
                               .. "--step-time 5 --json")
    assert.equal(0, code, err)
    assert.equal(2, #assert(lnuma.report.decode(out)).points)
  end)

  it("measures page migration", function()
    local out, err, code = run("migration --size 1M --repetitions 1 --json")
    assert.equal(0, code, err)
    assert.equal(256, assert(lnuma.report.decode(out)).pages)
  end)
end)

describe("lnuma report", function()
  it("re-renders a saved result as text and SVG", function()
    local dir = tmpdir()
    finally(function() os.execute("rm -rf " .. sh_quote(dir)) end)
    local json = run("latency --size 1M --repetitions 2 --min-time 1 --json")
    local f = assert(io.open(dir .. "/r.json", "w"))
    f:write(json)
    f:close()
    local out, err, code = run(("report %s/r.json --svg %s/r.svg"):format(dir, dir))
    assert.equal(0, code, err)
    assert.matches("^latency: [%d.]+ ns per load", out)
    assert.is_true(xml_ok(dir .. "/r.svg"))
  end)

  it("says what is wrong with a file that is not a result", function()
    local _, err, code = run("report /nonexistent.json")
    assert.equal(1, code)
    assert.matches("nonexistent", err)
  end)
end)

describe("lnuma run", function()
  it("runs a script with lnuma preloaded and its arguments in arg and ...", function()
    local dir = tmpdir()
    finally(function() os.execute("rm -rf " .. sh_quote(dir)) end)
    local f = assert(io.open(dir .. "/s.lua", "w"))
    f:write('local a, b = ...\nprint(lnuma._VERSION, arg[0] ~= nil, arg[1], a, b)\n'
            .. 'print(rawget(_G, "lnuma"))\n')
    f:close()
    local out, err, code = run(("run %s/s.lua one --two"):format(dir))
    assert.equal(0, code, err)
    assert.equal(lnuma._VERSION .. "\ttrue\tone\tone\t--two\nnil\n", out)
  end)

  it("reports a script's error with exit status 1", function()
    local _, err, code = run("run /nonexistent.lua")
    assert.equal(1, code)
    assert.matches("nonexistent", err)
  end)
end)
