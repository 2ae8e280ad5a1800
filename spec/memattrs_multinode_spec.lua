-- Measured memory attributes on machines with several nodes (issue 16): a
-- node x node latency and bandwidth matrix written as hwloc memattrs comes
-- back cell for cell through lnuma.topology{xml =} and through hwloc's own
-- lstopo.  On one node every test is pending with its reason; inside the
-- emulated machines (make test-vm) they run for real.
local lnuma = require "lnuma"
local sys = dofile("spec/support/sys.lua")

local ONE_NODE = "needs ≥2 NUMA nodes: runs in the emulated machines (make test-vm)"
local QUICK = { repetitions = 1, min_time = 0, size = "256K" }

local function with(t)
  for k, v in pairs(QUICK) do t[k] = v end
  return t
end

-- hwloc's integer units and cpuset notation (spec/support/memattrs.lua).
local M = dofile("spec/support/memattrs.lua")
local ns, mib, hwloc_cpuset = M.ns, M.mib, M.hwloc_cpuset

describe("measured memory attributes #multinode", function()
  local topo = assert(lnuma.topology())
  local path = os.tmpname()
  teardown(function() os.remove(path) end)

  local function cpus_of(node)
    for _, n in ipairs(topo.nodes) do
      if n.os_index == node then return n.cpus end
    end
  end

  it("round-trip a latency and a bandwidth matrix cell for cell", function()
    if #topo.nodes < 2 then return pending(ONE_NODE) end
    local lat = assert(lnuma.bench.matrix(with { metric = "latency" }))
    local bw = assert(lnuma.bench.matrix(with { metric = "bandwidth", threads = 1 }))
    assert.is_true(#lat.columns >= 2)
    assert.is_true(topo:export_xml(path, { attributes = { lat, bw } }))
    local back = lnuma.topology { xml = path }
    assert.equal(#topo.nodes, #back.nodes)
    for i, row in ipairs(lat.rows) do
      for j, col in ipairs(lat.columns) do
        assert.equal(ns(lat.values[i][j]), (back:memattr("latency", col, row)))
        assert.equal(ns(lat.values[i][j]), (back:memattr("read_latency", col, row)))
      end
    end
    for i, row in ipairs(bw.rows) do
      for j, col in ipairs(bw.columns) do
        assert.equal(mib(bw.values[i][j]), (back:memattr("read_bandwidth", col, row)))
        assert.equal(mib(bw.values[i][j]), (back:memattr("bandwidth", col, row)))
      end
    end
    -- One value per row and column, each initiator the row node's CPUs.
    local l = back:memattr("latency")
    assert.equal(#lat.columns, #l.targets)
    for _, t in ipairs(l.targets) do
      assert.equal(#lat.rows, #t.initiators)
      for _, i in ipairs(t.initiators) do assert.same(cpus_of(i.node), i.cpus) end
    end
  end)

  it("are what lstopo --memattrs shows for every target and initiator", function()
    if #topo.nodes < 2 then return pending(ONE_NODE) end
    local _, found = sys.run("command -v lstopo-no-graphics")
    if found ~= 0 then return pending("lstopo-no-graphics is not installed (hwloc)") end
    local lat = assert(lnuma.bench.matrix(with { metric = "latency" }))
    assert.is_true(topo:export_xml(path, { attributes = lat }))
    local out, code = sys.run("lstopo-no-graphics -p --memattrs --input " .. path)
    assert.equal(0, code, out)
    local section = out:match("name `Latency'[^\n]*\n(.-)\nMemory attribute")
    assert.is_string(section, out)
    for i, row in ipairs(lat.rows) do
      for j, col in ipairs(lat.columns) do
        assert.matches(("NUMANode P#%d = %d from cpuset %s"):format(col, ns(lat.values[i][j]),
          hwloc_cpuset(cpus_of(row))), section, 1, true)
      end
    end
    local lines = 0
    for _ in section:gmatch("NUMANode P#") do lines = lines + 1 end
    assert.equal(#lat.rows * #lat.columns, lines)
  end)
end)
