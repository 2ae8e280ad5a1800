-- Memory benchmarks on machines with several NUMA nodes.  On one node every
-- test is pending with its reason; inside the emulated machines (make
-- test-vm) and on real multi-socket machines they run for real.
local lnuma = require "lnuma"

local ONE_NODE = "needs ≥2 NUMA nodes: runs in the emulated machines (make test-vm)"
local QUICK = { repetitions = 2, min_time = 1000000 }

local function with(t)
  for k, v in pairs(QUICK) do t[k] = v end
  return t
end

local function nodes_with_memory()
  local topo = lnuma.topology()
  local out = {}
  for _, n in ipairs(topo.nodes) do
    if n.memory > 0 and lnuma.cpulist(topo.allowed.nodes):len() > 0 then
      for _, a in ipairs(topo.allowed.nodes) do
        if a == n.os_index then out[#out + 1] = n.os_index end
      end
    end
  end
  if #out < 2 then pending(ONE_NODE) end
  return out
end

describe("memory benchmarks #multinode", function()
  it("measure a latency matrix with a row per CPU node, a column per node, every page "
     .. "on its column's node", function()
    local nodes = nodes_with_memory()
    local topo = lnuma.topology()
    local r = assert(lnuma.bench.matrix(with { metric = "latency", size = "4M" }))
    assert.same(nodes, r.columns)
    local rows = {}
    for _, n in ipairs(topo.nodes) do
      for _, c in ipairs(n.cpus) do
        local ok = false
        for _, a in ipairs(topo.allowed.cpus) do ok = ok or a == c end
        if ok then rows[#rows + 1] = n.os_index; break end
      end
    end
    assert.same(rows, r.rows)
    for i = 1, #r.rows do
      for j = 1, #r.columns do
        assert.is_true(r.values[i][j] > 0)
        assert.equal(1.0, r.fractions[i][j], ("cell %d -> %d"):format(r.rows[i], r.columns[j]))
      end
    end
    for _, cell in ipairs(r.cells) do
      assert.equal(cell.cpu_node, topo:node_of_cpu(cell.cpus_ran[1]))
    end
  end)

  it("measure a bandwidth matrix the same way", function()
    nodes_with_memory()
    local r = assert(lnuma.bench.matrix(with { metric = "bandwidth", size = "8M" }))
    for i = 1, #r.rows do
      for j = 1, #r.columns do
        assert.is_true(r.values[i][j] > 0)
        assert.equal(1.0, r.fractions[i][j])
      end
    end
  end)

  it("put latency's pages on the node asked, whichever node the CPU is on", function()
    local nodes = nodes_with_memory()
    local cpu = lnuma.topology().allowed.cpus[1]
    for _, node in ipairs(nodes) do
      local r = assert(lnuma.bench.latency(with { size = "4M", node = node, cpu = cpu }))
      assert.equal(node, r.placement.node)
      assert.equal(1.0, r.placement.fraction)
      assert.same({ cpu }, r.cpus_ran)
    end
  end)

  it("move pages from one node to another", function()
    local nodes = nodes_with_memory()
    local r = assert(lnuma.bench.migration { size = "4M", from = nodes[1], to = nodes[2],
                                             repetitions = 1 })
    assert.equal(1024, r.moved)
    assert.is_true(r.pages_per_s > 0)
    assert.equal(1.0, r.placement.fraction)
  end)
end)
