-- Measured memory attributes into hwloc (issue 16): topo:export_xml(path,
-- {attributes = matrix}) writes lnuma's latency (ns) and bandwidth (GB/s ->
-- MiB/s) matrices as hwloc memattrs, which lnuma.topology{xml =} and hwloc's
-- own lstopo read back; topo:memattr() groups them by target and initiator.
-- And the topology C files call each other in one order (issue 14).
local lnuma = require "lnuma"
local plan = require "lnuma.plan"
local sys = dofile("spec/support/sys.lua")

local LUA = os.getenv("LUA") or "lua5.4"
local FIXTURE = "spec/fixtures/memory-only-node.xml"

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))
teardown(function() os.execute("rm -rf " .. dir) end)

local n = 0
local function tmp(ext)
  n = n + 1
  return ("%s/memattrs%d.%s"):format(dir, n, ext or "xml")
end

-- hwloc's integer units and cpuset notation (spec/support/memattrs.lua).
local M = dofile("spec/support/memattrs.lua")
local ns, mib, hwloc_cpuset = M.ns, M.mib, M.hwloc_cpuset

local function has_lstopo()
  local _, code = sys.run("command -v lstopo-no-graphics")
  return code == 0
end

-- A matrix result of lnuma.bench.matrix shape on topo with the given values
-- (values[i][j]: row i, column j), as if measured.
local function fake_matrix(topo, metric, values, kernel)
  local r = lnuma.bench.matrix { topology = topo, plan = true, metric = metric,
                                 kernel = kernel }
  r.planned = nil
  r.values = values
  return r
end

local SYN = "pack:2 numa:1 core:2 pu:1" -- node 0: CPUs 0-1, node 1: CPUs 2-3

