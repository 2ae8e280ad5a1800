-- Inside the emulated machines of spec/vm (make test-vm), the kernel, numactl
-- and lnuma must see exactly the machine the topology file describes: its
-- expectations arrive as LNUMA_VM_EXPECT_* (see spec/vm/topologies/*.conf).
-- Elsewhere these are pending: on a real machine, set the variables by hand.
local lnuma = require "lnuma"

local NODE = "/sys/devices/system/node"
local MiB = 1024 * 1024

local function read(path)
  local f = io.open(path)
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return (s:gsub("%s+$", ""))
end

local function numbers(s)
  local out = {}
  for v in (s or ""):gmatch("%d+") do out[#out + 1] = math.tointeger(tonumber(v)) end
  return out
end

-- What the VM was given, from the environment: nil outside a VM.
local function expectations()
  local env = function(k) return os.getenv("LNUMA_VM_EXPECT_" .. k) end
  if not env("NODES") then return nil end
  local e = { nodes = lnuma.cpulist(env("NODES")), cpus = {}, mem = {}, distance = {},
              memonly = {} }
  local i = 0
  for cpus in (env("CPUS") or ""):gmatch("%S+") do
    i = i + 1
    e.cpus[e.nodes[i]] = cpus == "-" and {} or lnuma.cpulist(cpus)
  end
  for k, mb in ipairs(numbers(env("MEM_MB"))) do e.mem[e.nodes[k]] = mb * MiB end
  local d, n = numbers(env("DISTANCES")), #e.nodes
  assert(#d == n * n, "LNUMA_VM_EXPECT_DISTANCES needs " .. n * n .. " values")
  for r = 1, n do
    e.distance[e.nodes[r]] = table.move(d, (r - 1) * n + 1, r * n, 1, {})
  end
  for _, m in ipairs(lnuma.cpulist(env("MEMONLY") or "")) do e.memonly[m] = true end
  assert(i == n and #numbers(env("MEM_MB")) == n, "one CPU list and one size per node")
  return e
end

-- `numactl --hardware`, parsed independently of lnuma.
local function numactl()
  local p = assert(io.popen("numactl --hardware 2>&1"))
  local text = p:read("a")
  p:close()
  local hw = { cpus = {}, size_mb = {}, distance = {} }
  hw.available = text:match("available: %d+ nodes %(([^)]*)%)")
  for n, list in text:gmatch("node (%d+) cpus:([^\n]*)") do
    hw.cpus[tonumber(n)] = numbers(list)
  end
  for n, mb in text:gmatch("node (%d+) size: (%d+) MB") do hw.size_mb[tonumber(n)] = tonumber(mb) end
  local header, rows = text:match("node distances:\nnode([^\n]*)\n(.*)$")
  hw.columns = numbers(header)
  for n, row in (rows or ""):gmatch("%s*(%d+):([^\n]*)") do hw.distance[tonumber(n)] = numbers(row) end
  return hw, text
end

local function meminfo_total(n)
  local kb = (read(("%s/node%d/meminfo"):format(NODE, n)) or ""):match("MemTotal:%s*(%d+) kB")
  return kb and math.tointeger(tonumber(kb)) * 1024
end

-- Memory present on node n from its memory blocks (exact, unlike MemTotal,
-- which lacks what the kernel reserved); nil without memory hot-plug sysfs.
local function block_bytes(n)
  local size = read("/sys/devices/system/memory/block_size_bytes")
  if not size then return nil end
  local p = assert(io.popen(("ls -d %s/node%d/memory[0-9]* 2>/dev/null | wc -l"):format(NODE, n)))
  local count = tonumber(p:read("a"))
  p:close()
  return count * tonumber(size:match("%x+"), 16)
end

local NOT_VM = "not in an lnuma VM: spec/vm/run sets LNUMA_VM_EXPECT_* (make test-vm)"

describe("the emulated machine is the one its topology file describes #multinode", function()
  local e = expectations()

  it("has exactly the expected nodes online, gaps included", function()
    if not e then return pending(NOT_VM) end
    assert.same(e.nodes, lnuma.cpulist(read(NODE .. "/online")))
    local hw = numactl()
    assert.equal(lnuma.cpulist(e.nodes), hw.available)
    assert.same(e.nodes, hw.columns)
  end)

  it("gives every node the expected CPUs, memory-only nodes none", function()
    if not e then return pending(NOT_VM) end
    local hw = numactl()
    for _, n in ipairs(e.nodes) do
      assert.same(e.cpus[n], lnuma.cpulist(read(("%s/node%d/cpulist"):format(NODE, n))),
        "CPUs of node " .. n)
      assert.same(e.cpus[n], hw.cpus[n], "numactl's CPUs of node " .. n)
      assert.equal(e.memonly[n] or false, #e.cpus[n] == 0, "memory-only node " .. n)
    end
    local with_cpus = {}
    for _, n in ipairs(e.nodes) do
      if not e.memonly[n] then with_cpus[#with_cpus + 1] = n end
    end
    assert.same(with_cpus, lnuma.cpulist(read(NODE .. "/has_cpu")))
  end)

  it("gives every node the expected memory", function()
    if not e then return pending(NOT_VM) end
    local hw = numactl()
    assert.same(e.nodes, lnuma.cpulist(read(NODE .. "/has_memory")))
    for _, n in ipairs(e.nodes) do
      local blocks = block_bytes(n)
      if blocks then assert.equal(e.mem[n], blocks, "memory blocks of node " .. n) end
      -- MemTotal lacks what the kernel reserved (its image, the page array):
      -- tens of MiB on node 0, a few elsewhere.
      local total = meminfo_total(n)
      assert.is_true(total <= e.mem[n] and total > e.mem[n] - 96 * MiB,
        ("node %d: MemTotal %d MiB for %d MiB given"):format(n, total // MiB, e.mem[n] // MiB))
      assert.equal(total // MiB, hw.size_mb[n], "numactl's size of node " .. n)
    end
  end)

  it("has the expected distance matrix", function()
    if not e then return pending(NOT_VM) end
    local hw = numactl()
    for _, n in ipairs(e.nodes) do
      assert.same(e.distance[n], numbers(read(("%s/node%d/distance"):format(NODE, n))),
        "distances of node " .. n)
      assert.same(e.distance[n], hw.distance[n], "numactl's distances of node " .. n)
    end
  end)
end)
