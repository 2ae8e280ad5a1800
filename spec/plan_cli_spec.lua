-- `lnuma plan check` and `lnuma plan show`: a plan checked against this
-- machine or another one, from the command line.
local report = require "lnuma.report"
local H = dofile("spec/support/helpers.lua")

local build = os.getenv("LNUMA_BUILD") or "build"

local function sh(cmd)
  local ok, out, code = H.sh(cmd)
  return ok and 0 or code, out
end

local function lnuma(args)
  return sh(("LNUMA_BUILD=%s lua5.4 bin/lnuma %s"):format(build, args))
end

local dir = H.tmpdir()
teardown(function() os.execute("rm -rf " .. dir) end)

local function write(name, text) return H.write(dir .. "/" .. name, text) end

local NODE1 = write("node1.lua", [[
local cpus = topology:cpus_of(1)
return {
  threads = { { name = "feed", cpus = cpus[1], uses = { "ring" } },
              { name = "strategy", cpus = cpus[3], uses = { "ring" } } },
  memory = { { name = "ring", size = "4M", node = 1 } },
  pools = { { name = "orders", node = 1, size = 256, count = 1000 } },
}
]])
local SYNTHETIC = '--synthetic "pack:2 numa:1 core:2 pu:2"'

describe("lnuma plan check", function()
  it("prints the resolved plan and exits 0 for a valid plan", function()
    local code, out = lnuma("plan check examples/host/engine.lua")
    assert.equal(0, code, out)
    assert.matches("engine%.lua: valid on this machine", out)
    assert.matches("feed", out)
    assert.matches("67108864 bytes", out)
    assert.matches("100000 x 256 bytes", out)
  end)

  it("checks against another machine with --synthetic, and says what it resolved", function()
    local code, out = lnuma("plan check " .. NODE1 .. " " .. SYNTHETIC)
    assert.equal(0, code, out)
    assert.matches("valid on another machine", out)
    assert.matches("CPUs 4 ", out)
    assert.matches("warnings: none", out)
  end)

  it("prints JSON with --json", function()
    local code, out = lnuma("plan check " .. NODE1 .. " " .. SYNTHETIC .. " --json")
    assert.equal(0, code, out)
    local v = report.decode and report.decode(out) or require("dkjson").decode(out)
    assert.is_true(v.valid)
    assert.equal("feed", v.plan.threads[1].name)
    assert.same({ 4 }, v.plan.threads[1].cpus)
    assert.equal(4 << 20, v.plan.memory[1].size)
    assert.equal(1, v.plan.pools[1].node)
  end)

  it("exits 1 with the error, naming file and key path", function()
    local bad = write("bad.lua", "return { threads = { { name = 'a', cpus = 40 } } }")
    local code, out = lnuma("plan check " .. bad .. " " .. SYNTHETIC)
    assert.equal(1, code)
    assert.equal(bad .. ": threads[1].cpus: CPU 40 does not exist on the target machine (0-7)\n",
                 out)
    local code2, json = lnuma("plan check " .. bad .. " " .. SYNTHETIC .. " --json")
    assert.equal(1, code2)
    local v = require("dkjson").decode(json)
    assert.is_false(v.valid)
    assert.matches("threads%[1%]%.cpus", v.error)
  end)

  it("refuses a plan for node 1 on a machine without one", function()
    local code, out = lnuma("plan check " .. NODE1 .. ' --synthetic "pack:1 numa:1 core:2 pu:1"')
    assert.equal(1, code)
    assert.matches("node1%.lua", out)
  end)

  it("explains a bad --synthetic or --xml", function()
    local code, out = lnuma("plan check " .. NODE1 .. ' --synthetic "pack:x"')
    assert.equal(1, code)
    assert.matches("%-%-synthetic", out)
    code = lnuma("plan check " .. NODE1 .. " --xml /nonexistent.xml")
    assert.equal(1, code)
  end)
end)

describe("lnuma plan show", function()
  it("draws which thread and region sit on which node and CPU", function()
    local code, out = lnuma("plan show " .. NODE1 .. " " .. SYNTHETIC)
    assert.equal(0, code, out)
    assert.matches("node 0  CPUs 0%-3", out)
    assert.matches("node 1  CPUs 4%-7", out)
    local node1 = out:match("node 1 .*")
    assert.matches("thread feed%s+CPU 4", node1)
    assert.matches("thread strategy%s+CPU 6", node1)
    assert.matches("memory ring%s+4M, bind", node1)
    assert.matches("pool   orders%s+pool 1000 x 256 bytes", node1)
  end)

  it("writes SVG with --svg", function()
    local svg = dir .. "/plan.svg"
    local code, out = lnuma("plan show " .. NODE1 .. " " .. SYNTHETIC .. " --svg " .. svg)
    assert.equal(0, code, out)
    local f = assert(io.open(svg))
    local text = f:read("a")
    f:close()
    assert.matches("^<svg ", text)
    assert.matches("</svg>\n$", text)
    assert.matches(">feed<", text)
    assert.matches("memory ring: 4M", text)
  end)
end)
