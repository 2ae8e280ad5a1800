-- Inside the emulated machines of spec/vm (make test-vm), the kernel, numactl
-- and lnuma must see exactly the machine the topology file describes: its
-- expectations arrive as LNUMA_VM_EXPECT_* (see spec/vm/topologies/*.conf).
-- Elsewhere these are pending: on a real machine, set the variables by hand.
local lnuma = require "lnuma"
local sys = dofile("spec/support/sys.lua")

local MiB = 1024 * 1024
-- MemTotal lacks what the kernel reserved (its image, the page array): tens
-- of MiB on the node that holds the kernel, a few on the others.
local RESERVED = 96 * MiB

local function numbers(s)
  local out = {}
  for v in (s or ""):gmatch("%d+") do out[#out + 1] = math.tointeger(tonumber(v)) end
  return out
end

local function list(path)
  return lnuma.cpulist(((sys.read(path) or ""):gsub("%s+$", "")))
end

-- What the VM was given, from the environment: nil outside a VM.
local function expectations()
  local function env(k) return os.getenv("LNUMA_VM_EXPECT_" .. k) end
  if not env("NODES") then return nil end
  local e = { nodes = lnuma.cpulist(env("NODES")), cpus = {}, mem = {}, distance = {},
              memonly = {} }
  local n, cpus, mem, d = #e.nodes, {}, numbers(env("MEM_MB")), numbers(env("DISTANCES"))
  for c in (env("CPUS") or ""):gmatch("%S+") do cpus[#cpus + 1] = c end
  assert(#cpus == n and #mem == n and #d == n * n,
    "LNUMA_VM_EXPECT_*: one CPU list and one size per node, a full distance matrix")
  for i, node in ipairs(e.nodes) do
    e.cpus[node] = cpus[i] == "-" and {} or lnuma.cpulist(cpus[i])
    e.mem[node] = mem[i] * MiB
    e.distance[node] = table.move(d, (i - 1) * n + 1, i * n, 1, {})
  end
  for _, m in ipairs(lnuma.cpulist(env("MEMONLY") or "")) do e.memonly[m] = true end
  return e
end

-- Memory present on node n from its memory blocks (exact, unlike MemTotal);
-- nil without memory hot-plug sysfs.
local function block_bytes(n)
  local size = sys.read("/sys/devices/system/memory/block_size_bytes")
  if not size then return nil end
  local out = sys.run(("ls -d /sys/devices/system/node/node%d/memory[0-9]* | wc -l"):format(n))
  return tonumber(out) * tonumber(size:match("%x+"), 16)
end

local function assert_memory(expected, total, what)
  assert.is_true(total <= expected and total > expected - RESERVED,
    ("%s: %d MiB for %d MiB given"):format(what, total // MiB, expected // MiB))
end

local NOT_VM = "not in an lnuma VM: spec/vm/run sets LNUMA_VM_EXPECT_* (make test-vm)"

describe("the emulated machine is the one its topology file describes #multinode", function()
  local e = expectations()

  it("has exactly the expected nodes online, gaps included", function()
    if not e then return pending(NOT_VM) end
    assert.same(e.nodes, sys.nodes())
    assert.same(e.nodes, sys.numactl().nodes)
  end)

  it("gives every node the expected CPUs, memory-only nodes none", function()
    if not e then return pending(NOT_VM) end
    local hw = sys.numactl()
    local with_cpus = {}
    for _, n in ipairs(e.nodes) do
      assert.same(e.cpus[n], sys.node_cpus(n), "CPUs of node " .. n)
      assert.same(e.cpus[n], hw.cpus[n], "numactl's CPUs of node " .. n)
      assert.equal(e.memonly[n] or false, #e.cpus[n] == 0, "memory-only node " .. n)
      if #e.cpus[n] > 0 then with_cpus[#with_cpus + 1] = n end
    end
    assert.same(with_cpus, list("/sys/devices/system/node/has_cpu"))
  end)

  it("gives every node the expected memory", function()
    if not e then return pending(NOT_VM) end
    local hw = sys.numactl()
    assert.same(e.nodes, sys.memory_nodes())
    for _, n in ipairs(e.nodes) do
      local blocks = block_bytes(n)
      if blocks then assert.equal(e.mem[n], blocks, "memory blocks of node " .. n) end
      local total = sys.node_meminfo(n)
      assert_memory(e.mem[n], total, "MemTotal of node " .. n)
      assert.equal(total // MiB, hw.size_mb[n], "numactl's size of node " .. n)
    end
  end)

  it("has the expected distance matrix", function()
    if not e then return pending(NOT_VM) end
    local hw = sys.numactl()
    for _, n in ipairs(e.nodes) do
      assert.same(e.distance[n], sys.node_distances(n), "distances of node " .. n)
      assert.same(e.distance[n], hw.distances[n], "numactl's distances of node " .. n)
    end
  end)

  it("is what lnuma.topology() describes: nodes, CPUs, memory, distances", function()
    if not e then return pending(NOT_VM) end
    local topo = assert(lnuma.topology())
    assert.equal(#e.nodes, #topo.nodes)
    assert.is_false(topo.default_distances)
    for i, node in ipairs(topo.nodes) do
      local n = e.nodes[i]
      assert.equal(n, node.os_index)
      assert.same(e.cpus[n], node.cpus, "CPUs of node " .. n)
      assert.equal(e.memonly[n] or false, node.memory_only, "memory_only of node " .. n)
      assert_memory(e.mem[n], node.memory, "lnuma's memory of node " .. n)
      assert.same(e.distance[n], node.distances, "distances of node " .. n)
      for j, other in ipairs(e.nodes) do
        assert.equal(e.distance[n][j], topo:distance(n, other))
      end
    end
  end)
end)
