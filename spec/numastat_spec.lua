local lnuma = require "lnuma"
local sys = dofile("spec/support/sys.lua")

local MiB = 1024 * 1024

describe("lnuma.numastat", function()
  it("gives every node's counters as /sys has them, in pages", function()
    local s = assert(lnuma.numastat())
    assert.equal("pages", s.units)
    for _, node in ipairs(sys.nodes()) do
      local c = s.by_node[node]
      assert.is_table(c)
      local text = sys.read(("/sys/devices/system/node/node%d/numastat"):format(node))
      for _, key in ipairs{"numa_hit", "numa_miss", "numa_foreign", "interleave_hit",
                           "local_node", "other_node"} do
        assert.equal("integer", math.type(c[key]))
        local now = tonumber(text:match(key .. " (%d+)"))
        assert.is_true(c[key] <= now, key) -- counters only grow
      end
    end
  end)

  it("counts new allocations as hits on the node that gets them", function()
    local node = sys.nodes()[1]
    local before = lnuma.numastat().by_node[node].numa_hit
    local buf <close> = assert(lnuma.alloc(8 * MiB, {node = node, huge = false}))
    local after = lnuma.numastat().by_node[node].numa_hit
    assert.equal(2048, buf:placement().by_node[node])
    assert.is_true(after - before >= 2048, ("numa_hit grew by %d"):format(after - before))
  end)

  it("gives a process's memory per node as numastat -p sorts it, in bytes", function()
    local buf <close> = assert(lnuma.alloc(16 * MiB))
    local s = assert(lnuma.numastat{pid = 0})
    assert.equal("bytes", s.units)
    local node, most = nil, -1
    for n, pages in pairs(buf:placement().by_node) do
      if pages > most then node, most = n, pages end
    end
    for n, use in pairs(s.by_node) do
      assert.equal(use.huge + use.heap + use.stack + use.private, use.total)
      assert.is_true(s.mb[n] >= 0)
    end
    assert.is_true(s.by_node[node].private >= most * 4096)
    -- numastat -p's column: the 16 MiB buffer shows in MiB on its node.
    assert.is_true(s.mb[node] >= most * 4096 / MiB, tostring(s.mb[node]))
    assert.is_true(s.total.total >= 16 * MiB)
    local mine = assert(lnuma.numastat{pid = tonumber(sys.read("/proc/self/stat"):match("^%d+"))})
    assert.is_true(mine.total.private >= 16 * MiB)
  end)

  it("returns nil, a message and ESRCH for a process that does not exist", function()
    local s, msg, code = lnuma.numastat{pid = 999999999}
    assert.is_nil(s)
    assert.matches("/proc/999999999/numa_maps", msg)
    assert.equal(3, code)
  end)

  describe("bad arguments", function()
    it("names what is wrong", function()
      assert.error_matches(function() lnuma.numastat{pdi = 1} end, "unknown option 'pdi'")
      assert.error_matches(function() lnuma.numastat{pid = "x"} end, "pid: integer expected")
      assert.error_matches(function() lnuma.numastat{pid = -1} end, "pid: not a process id")
      assert.error_matches(function() lnuma.numastat(5) end, "table expected")
    end)
  end)
end)

describe("lnuma.meminfo", function()
  it("gives a node's memory and huge pages as /sys has them", function()
    for _, node in ipairs(sys.nodes()) do
      local m = assert(lnuma.meminfo(node))
      assert.equal(node, m.node)
      assert.equal("bytes", m.units)
      local text = sys.read(("/sys/devices/system/node/node%d/meminfo"):format(node))
      assert.equal(tonumber(text:match("MemTotal:%s+(%d+) kB")) * 1024, m.total)
      assert.is_true(m.free > 0 and m.free <= m.total)
      -- Used as the kernel counts it (it moves between the two reads).
      local used = tonumber(text:match("MemUsed:%s+(%d+) kB")) * 1024
      assert.is_true(math.abs(m.used - used) <= 256 * MiB, ("%d vs %d"):format(m.used, used))
      local h = m.huge["2M"]
      assert.equal(2 * MiB, h.page_size)
      local nr = sys.read(("/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/"
        .. "nr_hugepages"):format(node))
      assert.equal(tonumber(nr:match("%d+")), h.total)
      assert.is_true(h.free <= h.total)
    end
  end)

  describe("bad arguments", function()
    it("names a node that does not exist", function()
      assert.error_matches(function() lnuma.meminfo(999) end, "node 999 does not exist")
      assert.error_matches(function() lnuma.meminfo(-1) end, "node %-1 does not exist")
      assert.error_matches(function() lnuma.meminfo() end, "integer node expected")
      assert.error_matches(function() lnuma.meminfo("0x") end, "integer node expected")
    end)
  end)
end)
