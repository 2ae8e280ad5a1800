local lnuma = require "lnuma"
local sys = dofile("spec/support/sys.lua")

local NEEDS = "needs ≥2 NUMA nodes: runs in the emulated machines (make test-vm)"

describe("topology and binding on a machine with several nodes #multinode", function()
  local topo = assert(lnuma.topology())

  local function single() return #topo.nodes < 2 end

  it("agrees with /sys for every node: CPUs, memory, distances", function()
    if single() then return pending(NEEDS) end
    local online = sys.nodes()
    assert.equal(#online, #topo.nodes)
    for i, node in ipairs(topo.nodes) do
      assert.equal(online[i], node.os_index)
      assert.same(sys.node_cpus(node.os_index), node.cpus)
      assert.equal((sys.node_meminfo(node.os_index)), node.memory)
      assert.same(sys.node_distances(node.os_index), node.distances)
    end
    assert.is_false(topo.default_distances)
  end)

  it("reports distances as the firmware gives them, and nearest() in their order", function()
    if single() then return pending(NEEDS) end
    for i, a in ipairs(topo.nodes) do
      local row_a = sys.node_distances(a.os_index)
      assert.equal(10, topo:distance(a.os_index, a.os_index))
      for j, b in ipairs(topo.nodes) do
        local row_b = sys.node_distances(b.os_index)
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
      if #sys.node_cpus(node.os_index) == 0 then
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

  it("exports XML that describes the same nodes, CPUs and distances", function()
    if single() then return pending(NEEDS) end
    local path = os.tmpname()
    assert.is_true(topo:export_xml(path))
    local copy = lnuma.topology{ xml = path }
    os.remove(path)
    -- Without /sys, the home node of each CPU comes from hwloc's tree alone
    -- (where a CPU-less node is attached next to its closest CPUs).
    assert.equal(#topo.nodes, #copy.nodes)
    for i, node in ipairs(topo.nodes) do
      assert.equal(node.os_index, copy.nodes[i].os_index)
      assert.same(node.cpus, copy.nodes[i].cpus)
      assert.equal(node.memory_only, copy.nodes[i].memory_only)
      assert.same(node.distances, copy.nodes[i].distances)
    end
    assert.same(topo.cpus, copy.cpus)
  end)

  it("in a cpuset, reports the allowed CPUs and refuses to bind outside them", function()
    -- Only inside the emulated machines: it mounts cgroup2 and makes a cpuset.
    if not os.getenv("LNUMA_VM_TOPOLOGY") then
      return pending("makes a cpuset cgroup: runs in the emulated machines (make test-vm)")
    end
    if #topo.cpus < 2 then return pending("needs 2 CPUs") end
    local first, second = topo.cpus[1].os_index, topo.cpus[2].os_index
    local node = topo.cpus[1].node
    local script = table.concat({
      "set -e",
      "mkdir -p /tmp/cg",
      "mount -t cgroup2 none /tmp/cg 2>/dev/null || true",
      "echo +cpuset > /tmp/cg/cgroup.subtree_control",
      "mkdir -p /tmp/cg/lnuma",
      ("echo %d > /tmp/cg/lnuma/cpuset.cpus"):format(first),
      ("echo %d > /tmp/cg/lnuma/cpuset.mems"):format(node),
      "echo $$ > /tmp/cg/lnuma/cgroup.procs",
      "exec " .. sys.lua_command(('local l = require "lnuma"; local t = l.topology(); '
        .. 'print(l.cpulist(t.allowed.cpus), l.cpulist(t.allowed.nodes), #t.cpus); '
        .. 'print(l.bind{ cpus = "%d" }); print(l.bind{ cpus = "%d,%d" }); '
        .. 'print(l.cpulist(l.binding().cpus))'):format(second, first, second)),
    }, "\n")
    local out, code = sys.run("sh -c '" .. script:gsub("'", "'\\''") .. "'")
    assert.equal(0, code, out)
    local lines = {}
    for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
    -- The whole machine is still described; only the allowed sets shrink.
    assert.equal(("%d\t%d\t%d"):format(first, node, #topo.cpus), lines[1])
    assert.matches(("^nil\tsched_setaffinity: CPUs %d are not allowed to this process"):format(
      second), lines[2])
    assert.matches(("^nil\tCPUs %d are not allowed to this process %%(cpuset%%)\t22$"):format(
      second), lines[3])
    assert.equal(tostring(first), lines[4])
  end)
end)
