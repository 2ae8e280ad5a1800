-- lnuma exec and compare on machines with several NUMA nodes (make test-vm
-- runs these in emulated two- and four-node machines): a program's pages
-- land where its placement says, checked from its own numa_maps, and a
-- placement that cannot hold is flagged.  On one node every test is pending.
local lnuma = require "lnuma"
local sys = dofile("spec/support/sys.lua")
local walker = dofile("spec/support/walker.lua")

local MiB = 1024 * 1024
local LUA = os.getenv("LUA") or "lua5.4"
local ONE_NODE = "needs ≥2 NUMA nodes: runs in the emulated machines (make test-vm)"

local function memory_nodes()
  local nodes = sys.memory_nodes()
  if #nodes < 2 then pending(ONE_NODE) end
  return nodes
end

local function the_walker()
  local path, why = walker()
  if not path then pending(why) end
  return path
end

-- Bytes of the program's memory (file pages left out) on each node.
local function by_node(r)
  local t = {}
  for _, e in ipairs(r.placement.pages_by_node) do t[e.node] = e.bytes end
  return t
end

describe("lnuma exec #multinode", function()
  it("puts a program bound to each node there, every page of its memory", function()
    local w = the_walker()
    for _, node in ipairs(memory_nodes()) do
      local r = assert(lnuma.exec{w, "4", "100", node = node, stdout = "null", capture = true})
      assert.equal(0, r.exit.code, r.stderr)
      assert.is_true(r.placement.held, "node " .. node)
      local t = by_node(r)
      assert.is_true((t[node] or 0) >= 4 * MiB, ("node %d: %s"):format(node,
        lnuma.report.json(r.placement.pages_by_node)))
      for n, bytes in pairs(t) do
        assert.equal(node, n, ("%d bytes on node %d"):format(bytes, n))
      end
      assert.same({}, r.warnings)
    end
  end)

  it("spreads an interleaved program over every node", function()
    local w = the_walker()
    local nodes = memory_nodes()
    -- Base pages: THP would interleave 2 MiB at a time, too coarse for 8 MiB.
    local r = assert(lnuma.exec{w, "8", "100", interleave = "all", huge = "none",
                                stdout = "null"})
    assert.is_true(r.placement.held)
    local t, total = by_node(r), r.placement.bytes
    for _, n in ipairs(nodes) do
      local share = (t[n] or 0) / total
      assert.is_true(share > 0.5 / #nodes, ("node %d holds %.1f%%"):format(n, share * 100))
    end
  end)

  it("runs a program on the CPUs of the node asked", function()
    memory_nodes()
    for _, n in ipairs(sys.memory_nodes()) do
      local cpus = sys.node_cpus(n)
      if #cpus > 0 then
        local r = assert(lnuma.exec{"sleep", "0.05", cpus = cpus, node = n})
        assert.same(cpus, r.cpus_allowed)
        local mine = {}
        for _, c in ipairs(cpus) do mine[c] = true end
        assert.is_true(#r.cpus_ran > 0)
        for _, c in ipairs(r.cpus_ran) do assert.is_true(mine[c], "ran on CPU " .. c) end
        assert.is_true(r.cpus_held)
      end
    end
  end)

  it("flags a placement that did not hold, saying where the pages went", function()
    -- The program changes its own policy (numactl --membind inside): the
    -- pages go elsewhere than lnuma asked, and the result must say so.
    local w = the_walker()
    local nodes = memory_nodes()
    local asked, other = nodes[1], nodes[#nodes]
    if not os.execute("command -v numactl >/dev/null 2>&1") then pending("no numactl") end
    local r = assert(lnuma.exec{"numactl", "--membind=" .. other, w, "4", "100", node = asked,
                                stdout = "null", capture = true})
    assert.equal(0, r.exit.code, r.stderr)
    assert.is_false(r.placement.held)
    assert.is_true(r.placement.fraction < 0.5)
    assert.matches(("placement did not hold: [%%d.]+%%%% of the program's memory %%(.-%%) was on "
                    .. "node %d %%(.*node %d: "):format(asked, other),
                   table.concat(r.warnings, "\n"))
    assert.is_true((by_node(r)[other] or 0) >= 4 * MiB)
  end)
end)

describe("lnuma compare #multinode", function()
  it("runs each placement where it says, the pages of each run on its node", function()
    if not lnuma.experiment then pending("lnuma.experiment is not in this build yet") end
    local w = the_walker()
    local nodes = memory_nodes()
    local first, last = nodes[1], nodes[#nodes]
    local p = assert(io.popen(("%s bin/lnuma compare --placement node=%d --placement node=%d "
      .. "--repetitions 2 --warmup 0 --seed 3 --metric 'ns_per_load=([%%d.]+)' --json -- %s 4 100 "
      .. "2>/dev/null"):format(LUA, first, last, w)))
    local out = p:read("a")
    assert.is_true(p:close())
    local r = assert(lnuma.report.decode(out))
    for i, node in ipairs { first, last } do
      local row = r.placements[i]
      assert.equal("node=" .. node, row.placement)
      assert.equal(0, row.failed)
      assert.equal(0, row.flagged)
      assert.equal(node, row.by_node[1].node)
    end
    for _, run in ipairs(r.runs) do
      assert.same({}, run.flags)
    end
    -- The runs went in the order seed 3 gives: the design's own shuffle of 2
    -- combinations x 2 rounds, drawn from a generator seeded with 3.
    local D = require "lnuma.experiment_design"
    local expected = {}
    for _, slot in ipairs(D.order(2, 2, 0, D.rng(3))) do
      expected[#expected + 1] = slot.combination
    end
    assert.equal(3, r.seed)
    assert.same(expected, r.order)
  end)
end)