describe("topo:export_xml with measured attributes", function()
  local topo = assert(lnuma.topology())

  it("writes this machine's latency matrix as hwloc Latency and ReadLatency in ns", function()
    local m = assert(lnuma.bench.matrix { metric = "latency", size = "1M", repetitions = 1,
                                          min_time = 0 })
    local path = tmp()
    assert.is_true(topo:export_xml(path, { attributes = m }))
    local back = lnuma.topology { xml = path }
    for i, row in ipairs(m.rows) do
      for j, col in ipairs(m.columns) do
        local v, unit = back:memattr("latency", col, row)
        assert.equal(ns(m.values[i][j]), v)
        assert.equal("ns", unit)
        assert.equal(v, (back:memattr("read_latency", col, row)))
      end
    end
    local lat = back:memattr("latency")
    assert.is_false(lat.higher_is_better)
    assert.same(topo.nodes[1].cpus, lat.targets[1].initiators[1].cpus)
    -- The snapshot exported is unchanged: its values went into a copy.
    assert.same(lnuma.topology().memattrs, topo.memattrs)
  end)

  it("is read by hwloc's own lstopo --memattrs --input", function()
    if not has_lstopo() then return pending("lstopo-no-graphics is not installed (hwloc)") end
    local m = assert(lnuma.bench.matrix { metric = "latency", size = "1M", repetitions = 1,
                                          min_time = 0 })
    local bw = assert(lnuma.bench.matrix { metric = "bandwidth", size = "1M", repetitions = 1,
                                           min_time = 0, threads = 1 })
    local path = tmp()
    assert.is_true(topo:export_xml(path, { attributes = { m, bw } }))
    local out, code = sys.run("lstopo-no-graphics -p --memattrs --input " .. path)
    assert.equal(0, code)
    local row, col = m.rows[1], m.columns[1]
    local cpus = hwloc_cpuset(topo.nodes[1].cpus)
    local function section(name)
      return out:match("name `" .. name .. "'[^\n]*\n(.-)\nMemory attribute") or
        out:match("name `" .. name .. "'[^\n]*\n(.*)$")
    end
    local want = ("NUMANode P#%d = %d from cpuset %s"):format(col, ns(m.values[1][1]), cpus)
    assert.matches(want, section("Latency"), 1, true)
    assert.matches(want, section("ReadLatency"), 1, true)
    want = ("NUMANode P#%d = %d from cpuset %s"):format(bw.columns[1], mib(bw.values[1][1]), cpus)
    assert.matches(want, section("ReadBandwidth"), 1, true)
    assert.matches(want, section("Bandwidth"), 1, true)
    assert.equal(row, topo.nodes[1].os_index)
  end)

  it("maps kernels to hwloc's attributes; Bandwidth is the mean of read and write", function()
    local syn = lnuma.topology { synthetic = SYN }
    local rd = fake_matrix(syn, "bandwidth", { { 20, 10 }, { 9, 19 } }, "read")
    local wr = fake_matrix(syn, "bandwidth", { { 10, 6 }, { 5, 11 } }, "write_nt")
    local path = tmp()
    assert.is_true(syn:export_xml(path, { attributes = { rd, wr } }))
    local back = lnuma.topology { xml = path }
    assert.equal(mib(20), back:memattr("read_bandwidth", 0, 0))
    assert.equal(mib(6), back:memattr("write_bandwidth", 1, 0))
    assert.equal(mib(15), back:memattr("bandwidth", 0, 0))
    assert.equal(mib(8), back:memattr("bandwidth", 1, 0))
    assert.equal(mib(7), back:memattr("bandwidth", 0, 1))
    assert.equal("MiB/s", select(2, back:memattr("bandwidth", 1, 1)))
    assert.is_true(back:memattr("bandwidth").higher_is_better)
    assert.is_nil(back:memattr("latency"))
    -- A mixed kernel (copy, triad) is Bandwidth itself.
    local copy = fake_matrix(syn, "bandwidth", { { 12, 7 }, { 7, 12 } }, "copy")
    path = tmp()
    assert.is_true(syn:export_xml(path, { attributes = { rd, copy } }))
    back = lnuma.topology { xml = path }
    assert.equal(mib(7), back:memattr("bandwidth", 1, 0))
    assert.equal(mib(10), back:memattr("read_bandwidth", 1, 0))
    assert.is_nil(back:memattr("write_bandwidth"))
  end)

  it("rounds latencies to the nearest ns and bandwidths to the nearest MiB/s", function()
    local syn = lnuma.topology { synthetic = SYN }
    local lat = fake_matrix(syn, "latency", { { 80.4, 130.5 }, { 131.49, 81 } })
    local bw = fake_matrix(syn, "bandwidth", { { 1, 1.048576 }, { 100, 0.5 } }, "read")
    local path = tmp()
    assert.is_true(syn:export_xml(path, { attributes = { lat, bw } }))
    local back = lnuma.topology { xml = path }
    assert.same({ 80, 131, 131, 81 }, { back:memattr("latency", 0, 0),
      back:memattr("latency", 1, 0), back:memattr("latency", 0, 1),
      (back:memattr("latency", 1, 1)) })
    assert.same({ 954, 1000, 95367, 477 }, { back:memattr("bandwidth", 0, 0),
      back:memattr("bandwidth", 1, 0), back:memattr("bandwidth", 0, 1),
      (back:memattr("bandwidth", 1, 1)) })
  end)

  it("replaces values a topology had for the same initiator and keeps the others", function()
    local fx = lnuma.topology { xml = FIXTURE }
    local m = fake_matrix(fx, "latency", { { 91, 111, 260 }, { 112, 92, 310 } })
    local path = tmp()
    assert.is_true(fx:export_xml(path, { attributes = m }))
    local back = lnuma.topology { xml = path }
    assert.equal(260, back:memattr("latency", 2, 0))
    assert.equal(111, back:memattr("latency", 1, 0))
    assert.equal(40000, back:memattr("bandwidth", 0, 0)) -- the fixture's, untouched
    assert.equal(250, fx:memattr("latency", 2, 0))
  end)
end)

