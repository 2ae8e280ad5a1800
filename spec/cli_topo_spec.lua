local lnuma = require "lnuma"
local sys = dofile("spec/support/sys.lua")

local LUA = os.getenv("LUA") or "lua5.4"

-- Runs bin/lnuma with the given arguments; returns its output and exit code.
local function lnuma_cli(args)
  return sys.run(LUA .. " bin/lnuma " .. args)
end

describe("lnuma topo", function()
  it("prints this machine's nodes, distances, caches, devices and allowed sets", function()
    local out, code = lnuma_cli("topo")
    assert.equal(0, code)
    local topo = lnuma.topology()
    assert.matches("^Topology of this machine: ", out)
    for _, node in ipairs(topo.nodes) do
      assert.matches(("node %d: CPUs %s"):format(node.os_index, lnuma.cpulist(node.cpus)), out,
        1, true)
    end
    for _, section in ipairs({ "NUMA nodes", "Distances", "Caches", "Devices",
      "Memory attributes", "Allowed to this process" }) do
      assert.matches("\n" .. section, out, 1, true)
    end
  end)

  it("prints a JSON object with a nodes array with --json", function()
    local out, code = lnuma_cli("topo --json")
    assert.equal(0, code)
    local doc = assert(lnuma.report.decode(out))
    local topo = lnuma.topology()
    assert.equal(#topo.nodes, #doc.nodes)
    for i, node in ipairs(topo.nodes) do
      assert.equal(node.os_index, doc.nodes[i].os_index)
      assert.same(node.cpus, doc.nodes[i].cpus)
      assert.equal(node.memory, doc.nodes[i].memory)
      assert.same(node.distances, doc.nodes[i].distances)
    end
    assert.equal(#topo.cpus, #doc.cpus)
    assert.equal("system", doc.source)
  end)

  it("describes a synthetic machine with --synthetic", function()
    local out, code = lnuma_cli("topo --synthetic 'pack:2 numa:2 core:4 pu:2' --json")
    assert.equal(0, code)
    local doc = assert(lnuma.report.decode(out))
    assert.equal(4, #doc.nodes)
    assert.same({ 2, 3 }, { doc.nodes[3].os_index, doc.nodes[4].os_index })
    assert.equal(32, #doc.cpus)
    assert.is_true(doc.default_distances)
    out, code = lnuma_cli("topo --synthetic 'pack:2 numa:2 core:4 pu:2'")
    assert.equal(0, code)
    assert.matches("2 packages, 16 cores, 32 CPUs, 4 NUMA nodes", out, 1, true)
    assert.matches("node 3: CPUs 24-31", out, 1, true)
  end)

  it("describes the machine in an XML file with --xml", function()
    local out, code = lnuma_cli("topo --xml spec/fixtures/node-gaps.xml")
    assert.equal(0, code)
    assert.matches("node 2: CPUs 2-3", out, 1, true)
    assert.matches("\n     2  32  10", out, 1, true)
    out, code = lnuma_cli("topo --xml spec/fixtures/memory-only-node.xml --json")
    assert.equal(0, code)
    local doc = assert(lnuma.report.decode(out))
    assert.is_true(doc.nodes[3].memory_only)
  end)

  it("explains itself with --help", function()
    local out, code = lnuma_cli("--help")
    assert.equal(0, code)
    assert.matches("Usage: lnuma", out, 1, true)
    assert.matches("\n   topo ", out, 1, true)
    out, code = lnuma_cli("topo --help")
    assert.equal(0, code)
    assert.matches("Usage: lnuma topo", out, 1, true)
    assert.matches("--json", out, 1, true)
    assert.matches("--xml FILE", out, 1, true)
    assert.matches("--synthetic DESC", out, 1, true)
  end)

  describe("bad arguments", function()
    it("says why an XML file cannot be used and exits 1", function()
      local out, code = lnuma_cli("topo --xml /nonexistent.xml")
      assert.equal(1, code)
      assert.equal("lnuma topo: --xml: cannot read XML file '/nonexistent.xml': "
        .. "No such file or directory\n", out)
      out, code = lnuma_cli("topo --xml spec/topology_spec.lua")
      assert.equal(1, code)
      assert.matches("is not a valid hwloc XML topology", out, 1, true)
    end)

    it("says why a synthetic description is malformed and exits 1", function()
      local out, code = lnuma_cli("topo --synthetic 'pack:2 foo:3'")
      assert.equal(1, code)
      assert.matches("lnuma topo: --synthetic: 'pack:2 foo:3' is not a valid hwloc synthetic",
        out, 1, true)
    end)

    it("refuses --xml with --synthetic, and unknown options", function()
      local out, code = lnuma_cli("topo --xml a.xml --synthetic 'pack:2'")
      assert.is_true(code ~= 0)
      assert.matches("can not be used together", out, 1, true)
      out, code = lnuma_cli("topo --jsn")
      assert.is_true(code ~= 0)
      assert.matches("unknown option '--jsn'", out, 1, true)
    end)
  end)
end)
