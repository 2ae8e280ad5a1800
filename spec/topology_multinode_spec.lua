local lnuma = require "lnuma"
local sysfs = dofile("spec/support/sysfs.lua")

local NEEDS = "needs ≥2 NUMA nodes: runs in the emulated machines (make test-vm)"

describe("topology and binding on a machine with several nodes #multinode", function()
  local topo = assert(lnuma.topology())

  local function single() return #topo.nodes < 2 end

  it("agrees with /sys for every node: CPUs, memory, distances", function()
    if single() then return pending(NEEDS) end
    local online = sysfs.nodes()
    assert.equal(#online, #topo.nodes)
    for i, node in ipairs(topo.nodes) do
      assert.equal(online[i], node.os_index)
      assert.same(sysfs.node_cpus(node.os_index), node.cpus)
      assert.equal((sysfs.node_meminfo(node.os_index)), node.memory)
      assert.same(sysfs.node_distances(node.os_index), node.distances)
    end
    assert.is_false(topo.default_distances)
  end)

  it("reports distances as the firmware gives them, and nearest() in their order", function()
    if single() then return pending(NEEDS) end
    for i, a in ipairs(topo.nodes) do
      local row_a = sysfs.node_distances(a.os_index)
      assert.equal(10, topo:distance(a.os_index, a.os_index))
      for j, b in ipairs(topo.nodes) do
        local row_b = sysfs.node_distances(b.os_index)
        assert.equal(row_a[j], topo:distance(a.os_index, b.os_index))
        -- Symmetric exactly where the firmware's table is.
        assert.equal(row_a[j] == row_b[i],
          topo:distance(a.os_index, b.os_index) == topo:distance(b.os_index, a.os_index))
      end
      local near = topo:nearest(a.os_index)
      assert.equal(a.os_index, near[1])
      for k = 3, #near do
        assert.is_true(topo:distance(a.os_index, near[k - 1]) <= topo:distance(a.os_index, near[k]))
      end
    end
  end)

  it("runs on the second node's CPUs after bind{node = ...}", function()
    if single() then return pending(NEEDS) end
    local target
    for i = 2, #topo.nodes do
      if not target and not topo.nodes[i].memory_only then target = topo.nodes[i] end
    end
    if not target then return pending("only one node has CPUs") end
    local saved = lnuma.binding().cpus
    assert.is_true(lnuma.bind{ node = target.os_index })
    local cpu, node = lnuma.current()
    assert(lnuma.bind{ cpus = saved })
    assert.equal(target.os_index, node)
    assert.equal(target.os_index, topo:node_of_cpu(cpu))
    local inside = false
    for _, c in ipairs(target.cpus) do inside = inside or c == cpu end
    assert.is_true(inside)
  end)

  it("gives memory-only nodes no CPUs", function()
    if single() then return pending(NEEDS) end
    local found = 0
    for _, node in ipairs(topo.nodes) do
      if #sysfs.node_cpus(node.os_index) == 0 then
        found = found + 1
        assert.is_true(node.memory_only)
        assert.same({}, node.cpus)
        assert.same({}, topo:cpus_of(node.os_index))
        assert.error_matches(function() lnuma.bind{ node = node.os_index } end,
          "has no CPUs %(memory%-only node%)")
      else
        assert.is_false(node.memory_only)
      end
    end
    if found == 0 then
      pending("no memory-only node here: runs in the memory-only emulated machine")
    end
  end)
end)