describe("topo:export_xml refuses what it cannot write faithfully", function()
  local syn = lnuma.topology { synthetic = SYN }
  local lat = fake_matrix(syn, "latency", { { 80, 130 }, { 130, 80 } })
  local function refused(attributes, pattern)
    local path = tmp()
    local ok, err = pcall(syn.export_xml, syn, path, { attributes = attributes })
    assert.is_false(ok)
    assert.matches(pattern, err)
    assert.is_nil(io.open(path, "r"), "a file was written")
  end

  it("refuses what is not a measured matrix", function()
    refused("x", "^bad argument #2 to 'export_xml' %(attributes: a result of "
            .. "lnuma%.bench%.matrix %(or an array of them%) expected, got string%)$")
    refused({}, "attributes: a result of lnuma%.bench%.matrix %(or an array of them%) "
            .. "expected, got an empty table")
    refused({ benchmark = "latency", latency_ns = 80 },
            "attributes: a result of lnuma%.bench%.matrix expected, got a 'latency' result")
    local planned = lnuma.bench.matrix { topology = syn, plan = true }
    refused(planned, "attributes: the matrix was only planned %(plan = true%): it has no "
            .. "measured values")
    refused({ lat, 3 }, "attributes: result 2: a result of lnuma%.bench%.matrix expected, got "
            .. "number")
  end)

  it("refuses a matrix with a cell without a value (never half written)", function()
    refused(fake_matrix(syn, "latency", { { 80, 0 / 0 }, { 130, 80 } }),
            "attributes: latency matrix cell node 0 %-> node 1 has no measured value %(nan%)")
    refused(fake_matrix(syn, "bandwidth", { { 10, 5 }, { 5 } }, "read"),
            "attributes: bandwidth matrix cell node 1 %-> node 1 has no measured value %(nil%)")
    refused(fake_matrix(syn, "latency", { { 80, -1 }, { 130, 80 } }),
            "cell node 0 %-> node 1 has no measured value %(%-1%)")
  end)

  it("refuses two results for the same attribute and nodes the topology lacks", function()
    refused({ lat, lat }, "attributes: results 1 and 2 would both write ReadLatency")
    local fx = lnuma.topology { xml = FIXTURE }
    local m = fake_matrix(fx, "latency", { { 91, 111, 260 }, { 112, 92, 310 } })
    refused(m, "attributes: column node 2 is not a node of this topology %(nodes 0%-1%)")
    local bad = fake_matrix(syn, "latency", { { 80, 130 }, { 130, 80 } })
    bad.rows = { 0, 7 }
    refused(bad, "attributes: row node 7 is not a node of this topology %(nodes 0%-1%)")
    local cpuless = fake_matrix(fx, "latency", { { 91, 111, 260 }, { 112, 92, 310 } })
    cpuless.rows = { 0, 2 }
    local ok, err = pcall(fx.export_xml, fx, tmp(), { attributes = cpuless })
    assert.is_false(ok)
    assert.matches("attributes: row node 2 has no CPUs: it cannot be an initiator", err, 1, true)
  end)

  it("names unknown options and bad option tables", function()
    assert.error_matches(function() syn:export_xml(tmp(), { attribute = lat }) end,
                         "bad argument #2 to 'export_xml' (unknown option 'attribute')", 1, true)
    assert.error_matches(function() syn:export_xml(tmp(), "lat") end,
                         "bad argument #2 to 'export_xml' (table expected, got string)", 1, true)
    assert.error_matches(function() syn:export_xml("", { attributes = lat }) end,
                         "bad argument #1 to 'export_xml' (path: the path is empty)", 1, true)
    assert.error_matches(function() syn.export_xml({}, tmp(), { attributes = lat }) end,
                         "calling 'export_xml' on bad self", 1, true)
  end)

  it("returns nil, message, errno when the file cannot be written", function()
    local ok, msg, code = syn:export_xml(dir .. "/no-such-dir/out.xml", { attributes = lat })
    assert.is_nil(ok)
    assert.matches("cannot write XML file '" .. dir .. "/no-such-dir/out.xml'", msg, 1, true)
    assert.equal(2, code) -- ENOENT
  end)

  it("lnuma.core.topology_export_xml checks the values it takes, whoever passes them", function()
    local raw = lnuma.core.topology_export_xml
    local function bad(values, pattern)
      local path = tmp()
      local ok, err = pcall(raw, syn, path, values)
      assert.is_false(ok)
      assert.matches(pattern, err, 1, true)
      assert.is_nil(io.open(path, "r"), "a file was written")
    end
    bad("x", "(values: table expected, got string)")
    bad({ 7 }, "(values: element 1: a plain table expected)")
    bad({ setmetatable({ name = "Latency", initiator = 0, target = 0, value = 9 }, {}) },
        "(values: element 1: a plain table expected)")
    bad({ { name = "Capacity", initiator = 0, target = 0, value = 9 } },
        "(values: element 1: name: not one of Latency, ReadLatency, WriteLatency, Bandwidth, "
        .. "ReadBandwidth, WriteBandwidth)")
    bad({ { name = "Latency", initiator = 0.5, target = 0, value = 9 } },
        "(values: element 1: initiator and target: node numbers expected)")
    bad({ { name = "Latency", initiator = 0, target = 0, value = "9" } },
        "(values: element 1: value: a number expected)")
    bad({ { name = "Latency", initiator = 0, target = 1 << 40, value = 9 } },
        "(values: element 1: no such node)")
    bad({ { name = "Bandwidth", initiator = 0, target = 5, value = 9 } },
        "(values: memory attribute value 1 (node 0 -> node 5): target node 5 does not exist)")
    -- An array behind metamethods is copied first, then checked like any other.
    local proxy = setmetatable({}, { __len = function() return 1 end, __index = function()
      return { name = "Latency", initiator = 0, target = 1, value = 0 / 0 } end })
    bad(proxy, "nan ns is not a measured value")
    local path = tmp()
    assert.is_true(raw(syn, path, { { name = "WriteLatency", initiator = 1, target = 0,
                                      value = 99.6 } }))
    assert.same({ 100, "ns" }, { lnuma.topology { xml = path }:memattr("write_latency", 0, 1) })
  end)

  it("keeps working when lnuma.topology is loaded again", function()
    package.loaded["lnuma.topology"] = nil
    require "lnuma.topology"
    local path = tmp()
    assert.is_true(syn:export_xml(path, { attributes = lat }))
    assert.equal(130, lnuma.topology { xml = path }:memattr("latency", 1, 0))
  end)

  it("refuses a result of an unknown metric or bandwidth kernel", function()
    local odd = fake_matrix(syn, "latency", { { 80, 130 }, { 130, 80 } })
    odd.metric = "loaded"
    refused(odd, "attributes: metric 'loaded' is neither latency nor bandwidth")
    odd = fake_matrix(syn, "bandwidth", { { 8, 5 }, { 5, 8 } }, "read")
    odd.parameters.kernel = "avx"
    refused(odd, "attributes: bandwidth kernel 'avx' is not one of read, write, write_nt, "
            .. "copy, copy_nt, triad")
  end)
end)

