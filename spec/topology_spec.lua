local lnuma = require "lnuma"
local sys = dofile("spec/support/sys.lua")

local FIXTURES = "spec/fixtures/"

local function cpus_of_nodes(topo)
  local out = {}
  for _, n in ipairs(topo.nodes) do out[#out + 1] = n.os_index end
  return out
end

local function tmpfile(content)
  local path = os.tmpname()
  if content then
    local f = assert(io.open(path, "w"))
    f:write(content)
    f:close()
  end
  return path
end

describe("lnuma.topology() of this machine", function()
  local topo = assert(lnuma.topology())

  it("is loaded once per Lua state and says where it came from", function()
    assert.equal(topo, lnuma.topology())
    assert.equal(topo, lnuma.topology({}))
    assert.equal("system", topo.source)
    assert.is_nil(topo.origin)
  end)

  it("lists the nodes of /sys/devices/system/node in ascending os_index", function()
    assert.same(sys.nodes(), cpus_of_nodes(topo))
  end)

  it("gives each node the CPUs of its cpulist in /sys", function()
    for _, node in ipairs(topo.nodes) do
      assert.same(sys.node_cpus(node.os_index), node.cpus)
      assert.equal(#node.cpus == 0, node.memory_only)
      assert.same(node.cpus, topo:cpus_of(node.os_index))
    end
  end)

  it("gives each node its MemTotal in bytes and its free memory", function()
    for _, node in ipairs(topo.nodes) do
      local total, free = sys.node_meminfo(node.os_index)
      assert.equal(total, node.memory)
      assert.is_true(math.type(node.memory) == "integer")
      assert.is_true(math.type(node.free) == "integer")
      assert.is_true(node.free > 0 and node.free <= node.memory)
      -- Free memory moves; it was read when the topology was loaded.
      assert.is_true(math.abs(node.free - free) < node.memory / 4)
    end
  end)

  it("agrees with numactl --hardware: nodes, CPUs, size in MB, distances", function()
    local hw = sys.numactl()
    if not hw then return pending("numactl --hardware does not run here") end
    assert.same(hw.nodes, cpus_of_nodes(topo))
    for _, node in ipairs(topo.nodes) do
      local n = node.os_index
      assert.same(hw.cpus[n], node.cpus)
      -- numactl prints MemTotal in whole MiB.
      assert.is_true(math.abs(node.memory // (1024 * 1024) - hw.size_mb[n]) <= 1,
        ("node %d: %d bytes vs numactl %d MB"):format(n, node.memory, hw.size_mb[n]))
      assert.same(hw.distances[n], node.distances)
      for j, other in ipairs(topo.nodes) do
        assert.equal(hw.distances[n][j], topo:distance(n, other.os_index))
      end
    end
  end)

  it("lists every online CPU with its node, core and package", function()
    local online = sys.cpus()
    assert.equal(#online, #topo.cpus)
    for i, cpu in ipairs(topo.cpus) do
      assert.equal(online[i], cpu.os_index)
      assert.equal(cpu.node, topo:node_of_cpu(cpu.os_index))
      local pkg = sys.read(("/sys/devices/system/cpu/cpu%d/topology/physical_package_id")
        :format(cpu.os_index))
      if pkg then assert.equal(tonumber(pkg), cpu.package) end
      local core = topo.cores[cpu.core + 1]
      assert.equal(cpu.core, core.index)
      assert.truthy(lnuma.cpulist(core.cpus):len() > 0)
      local found = false
      for _, c in ipairs(core.cpus) do found = found or c == cpu.os_index end
      assert.is_true(found)
    end
    assert.is_true(#topo.packages >= 1)
  end)

  it("says which CPUs and nodes this process may use", function()
    assert.same(sys.parse_list(sys.status("Cpus_allowed_list")), topo.allowed.cpus)
    assert.same(sys.parse_list(sys.status("Mems_allowed_list")), topo.allowed.nodes)
  end)

  it("describes CPU 0's caches as /sys does", function()
    local want = {}
    for i = 0, 9 do
      local d = ("/sys/devices/system/cpu/cpu0/cache/index%d/"):format(i)
      local level = sys.read(d .. "level")
      if level then
        want[#want + 1] = {
          level = tonumber(level),
          type = sys.read(d .. "type"):match("%a+"):lower(),
          size = tonumber(sys.read(d .. "size"):match("%d+")) * 1024,
          line_size = tonumber(sys.read(d .. "coherency_line_size")),
          cpus = sys.parse_list(sys.read(d .. "shared_cpu_list")),
        }
      end
    end
    if #want == 0 then return pending("no cache information in /sys here") end
    local got = {}
    for _, c in ipairs(topo.caches) do
      if c.cpus[1] == 0 then
        got[#got + 1] = { level = c.level, type = c.type, size = c.size,
          line_size = c.line_size, cpus = c.cpus }
      end
    end
    local function key(c) return c.level .. c.type end
    table.sort(want, function(a, b) return key(a) < key(b) end)
    table.sort(got, function(a, b) return key(a) < key(b) end)
    assert.same(want, got)
  end)

  it("lists the PCI network interfaces with their PCI address and node", function()
    local checked = 0
    local p = io.popen("ls /sys/class/net 2>/dev/null")
    for name in p:lines() do
      local link = io.popen("readlink -f /sys/class/net/" .. name .. "/device 2>/dev/null")
      local path = link:read("a")
      link:close()
      local bus
      for b in path:gmatch("(%x%x%x%x:%x%x:%x%x%.%x)") do bus = b end
      if bus then
        local dev
        for _, d in ipairs(topo.devices) do if d.name == name then dev = d end end
        assert.is_table(dev, "no device " .. name)
        assert.equal("network", dev.kind)
        assert.equal(bus, dev.pci_bus)
        local numa = tonumber(sys.read("/sys/bus/pci/devices/" .. bus .. "/numa_node"))
        if numa and numa >= 0 then assert.equal(numa, topo:node_of_device(name)) end
        if #topo.nodes == 1 then assert.equal(topo.nodes[1].os_index, dev.node) end
        checked = checked + 1
      end
    end
    p:close()
    if checked == 0 then pending("no PCI network interface here") end
  end)

  it("answers node_of_cpu, cpus_of, distance and nearest consistently", function()
    for _, node in ipairs(topo.nodes) do
      for _, c in ipairs(node.cpus) do assert.equal(node.os_index, topo:node_of_cpu(c)) end
      assert.equal(10, topo:distance(node.os_index, node.os_index))
      local near = topo:nearest(node.os_index)
      assert.equal(node.os_index, near[1])
      assert.equal(#topo.nodes, #near)
    end
  end)

  it("survives JSON and loads back from its own XML export", function()
    local back = lnuma.report.decode(lnuma.report.json(topo))
    assert.same(topo.nodes, back.nodes)
    assert.same(topo.cpus, back.cpus)
    local path = tmpfile()
    assert.is_true(topo:export_xml(path))
    local again = lnuma.topology{ xml = path }
    os.remove(path)
    assert.equal("xml", again.source)
    assert.same(cpus_of_nodes(topo), cpus_of_nodes(again))
    for i, node in ipairs(topo.nodes) do
      assert.same(node.cpus, again.nodes[i].cpus)
      assert.same(node.distances, again.nodes[i].distances)
      assert.is_nil(again.nodes[i].free)
    end
    assert.equal(#topo.devices, #again.devices)
  end)

  it("summarises itself as the text lnuma topo prints", function()
    local text = topo:summary()
    assert.matches("NUMA nodes", text)
    assert.matches("node " .. topo.nodes[1].os_index .. ": ", text)
    assert.matches("Distances", text)
    assert.matches("Caches", text)
    assert.matches("Devices", text)
    assert.matches("Allowed to this process\n  CPUs " .. lnuma.cpulist(topo.allowed.cpus), text,
      1, true)
  end)
end)

describe("lnuma.topology{synthetic = ...}", function()
  it("builds two packages of two nodes each with four cores of two PUs", function()
    local topo = lnuma.topology{ synthetic = "pack:2 numa:2 core:4 pu:2" }
    assert.equal("synthetic", topo.source)
    assert.equal("pack:2 numa:2 core:4 pu:2", topo.origin)
    assert.same({ 0, 1, 2, 3 }, cpus_of_nodes(topo))
    assert.equal(32, #topo.cpus)
    assert.equal(16, #topo.cores)
    assert.equal(2, #topo.packages)
    assert.same({ 0, 1 }, topo.packages[1].nodes)
    assert.same({ 2, 3 }, topo.packages[2].nodes)
    assert.same(lnuma.cpulist("24-31"), topo:cpus_of(3))
    assert.equal(1, topo:node_of_cpu(9))
    assert.equal(0, topo.cpus[16].package)
    assert.equal(1, topo.cpus[17].package)
    for _, cpu in ipairs(topo.cpus) do
      assert.equal(cpu.os_index // 8, cpu.node)
      assert.equal(cpu.os_index // 2, cpu.core)
    end
  end)

  it("assumes 10/20 distances when none are given, and says so", function()
    local topo = lnuma.topology{ synthetic = "pack:2 numa:2 core:4 pu:2" }
    assert.is_true(topo.default_distances)
    assert.equal(20, topo:distance(0, 1))
    assert.equal(10, topo:distance(2, 2))
    assert.same({ 10, 20, 20, 20 }, topo.nodes[1].distances)
    assert.same({ 2, 0, 1, 3 }, topo:nearest(2))
  end)

  it("takes node memory sizes and cache sizes from the description", function()
    local topo = lnuma.topology{
      synthetic = "pack:2 [numa(memory=2GiB)] l3:1(size=16MiB) core:2 l2:1(size=1MiB) pu:2" }
    assert.equal(2 * 1024 ^ 3, topo.nodes[1].memory)
    assert.is_true(math.type(topo.nodes[1].memory) == "integer")
    local l3 = 0
    for _, c in ipairs(topo.caches) do
      if c.level == 3 then
        l3 = l3 + 1
        assert.equal(16 * 1024 * 1024, c.size)
        assert.equal(4, #c.cpus)
      end
    end
    assert.equal(2, l3)
  end)

  it("makes the second node attached next to CPUs a memory-only node", function()
    local topo = lnuma.topology{
      synthetic = "pack:2 [numa(memory=1GiB)] [numa(memory=4GiB)] core:2 pu:1" }
    assert.same({ 0, 1, 2, 3 }, cpus_of_nodes(topo))
    assert.is_false(topo.nodes[1].memory_only)
    assert.is_true(topo.nodes[2].memory_only)
    assert.same({}, topo.nodes[2].cpus)
    assert.same({ 0, 1 }, topo.nodes[2].local_cpus)
    assert.same({}, topo:cpus_of(3))
  end)

  it("allows everything and knows no free memory (not this machine)", function()
    local topo = lnuma.topology{ synthetic = "pack:2 numa:2 core:4 pu:2" }
    assert.same(lnuma.cpulist("0-31"), topo.allowed.cpus)
    assert.same({ 0, 1, 2, 3 }, topo.allowed.nodes)
    for _, n in ipairs(topo.nodes) do assert.is_nil(n.free) end
    assert.same({}, topo.devices)
    assert.same({}, topo.memattrs)
  end)

  it("round-trips through export_xml", function()
    local topo = lnuma.topology{ synthetic = "pack:2 numa:2 core:4 pu:2" }
    local path = tmpfile()
    assert.is_true(topo:export_xml(path))
    local back = lnuma.topology{ xml = path }
    os.remove(path)
    assert.same(topo.nodes, back.nodes)
    assert.same(topo.cpus, back.cpus)
    assert.same(topo.cores, back.cores)
  end)
end)

describe("lnuma.topology{xml = ...}", function()
  it("reads two packages, four nodes, the SLIT and the caches", function()
    local topo = lnuma.topology{ xml = FIXTURES .. "two-packages-four-nodes.xml" }
    assert.equal("xml", topo.source)
    assert.same({ 0, 1, 2, 3 }, cpus_of_nodes(topo))
    assert.is_false(topo.default_distances)
    assert.same({ 10, 11, 21, 21 }, topo.nodes[1].distances)
    assert.same({ 21, 21, 11, 10 }, topo.nodes[4].distances)
    assert.equal(11, topo:distance(2, 3))
    assert.same({ 2, 3, 0, 1 }, topo:nearest(2))
    assert.same(lnuma.cpulist("4-7"), topo:cpus_of(1))
    assert.equal(8 * 1024 ^ 3, topo.nodes[3].memory)
    local count = {}
    for _, c in ipairs(topo.caches) do
      local k = "L" .. c.level .. c.type
      count[k] = (count[k] or 0) + 1
      assert.equal(64, c.line_size)
    end
    assert.same({ L1data = 8, L2unified = 8, L3unified = 4 }, count)
  end)

  it("places I/O devices on the node they hang off", function()
    local topo = lnuma.topology{ xml = FIXTURES .. "two-packages-four-nodes.xml" }
    local by = {}
    for _, d in ipairs(topo.devices) do by[d.name] = d end
    assert.equal("block", by.nvme0n1.kind)
    assert.equal("0000:18:00.0", by.nvme0n1.pci_bus)
    assert.equal("144d:a808", by.nvme0n1.pci_id)
    assert.equal(1, topo:node_of_device("nvme0n1"))
    assert.equal(1, by.nvme0n1.node)
    assert.equal("network", by.eth1.kind)
    assert.same({ 2, 3 }, by.eth1.nodes)
    assert.equal(2, topo:node_of_device("eth1"))
    assert.equal(2, topo:node_of_device("0000:af:00.0"))
    -- eth0 hangs off the whole machine: no node can be named.
    local node, why = topo:node_of_device("eth0")
    assert.is_nil(node)
    assert.matches("not local to one node", why)
    assert.is_nil(by.eth0.node)
    node, why = topo:node_of_device("eth9")
    assert.is_nil(node)
    assert.equal("no device named 'eth9'", why)
  end)

  it("reads a memory-only node, its locality and its HMAT attributes", function()
    local topo = lnuma.topology{ xml = FIXTURES .. "memory-only-node.xml" }
    assert.same({ 0, 1, 2 }, cpus_of_nodes(topo))
    local cxl = topo.nodes[3]
    assert.is_true(cxl.memory_only)
    assert.same({}, cxl.cpus)
    assert.same({}, topo:cpus_of(2))
    assert.equal("CXL-DRAM", cxl.subtype)
    assert.equal(16 * 1024 ^ 3, cxl.memory)
    assert.same(lnuma.cpulist("0-7"), cxl.local_cpus)
    for _, cpu in ipairs(topo.cpus) do assert.is_true(cpu.node == 0 or cpu.node == 1) end
    assert.same({ 28, 21, 10 }, cxl.distances)
    assert.same({ 2, 1, 0 }, topo:nearest(2))
    local values = {}
    for _, m in ipairs(topo.memattrs) do
      values[("%s %d->%d"):format(m.name, m.initiator, m.target)] = m.value .. " " .. m.unit
    end
    assert.same({
      ["latency 0->0"] = "90 ns", ["latency 0->2"] = "250 ns",
      ["latency 1->1"] = "90 ns", ["latency 1->2"] = "300 ns",
      ["bandwidth 0->0"] = "40000 MiB/s", ["bandwidth 0->2"] = "12000 MiB/s",
    }, values)
    assert.matches("node 2 %[CXL%-DRAM%]: no CPUs %(memory%-only%)", topo:summary())
  end)

  it("keeps node numbers with gaps (nodes 0 and 2)", function()
    local topo = lnuma.topology{ xml = FIXTURES .. "node-gaps.xml" }
    assert.same({ 0, 2 }, cpus_of_nodes(topo))
    assert.equal(32, topo:distance(0, 2))
    assert.same({ 32, 10 }, topo.nodes[2].distances)
    assert.equal(2, topo:node_of_cpu(3))
    assert.same({ 2, 3 }, topo:cpus_of(2))
    assert.same({ 2, 0 }, topo:nearest(2))
    assert.same({ 0, 2 }, topo.allowed.nodes)
    assert.has_error(function() topo:cpus_of(1) end,
      "bad argument #1 to 'cpus_of' (node: node 1 does not exist (nodes 0,2))")
  end)
end)

describe("topology bad arguments", function()
  local topo = lnuma.topology{ xml = FIXTURES .. "node-gaps.xml" }

  it("rejects unknown options and wrong types, naming them", function()
    assert.error_matches(function() lnuma.topology{ xnl = "a.xml" } end,
      "bad argument #1 to 'topology' %(unknown option 'xnl'%)")
    assert.error_matches(function() lnuma.topology{ xml = 1 } end,
      "xml: string expected, got number")
    assert.error_matches(function() lnuma.topology{ synthetic = true } end,
      "synthetic: string expected, got boolean")
    assert.error_matches(function() lnuma.topology("pack:2") end, "table expected, got string")
    assert.error_matches(function() lnuma.topology{ xml = "a", synthetic = "b" } end,
      "give either xml or synthetic, not both")
  end)

  it("rejects unreadable and malformed XML files, naming the file and the problem", function()
    assert.error_matches(function() lnuma.topology{ xml = "/nonexistent/x.xml" } end,
      "xml: cannot read XML file '/nonexistent/x.xml': No such file or directory", 1, true)
    assert.error_matches(function() lnuma.topology{ xml = "spec" } end,
      "xml: cannot read XML file 'spec': Is a directory", 1, true)
    assert.error_matches(function() lnuma.topology{ xml = "" } end, "xml: the XML path is empty")
    local garbage = tmpfile("this is not XML\n")
    local truncated = tmpfile('<?xml version="1.0"?>\n<topology version="2.0">\n'
      .. '<object type="Machine" os_index="0"')
    local empty = tmpfile("")
    assert.error_matches(function() lnuma.topology{ xml = garbage } end,
      "xml: '" .. garbage .. "' is not a valid hwloc XML topology", 1, true)
    assert.error_matches(function() lnuma.topology{ xml = truncated } end,
      "is not a valid hwloc XML topology")
    assert.error_matches(function() lnuma.topology{ xml = empty } end, "is empty")
    os.remove(garbage)
    os.remove(truncated)
    os.remove(empty)
  end)

  it("refuses an XML file hwloc itself crashes on, and the process lives on", function()
    assert.error_matches(function() lnuma.topology{ xml = FIXTURES .. "crashes-hwloc.xml" } end,
      "xml: 'spec/fixtures/crashes-hwloc.xml' is not a valid hwloc XML topology "
      .. "(hwloc crashes on it", 1, true)
  end)

  it("never crashes on corrupted XML: each loads or raises naming the file", function()
    local f = assert(io.open(FIXTURES .. "two-packages-four-nodes.xml"))
    local text = f:read("a")
    f:close()
    local path = tmpfile()
    local rng = 12345
    local function random(n) -- a small LCG: the same cases on every run
      rng = (rng * 1103515245 + 12345) % 2147483648
      return rng % n + 1
    end
    local loaded, refused = 0, 0
    for i = 1, 80 do
      local t = text
      if i % 4 == 0 then
        t = t:sub(1, random(#t))
      elseif i % 4 == 1 then
        local p = random(#t)
        t = t:sub(1, p - 1) .. string.char(random(256) - 1) .. t:sub(p + 1)
      elseif i % 4 == 2 then
        t = t:gsub('="(%d+)"', function()
          if random(10) == 1 then return '="' .. random(100000) .. '"' end
        end)
      else
        t = t:gsub("0x0000(%x%x%x%x)", function()
          if random(10) == 1 then return ("0x%08x"):format(random(2 ^ 31)) end
        end)
      end
      local out = assert(io.open(path, "w"))
      out:write(t)
      out:close()
      local ok, t2 = pcall(lnuma.topology, { xml = path })
      if ok then
        loaded = loaded + 1
        assert.is_string(t2:summary())
        assert.is_string(lnuma.report.json(t2))
        for _, n in ipairs(t2.nodes) do
          assert.equal(n.os_index, t2:nearest(n.os_index)[1])
        end
      else
        refused = refused + 1
        assert.matches("xml: .*" .. path:gsub("%p", "%%%0"), t2)
      end
    end
    os.remove(path)
    assert.is_true(loaded > 0 and refused > 0)
  end)

  it("rejects malformed synthetic descriptions, quoting them", function()
    assert.error_matches(function() lnuma.topology{ synthetic = "pack:2 foo:3" } end,
      "synthetic: 'pack:2 foo:3' is not a valid hwloc synthetic description", 1, true)
    assert.error_matches(function() lnuma.topology{ synthetic = "pack:x" } end,
      "is not a valid hwloc synthetic description")
    assert.error_matches(function() lnuma.topology{ synthetic = "  " } end,
      "synthetic: the synthetic description is empty")
    assert.error_matches(function() lnuma.topology{ synthetic = "pack:1000 core:1000 pu:1000" } end,
      "describes 1000000000 CPUs, more than lnuma handles")
  end)

  it("rejects CPUs and nodes that do not exist, naming the argument", function()
    assert.has_error(function() topo:node_of_cpu(99) end,
      "bad argument #1 to 'node_of_cpu' (cpu: CPU 99 does not exist (CPUs 0-3))")
    assert.error_matches(function() topo:node_of_cpu(-1) end, "cpu: CPU %-1 does not exist")
    assert.error_matches(function() topo:node_of_cpu("x") end, "cpu: integer expected, got string")
    assert.error_matches(function() topo:node_of_cpu(1.5) end,
      "cpu: integer expected, got a fraction")
    assert.error_matches(function() topo:cpus_of(7) end, "node: node 7 does not exist")
    assert.error_matches(function() topo:distance(9, 0) end,
      "bad argument #1 to 'distance' %(a: node 9 does not exist")
    assert.error_matches(function() topo:distance(0, 9) end,
      "bad argument #2 to 'distance' %(b: node 9 does not exist")
    assert.error_matches(function() topo:nearest(1) end, "node: node 1 does not exist")
    assert.error_matches(function() topo:nearest(2 ^ 40) end, "node: 1099511627776 does not exist")
  end)

  it("rejects methods called on something that is not a topology", function()
    assert.error_matches(function() topo.node_of_cpu({}, 0) end, "lnuma.Topology")
    assert.error_matches(function() topo.distance(nil, 0, 0) end, "lnuma.Topology")
    assert.error_matches(function() topo:node_of_device() end, "string expected, got no value")
  end)

  it("returns nil, message, errno when export_xml cannot write", function()
    local ok, msg, code = topo:export_xml("/nonexistent-dir/out.xml")
    assert.is_nil(ok)
    assert.matches("cannot write XML file '/nonexistent%-dir/out.xml'", msg)
    assert.is_true(math.type(code) == "integer" and code > 0)
    assert.error_matches(function() topo:export_xml("") end, "path: the path is empty")
    assert.error_matches(function() topo:export_xml() end, "string expected")
  end)
end)
