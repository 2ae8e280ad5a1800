-- Placement on machines with several NUMA nodes.  On one node every test is
-- pending with its reason; inside the emulated machines (make test-vm) and on
-- real multi-socket machines they run for real.
local lnuma = require "lnuma"
local sys = dofile("spec/support/sys.lua")
local H = dofile("spec/support/helpers.lua")

local MiB = 1024 * 1024
local ONE_NODE = "needs ≥2 NUMA nodes: runs in the emulated machines (make test-vm)"

local sum = H.sum

-- Nodes with memory; pending unless there are at least two.
local function two_nodes()
  local nodes = sys.memory_nodes()
  if #nodes < 2 then pending(ONE_NODE) end
  return nodes
end

-- Nodes with memory and CPUs, as {node, cpu} pairs.
local function cpu_nodes()
  local out = {}
  for _, n in ipairs(sys.memory_nodes()) do
    local cpus = sys.node_cpus(n)
    if #cpus > 0 then out[#out + 1] = {node = n, cpu = cpus[1]} end
  end
  return out
end

describe("memory placement #multinode", function()
  it("puts every page of a buffer bound to a node on that node, for each node", function()
    for _, node in ipairs(two_nodes()) do
      local buf <close> = assert(lnuma.alloc(8 * MiB, {node = node}))
      local pl = buf:placement()
      assert.equal(2048, pl.by_node[node], "node " .. node)
      assert.equal(2048, sys.numa_maps(buf:address()).by_node[node])
    end
  end)

  it("splits interleaved pages evenly, within one page", function()
    local nodes = two_nodes()
    local a, b = nodes[1], nodes[2]
    local buf <close> = assert(lnuma.alloc(8 * MiB + 4096, {nodes = {a, b},
                                                            policy = "interleave"}))
    local pl = buf:placement()
    assert.equal(2049, pl.by_node[a] + pl.by_node[b])
    assert.is_true(math.abs(pl.by_node[a] - pl.by_node[b]) <= 1,
      ("node %d: %d pages, node %d: %d pages"):format(a, pl.by_node[a], b, pl.by_node[b]))
    local p = buf:policy()
    assert.equal("interleave", p.kernel.policy)
    assert.same({a, b}, p.kernel.nodes)
  end)

  it("spills a preferred buffer its node cannot hold, and says where", function()
    local nodes = two_nodes()
    local pref = nodes[1]
    local free = lnuma.meminfo(pref).free
    local size = free + 64 * MiB
    local room = 0
    for i = 2, #nodes do room = room + lnuma.meminfo(nodes[i]).free end
    if size > 2048 * MiB or room < 256 * MiB then
      pending(("node %d has %d MiB free: too much to fill here"):format(pref, free // MiB))
    end
    local buf <close> = assert(lnuma.alloc(size, {node = pref, policy = "preferred",
                                                  huge = false}))
    local pl = buf:placement()
    assert.equal(0, pl.absent)
    assert.equal(pl.pages, sum(pl.by_node))
    assert.is_true(pl.by_node[pref] > 0)
    assert.is_true(pl.pages - pl.by_node[pref] > 0, "nothing spilled to another node")
  end)

  it("migrates every page from one node to another", function()
    local nodes = two_nodes()
    local a, b = nodes[1], nodes[2]
    local buf <close> = assert(lnuma.alloc(4 * MiB, {node = a, huge = false}))
    buf:write(0, "still here")
    local r = assert(buf:migrate(b))
    assert.equal(1024, r.pages)
    assert.equal(1024, r.moved)
    assert.equal(0, r.failed)
    assert.is_true(r.elapsed_ns > 0)
    assert.equal(1024, buf:placement().by_node[b])
    assert.equal("still here", buf:read(0, 10))
  end)

  it("first-touches from touch_cpu onto that CPU's node", function()
    two_nodes()
    for _, nc in ipairs(cpu_nodes()) do
      local buf <close> = assert(lnuma.alloc(4 * MiB, {touch_cpu = nc.cpu}))
      assert.equal(1024, buf:placement().by_node[nc.node], "CPU " .. nc.cpu)
    end
  end)

  it("allocates on a memory-only node, and bound pages land there", function()
    two_nodes()
    local memory_only
    for _, n in ipairs(sys.memory_nodes()) do
      if #sys.node_cpus(n) == 0 then memory_only = n end
    end
    if not memory_only then pending("no memory-only node on this machine") end
    local buf <close> = assert(lnuma.alloc(4 * MiB, {node = memory_only}))
    assert.equal(1024, buf:placement().by_node[memory_only])
  end)

  it("gives node-local memory from an arena and a pool on the second node", function()
    local node = two_nodes()[2]
    local arena <close> = assert(lnuma.arena{node = node, size = "1M"})
    assert.equal(256, arena:placement().by_node[node])
    local v = arena:alloc_buffer(8192)
    assert.equal(2, v:placement().by_node[node])
    local pool <close> = assert(lnuma.pool{node = node, size = 64, count = 1024})
    assert.equal(16, pool:placement().by_node[node])
    assert.equal(node, pool:get():placement{pages = true}.page_nodes[1])
  end)

  it("moves the numastat counters of local and remote allocations", function()
    two_nodes()
    local cn = cpu_nodes()
    if #cn < 2 then pending("needs two nodes with CPUs") end
    local here, there = cn[1], cn[2]
    local pages = 2048
    local before = lnuma.numastat().by_node[there.node]
    -- Local: touched from a CPU of the node that holds it.
    local a <close> = assert(lnuma.alloc(8 * MiB, {node = there.node, touch_cpu = there.cpu,
                                                   huge = false}))
    local mid = lnuma.numastat().by_node[there.node]
    assert.equal(2048, a:placement().by_node[there.node])
    assert.is_true(mid.local_node - before.local_node >= pages,
      ("local_node grew by %d"):format(mid.local_node - before.local_node))
    assert.is_true(mid.numa_hit - before.numa_hit >= pages)
    -- Remote: touched from a CPU of another node.
    local b <close> = assert(lnuma.alloc(8 * MiB, {node = there.node, touch_cpu = here.cpu,
                                                   huge = false}))
    local after = lnuma.numastat().by_node[there.node]
    assert.is_true(after.other_node - mid.other_node >= pages,
      ("other_node grew by %d"):format(after.other_node - mid.other_node))
    assert.equal(2048, b:placement().by_node[there.node])
  end)
end)