describe("topo:memattr", function()
  local fx = lnuma.topology { xml = FIXTURE }

  it("groups a topology's values by target node and initiator, in hwloc's units", function()
    local lat = fx:memattr("latency")
    assert.same({ name = "latency", unit = "ns", higher_is_better = false, targets = {
      { node = 0, initiators = { { node = 0, cpus = { 0, 1, 2, 3 }, value = 90 } } },
      { node = 1, initiators = { { node = 1, cpus = { 4, 5, 6, 7 }, value = 90 } } },
      { node = 2, initiators = { { node = 0, cpus = { 0, 1, 2, 3 }, value = 250 },
                                 { node = 1, cpus = { 4, 5, 6, 7 }, value = 300 } } },
    } }, lat)
    local all = fx:memattr()
    assert.same(lat, all.latency)
    assert.equal(40000, all.bandwidth.targets[1].initiators[1].value)
    assert.same({ 300, "ns" }, { fx:memattr("latency", 2, 1) })
    assert.is_nil(fx:memattr("latency", 1, 0))
    assert.is_nil(fx:memattr("write_latency"))
    assert.same({}, lnuma.topology { synthetic = SYN }:memattr())
    assert.equal(lnuma.report.json(all), lnuma.report.json(lnuma.report.decode(
      lnuma.report.json(all))))
  end)

  it("names bad arguments", function()
    assert.error_matches(function() fx:memattr(1) end,
                         "bad argument #1 to 'memattr' (name: string expected, got number)", 1,
                         true)
    assert.error_matches(function() fx:memattr("latency", 2) end,
                         "bad argument #3 to 'memattr' (initiator: give both target and "
                         .. "initiator, or neither)", 1, true)
    assert.error_matches(function() fx:memattr("latency", 2, 0.5) end,
                         "bad argument #3 to 'memattr' (initiator: integer expected, got a "
                         .. "fraction)", 1, true)
  end)
end)

