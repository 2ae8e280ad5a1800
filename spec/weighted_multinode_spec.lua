-- Per-buffer weights over several NUMA nodes: the mix of pages per node, the
-- interleaved pattern page by page, memory-only targets, nodes without
-- memory, THP chunks and the sweep.  On one node every test is pending with
-- its reason; the emulated machines (make test-vm TOPO=two-node,
-- TOPO=memory-only) run them for real.
local lnuma = require "lnuma"
local sys = dofile("spec/support/sys.lua")

local W = lnuma.weights
local MiB = 1024 * 1024
local ONE_NODE = "needs ≥2 NUMA nodes with memory: runs in the emulated machines (make test-vm)"

local function two_nodes()
  local nodes = sys.memory_nodes()
  if #nodes < 2 then pending(ONE_NODE) end
  return nodes[1], nodes[2]
end

describe("weighted placement #multinode", function()
  it("puts 3:1 as 75% / 25% of the pages, within one chunk", function()
    local a, b = two_nodes()
    local buf <close> = assert(lnuma.alloc(8 * MiB, { weights = { [a] = 3, [b] = 1 } }))
    local pl = buf:placement()
    assert.equal(2048, pl.pages)
    assert.is_true(math.abs(pl.by_node[a] - 1536) <= 1, "node a: " .. pl.by_node[a])
    assert.is_true(math.abs(pl.by_node[b] - 512) <= 1, "node b: " .. pl.by_node[b])
    -- The kernel's own count (numa_maps) agrees.
    local maps = sys.numa_maps(buf:address())
    assert.equal(pl.by_node[a], maps.by_node[a])
    assert.equal(pl.by_node[b], maps.by_node[b])
    local c = assert(W.check(buf))
    assert.is_true(c.ok)
    assert.is_true(c.within_one_chunk)
    assert.equal("75:25", c.ratio)
  end)

  it("interleaves the chunks: every 4 consecutive pages are 3 on one node, 1 on the other",
    function()
      local a, b = two_nodes()
      local buf <close> = assert(lnuma.alloc(4 * MiB, { weights = { [a] = 3, [b] = 1 } }))
      local nodes = buf:placement({ pages = true }).page_nodes
      assert.equal(1024, #nodes)
      local want = W.pattern({ [a] = 3, [b] = 1 }, #nodes)
      assert.same(want, nodes)
      for start = 1, #nodes - 3 do
        local on_b = 0
        for k = start, start + 3 do
          if nodes[k] == b then on_b = on_b + 1 end
        end
        assert.equal(1, on_b, "window at page " .. start)
      end
    end)

  it("binds the range to the weighted nodes afterwards", function()
    local a, b = two_nodes()
    local buf <close> = assert(lnuma.alloc(MiB, { weights = { [a] = 1, [b] = 1 } }))
    local p = buf:policy()
    if not p.policy_applied then
      pending("the kernel refuses memory policy here: " .. tostring(p.policy_note))
    end
    assert.equal("weighted", p.policy)
    assert.equal("bind", p.kernel.policy)
    assert.same({ a, b }, p.kernel.nodes)
  end)

  it("gives a node of weight 0 no page", function()
    local a, b = two_nodes()
    local buf <close> = assert(lnuma.alloc(MiB, { weights = { [a] = 0, [b] = 5 } }))
    local pl = buf:placement()
    assert.equal(0, pl.by_node[a])
    assert.equal(256, pl.by_node[b])
    assert.same({ b }, buf:info().nodes)
  end)

  it("uses a memory-only node as a weighted target", function()
    local memory_only, with_cpus
    for _, n in ipairs(sys.memory_nodes()) do
      if #sys.node_cpus(n) == 0 then memory_only = memory_only or n
      else with_cpus = with_cpus or n end
    end
    if not memory_only or not with_cpus then
      pending("needs a memory-only node next to one with CPUs (make test-vm TOPO=memory-only)")
    end
    local buf <close> = assert(lnuma.alloc(4 * MiB,
      { weights = { [with_cpus] = 1, [memory_only] = 1 } }))
    local c = assert(W.check(buf))
    assert.is_true(c.ok)
    assert.equal(512, c.by_node[memory_only])
    assert.equal(512, c.by_node[with_cpus])
  end)

  it("refuses a node with CPUs and no memory, as other policies do", function()
    local memoryless
    local has_memory = {}
    for _, n in ipairs(sys.memory_nodes()) do has_memory[n] = true end
    for _, n in ipairs(sys.nodes()) do
      if not has_memory[n] then memoryless = n end
    end
    if not memoryless then pending("no online node without memory on this machine") end
    local a = sys.memory_nodes()[1]
    local ok, buf, msg = pcall(lnuma.alloc, MiB, { weights = { [a] = 1, [memoryless] = 1 } })
    local text = ok and msg or buf
    assert.is_true(not ok or buf == nil)
    assert.matches(("weights: node %d has no memory"):format(memoryless), tostring(text))
    -- bind says the same of it.
    local bok, bbuf, bmsg = pcall(lnuma.alloc, MiB, { nodes = { a, memoryless } })
    assert.is_true(not bok or bbuf == nil)
    assert.matches("has no memory", tostring(bok and bmsg or bbuf))
  end)

  it("puts THP-sized chunks whole on one node each", function()
    local a, b = two_nodes()
    local buf, msg = lnuma.alloc(8 * MiB, { weights = { [a] = 1, [b] = 1 }, huge = "thp" })
    if not buf then pending("no THP here: " .. tostring(msg)) end
    local info = buf:info()
    assert.equal(lnuma.thp().pmd_size, info.chunk_size)
    local c = assert(W.check(buf))
    assert.is_true(c.ok)
    assert.equal(info.chunk_size // c.page_size, c.pages_per_chunk)
    assert.equal(4, c.chunks)
    -- Chunk by chunk: a, b, a, b.
    local nodes = buf:placement({ pages = true }).page_nodes
    for k = 0, 3 do
      assert.equal(k % 2 == 0 and a or b, nodes[k * c.pages_per_chunk + 1], "chunk " .. k)
    end
    buf:free()
  end)

  it("places arenas and pools by weights too", function()
    local a, b = two_nodes()
    local arena <close> = assert(lnuma.arena { size = 4 * MiB, weights = { [a] = 1, [b] = 3 } })
    local pl = arena:placement()
    assert.equal(256, pl.by_node[a])
    assert.equal(768, pl.by_node[b])
    local pool <close> = assert(lnuma.pool { size = 4096, count = 64,
                                              weights = { [a] = 1, [b] = 1 } })
    local pp = pool:placement()
    assert.equal(32, pp.by_node[a])
    assert.equal(32, pp.by_node[b])
  end)

  it("sweeps two nodes and proves every point", function()
    local a, b = two_nodes()
    local r = assert(lnuma.bench.weights { nodes = { a, b }, points = 3, size = 4 * MiB,
                                           latency_size = MiB, repetitions = 1,
                                           min_time = 1000000 })
    assert.equal(3, #r.points)
    assert.equal("100:0", r.points[1].ratio)
    assert.equal("50:50", r.points[2].ratio)
    assert.equal("0:100", r.points[3].ratio)
    for _, pt in ipairs(r.points) do
      assert.is_true(pt.placement.ok)
      assert.is_true(pt.placement.within_one_chunk)
    end
    assert.equal(1024, r.points[2].placement.by_node[a] + r.points[2].placement.by_node[b])
    assert.equal(512, r.points[2].placement.by_node[a])
    assert.is_number(r.best.bandwidth.gbps)
    assert.is_number(r.best.latency.latency_ns)
    assert.same({ a, b }, r.nodes)
  end)
end)