describe("plans and memory attributes", function()
  local path = tmp("lua")
  local function run(text)
    local f = assert(io.open(path, "w"))
    f:write(text)
    f:close()
    return plan.load(path, { topology = lnuma.topology { xml = FIXTURE } })
  end

  it("read topology:memattr (it only reads)", function()
    local p, err = run([[
      local v, unit = topology:memattr("latency", 2, 1)
      local lat = topology:memattr("latency")
      error(("%d %s %d"):format(v, unit, #lat.targets))]])
    assert.is_nil(p)
    assert.matches("300 ns 3$", err)
    p, err = run([[topology:memattr("latency", 2)]])
    assert.is_nil(p)
    assert.matches("bad argument #3 to 'memattr' (initiator: give both target and initiator, "
                   .. "or neither)", err, 1, true)
  end)

  it("cannot write them: export_xml is refused with attributes too", function()
    local target = tmp()
    local p, err = run(([[
      local m = { benchmark = "matrix", metric = "latency", rows = {0}, columns = {0},
                  values = {{90}} }
      return topology:export_xml(%q, { attributes = m })]]):format(target))
    assert.is_nil(p)
    assert.matches("topology:export_xml is not available in a plan", err, 1, true)
    assert.is_nil(io.open(target, "r"))
  end)
end)

describe("lnuma matrix --export-xml", function()
  it("writes the measured matrix where lnuma topo --xml shows it", function()
    local path = tmp()
    local out, code = sys.run(("%s bin/lnuma matrix --size 1M --repetitions 1 --export-xml %s")
                                :format(LUA, path))
    assert.equal(0, code, out)
    out, code = sys.run(("%s bin/lnuma topo --xml %s"):format(LUA, path))
    assert.equal(0, code, out)
    local node = lnuma.topology().nodes[1].os_index
    assert.matches(("latency%%s+node %d %%-> node %d: %%d+ ns"):format(node, node), out)
    assert.matches(("read_latency%%s+node %d %%-> node %d: %%d+ ns"):format(node, node), out)
  end)

  it("refuses --export-xml with --plan and names an unwritable file", function()
    local out, code = sys.run(("%s bin/lnuma matrix --plan --export-xml %s"):format(LUA, tmp()))
    assert.not_equal(0, code)
    assert.matches("--export-xml: nothing is measured with --plan", out, 1, true)
    out, code = sys.run(("%s bin/lnuma matrix --size 1M --repetitions 1 --export-xml %s")
                          :format(LUA, dir .. "/none/x.xml"))
    assert.not_equal(0, code)
    assert.matches("--export-xml: cannot write XML file '" .. dir .. "/none/x.xml'", out, 1, true)
  end)
end)

describe("the topology C files (issue 14)", function()
  it("call each other in one order: no cycle", function()
    local build = os.getenv("LNUMA_BUILD") or "build"
    local files = { "topology_input", "topology", "topology_io", "topology_memattrs",
                    "topology_probe", "topology_hwloc" }
    local _, code = sys.run("command -v nm")
    if code ~= 0 then return pending("nm (binutils) is not installed") end
    local defs, calls = {}, {}
    for _, f in ipairs(files) do
      local obj = ("%s/obj/csrc/core/%s.o"):format(build, f)
      local out, rc = sys.run("nm " .. obj)
      if rc ~= 0 then return pending("no object " .. obj .. " to read") end
      calls[f] = {}
      for kind, sym in out:gmatch("%s(%u)%s+([%w_]+)\n") do
        if kind == "T" then defs[sym] = f elseif kind == "U" then calls[f][#calls[f] + 1] = sym end
      end
    end
    -- Each file may call only files after it in this order.
    local rank = {}
    for i, f in ipairs(files) do rank[f] = i end
    rank.topology_probe, rank.topology_memattrs = rank.topology_io, rank.topology_io
    local wrong = {}
    for _, f in ipairs(files) do
      for _, sym in ipairs(calls[f]) do
        local g = defs[sym]
        if g and g ~= f and rank[g] <= rank[f] then
          wrong[#wrong + 1] = ("%s calls %s of %s"):format(f, sym, g)
        end
      end
    end
    assert.same({}, wrong)
    assert.equal("topology_hwloc", defs.lnuma__set_from_hwloc)
  end)
end)
