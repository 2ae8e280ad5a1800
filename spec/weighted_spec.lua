-- Per-buffer weights (policy = "weighted") on any machine: the chunk pattern,
-- a weighted buffer on node 0, the errors that name the option, hostile
-- weight tables, arenas, pools, plans, the sweep and the CLI.  The mixes over
-- several nodes are in weighted_multinode_spec.lua (make test-vm).
local lnuma = require "lnuma"
local sys = dofile("spec/support/sys.lua")

local W = lnuma.weights
local KiB, MiB = 1024, 1024 * 1024
local LUA = os.getenv("LUA") or "lua5.4"

local function err_of(fn, ...)
  local ok, msg = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return tostring(msg)
end

-- A node number that does not exist here.
local function missing_node()
  local nodes = sys.nodes()
  return nodes[#nodes] + 1
end

local function run(args)
  local err = os.tmpname()
  local p = assert(io.popen(LUA .. " bin/lnuma " .. args .. " 2>" .. err))
  local out = p:read("a")
  local _, _, code = p:close()
  local f = io.open(err)
  local errtext = f:read("a")
  f:close()
  os.remove(err)
  return out, errtext, code
end

describe("lnuma.weights.pattern", function()
  it("spreads 3:1 as 0 0 1 0, repeating", function()
    assert.same({ 0, 0, 1, 0 }, W.pattern({ [0] = 3, [1] = 1 }))
    assert.same({ 0, 0, 1, 0, 0, 0, 1, 0 }, W.pattern({ [0] = 3, [1] = 1 }, 8))
    assert.same({ 1, 0, 0, 0 }, W.pattern({ [0] = 3, [1] = 1 }, 4, 2))
  end)

  it("holds the exact mix in every window of sum(weights) chunks", function()
    local w = { [0] = 5, [2] = 3, [4] = 1, [6] = 0 }
    local p = W.pattern(w, 300)
    for start = 1, #p - 8 do
      local count = {}
      for k = start, start + 8 do count[p[k]] = (count[p[k]] or 0) + 1 end
      assert.same({ [0] = 5, [2] = 3, [4] = 1 }, count)
    end
  end)

  it("refuses bad weights and counts, naming them", function()
    assert.matches("weights: the weights sum to 0", err_of(W.pattern, { [0] = 0 }))
    assert.matches("weights: a table {%[node%] = weight, ...} expected, got string",
                   err_of(W.pattern, "0:1"))
    assert.matches("count must be in 0..1048576", err_of(W.pattern, { [0] = 1 }, -1))
    assert.matches("count must be in 0..1048576", err_of(W.pattern, { [0] = 1 }, 1 << 40))
    assert.matches("first must not be negative", err_of(W.pattern, { [0] = 1 }, 1, -5))
  end)
end)

describe("lnuma.weights notation", function()
  it("reads and writes NODE:WEIGHT lists", function()
    assert.same({ [0] = 3, [1] = 1 }, W.parse("0:3,1:1"))
    assert.same({ [0] = 3, [1] = 1 }, W.parse(" 0 : 3 , 1:1 "))
    assert.equal("0:3,1:1", W.format({ [1] = 1, [0] = 3 }))
    assert.equal("75:25", W.ratio({ [0] = 3, [1] = 1 }))
    assert.equal("33.3:66.7", W.ratio({ [0] = 1, [1] = 2 }))
  end)

  it("says what is wrong with a list", function()
    assert.same({ nil, "weights: '0:x' is not NODE:WEIGHT (e.g. \"0:3,1:1\")" },
                { W.parse("0:x") })
    assert.same({ nil, "--weights: node 0 is named twice" }, { W.parse("0:1,0:2", "--weights") })
    assert.same({ nil, "weights: '-1:2' is not NODE:WEIGHT (e.g. \"0:3,1:1\")" },
                { W.parse("-1:2") })
  end)

  it("steps a two-node sweep from all on one node to all on the other", function()
    local s = W.steps(0, 2, 11)
    assert.equal(11, #s)
    assert.same({ [0] = 1, [2] = 0 }, s[1])
    assert.same({ [0] = 9, [2] = 1 }, s[2])
    assert.same({ [0] = 1, [2] = 1 }, s[6])
    assert.same({ [0] = 0, [2] = 1 }, s[11])
    assert.equal("90:10", W.ratio(s[2]))
  end)
end)

describe("a weighted buffer on node 0", function()
  it("puts every page on node 0 and says its weights and chunk", function()
    local buf <close> = assert(lnuma.alloc(MiB, { policy = "weighted", weights = { [0] = 3 } }))
    local info = buf:info()
    assert.equal("weighted", info.policy)
    assert.same({ [0] = 3 }, info.weights)
    assert.equal(info.page_size, info.chunk_size)
    assert.same({ 0 }, info.nodes)
    assert.equal(256, buf:placement().by_node[0])
    local p = buf:policy()
    assert.equal("weighted", p.policy)
    if p.applied then
      -- Placed chunk by chunk, then bound to the weighted nodes.
      assert.equal("bind", p.kernel.policy)
      assert.same({ 0 }, p.kernel.nodes)
    end
  end)

  it("takes weights alone as policy 'weighted'", function()
    local buf <close> = assert(lnuma.alloc(64 * KiB, { weights = { [0] = 1 } }))
    assert.equal("weighted", buf:info().policy)
  end)

  it("is proven page by page by lnuma.weights.check", function()
    local buf <close> = assert(lnuma.alloc(MiB, { weights = { [0] = 2 } }))
    local c = assert(W.check(buf))
    assert.is_true(c.ok)
    assert.is_true(c.within_one_chunk)
    assert.equal(0, c.misplaced)
    assert.equal(0, c.absent)
    assert.equal(256, c.pages)
    assert.equal(256, c.page_nodes_checked)
    assert.same({ [0] = 256 }, c.by_node)
    assert.equal("100", c.ratio)
    -- A view is checked from its own offset.
    local v = assert(W.check(buf:view(8192, 16384)))
    assert.equal(4, v.pages)
    assert.is_true(v.ok)
  end)

  it("says when a buffer has no weights", function()
    local buf <close> = assert(lnuma.alloc(64 * KiB))
    assert.same({ nil, "the buffer has no weights (policy default)" }, { W.check(buf) })
  end)

  it("uses THP-sized chunks when THP is asked", function()
    local buf, msg = lnuma.alloc(4 * MiB, { weights = { [0] = 1 }, huge = "thp" })
    if not buf then pending("no THP here: " .. tostring(msg)) end
    assert.equal(lnuma.thp().pmd_size, buf:info().chunk_size)
    assert.is_true(W.check(buf).ok)
    buf:free()
  end)
end)

describe("bad weights", function()
  local function alloc_error(opts) return err_of(lnuma.alloc, 64 * KiB, opts) end

  it("are refused with a message naming the option", function()
    local cases = {
      { { [0] = -1 }, "weights: node 0: weight %-1 is not in 0..1000" },
      { { [0] = 1001 }, "weights: node 0: weight 1001 is not in 0..1000" },
      { { [0] = math.maxinteger }, "weights: node 0: weight 9223372036854775807 is not in" },
      { { [0] = 0 }, "weights: the weights sum to 0" },
      { { [0] = 1.5 }, "weights: node 0: weight 1.5 is not an integer" },
      { { [0] = 0 / 0 }, "weights: node 0: weight [-]?nan is not an integer" },
      { { [0] = math.huge }, "weights: node 0: weight inf is not an integer" },
      { { [0] = "3" }, "weights: node 0: weight string is not an integer" },
      { {}, "weights: the table is empty" },
      { { x = 1 }, "weights: key 'x' is not a node number %(0..1023%)" },
      { { [1.5] = 1 }, "weights: key 1.5 is not a node number" },
      { { [-1] = 1 }, "weights: key %-1 is not a node number" },
      { { [1 << 62] = 1 }, "weights: key 4611686018427387904 is not a node number" },
      { { [true] = 1 }, "weights: key boolean is not a node number" },
      { "0:1", "weights: a table {%[node%] = weight, ...} expected, got string" },
    }
    for _, case in ipairs(cases) do
      assert.matches(case[2], alloc_error({ weights = case[1] }))
    end
  end)

  it("name at most 64 nodes", function()
    local w = {}
    for n = 0, 64 do w[n] = 1 end
    assert.matches("weights: more than 64 nodes", alloc_error({ weights = w }))
  end)

  it("must name nodes that exist", function()
    local n = missing_node()
    assert.matches(("weights: node %d does not exist"):format(n),
                   alloc_error({ weights = { [0] = 1, [n] = 1 } }))
  end)

  it("go with policy 'weighted' only, and without nodes", function()
    assert.matches("weights: only with policy 'weighted', not 'bind'",
                   alloc_error({ policy = "bind", weights = { [0] = 1 } }))
    assert.matches("'weighted_interleave' takes the system%-wide weights",
                   alloc_error({ policy = "weighted_interleave", weights = { [0] = 1 } }))
    assert.matches("weights: give weights or nodes, not both",
                   alloc_error({ nodes = { 0 }, weights = { [0] = 1 } }))
    assert.matches("policy 'weighted' needs weights", alloc_error({ policy = "weighted" }))
    assert.matches("populate=false is not possible with policy 'weighted'",
                   alloc_error({ populate = false, weights = { [0] = 1 } }))
  end)

  it("cannot become a thread's policy", function()
    assert.matches("policy 'weighted' takes per%-buffer weights",
                   err_of(lnuma.set_policy, { policy = "weighted" }))
  end)
end)

describe("hostile weight tables", function()
  it("are read through __index, node 0 included", function()
    local proxy = setmetatable({}, { __index = function(_, k) if k == 0 then return 4 end end })
    local buf <close> = assert(lnuma.alloc(64 * KiB, { weights = proxy }))
    assert.same({ [0] = 4 }, buf:info().weights)
    local opts = setmetatable({}, { __index = { weights = { [0] = 2 } } })
    local b2 <close> = assert(lnuma.alloc(64 * KiB, opts))
    assert.same({ [0] = 2 }, b2:info().weights)
  end)

  it("refuse their own keys that are not nodes, without running Lua", function()
    local t = setmetatable({ [1 << 40] = 1 }, { __index = function() error("not reached") end })
    assert.matches("weights: key 1099511627776 is not a node number",
                   err_of(lnuma.alloc, 64 * KiB, { weights = t }))
  end)

  it("may raise, free objects or collect garbage without harm", function()
    local raising = setmetatable({}, { __index = function() error("boom from __index") end })
    assert.matches("boom from __index", err_of(lnuma.alloc, 64 * KiB, { weights = raising }))
    local victim = assert(lnuma.alloc(64 * KiB))
    local freeing = setmetatable({}, { __index = function(_, k)
      victim:free()
      collectgarbage()
      if k == 0 then return 1 end
    end })
    local arena <close> = assert(lnuma.arena { size = 64 * KiB, weights = freeing })
    assert.same({ [0] = 1 }, arena:info().weights)
    assert.equal("freed buffer", lnuma.type(victim))
  end)
end)

describe("arenas and pools with weights", function()
  it("place their memory by the weights", function()
    local arena <close> = assert(lnuma.arena { size = MiB, weights = { [0] = 3 } })
    assert.equal("weighted", arena:info().policy)
    assert.equal(256, arena:placement().by_node[0])
    local pool <close> = assert(lnuma.pool { size = 64, count = 1024, weights = { [0] = 1 } })
    assert.same({ [0] = 1 }, pool:info().weights)
    assert.matches("weights: node 0: weight %-2",
                   err_of(lnuma.pool, { size = 64, count = 4, weights = { [0] = -2 } }))
  end)
end)

describe("plans with weights", function()
  local function load(src)
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(src)
    f:close()
    local p, msg = lnuma.plan.load(path)
    os.remove(path)
    return p, msg
  end

  it("place a region by its weights and prove it", function()
    local p = assert(load([[return { memory = { { name = "w", size = "1M",
                                                  weights = { [0] = 3 } } } }]]))
    local a = assert(p:apply())
    local m = a.report.memory[1]
    assert.equal("weighted", m.asked.policy)
    assert.same({ [0] = 3 }, m.asked.weights)
    assert.is_true(m.ok)
    assert.is_true(m.weights.ok)
    a.memory.w:free()
  end)

  it("check weights as lnuma.alloc does", function()
    local n = missing_node()
    local cases = {
      { "weights = { [0] = -3 }", "memory%[1%]%.weights: node 0: weight %-3 is not in 0..1000" },
      { "weights = { [0] = 0 }", "memory%[1%]%.weights: the weights sum to 0" },
      { "weights = { [0] = 1.5 }", "memory%[1%]%.weights%[0%]: an integer weight expected" },
      { ("weights = { [%d] = 1 }"):format(n),
        ("memory%%[1%%]%%.weights%%[%d%%]: node %d does not exist"):format(n, n) },
      { "policy = 'weighted'", "memory%[1%]%.weights: missing" },
      { "node = 0, weights = { [0] = 1 }", "memory%[1%]%.node: give node or weights, not both" },
      { "policy = 'bind', weights = { [0] = 1 }",
        "memory%[1%]%.weights: only with policy \"weighted\", not \"bind\"" },
    }
    for _, case in ipairs(cases) do
      local p, msg = load(("return { memory = { { name = 'w', size = 4096, %s } } }")
        :format(case[1]))
      assert.is_nil(p)
      assert.matches(case[2], msg)
    end
  end)
end)

describe("lnuma.bench.weights", function()
  local quick = { size = 2 * MiB, repetitions = 1, min_time = 1000000, latency_size = MiB }

  local function with(extra)
    local o = {}
    for k, v in pairs(quick) do o[k] = v end
    for k, v in pairs(extra or {}) do o[k] = v end
    return o
  end

  it("measures each mix on a buffer whose placement it proves", function()
    local r = assert(lnuma.bench.weights(with { vectors = { { [0] = 3 }, { [0] = 1 } } }))
    assert.equal("weights", r.benchmark)
    assert.equal(2, #r.points)
    for i, pt in ipairs(r.points) do
      assert.equal(i, pt.index)
      assert.is_true(pt.gbps > 0)
      assert.is_true(pt.latency_ns > 0)
      assert.is_true(pt.placement.ok)
      assert.is_true(pt.placement.within_one_chunk)
      assert.equal(512, pt.placement.pages)
    end
    assert.same({ 1, 2 }, (function()
      local o = {}
      for i, v in ipairs(r.run_order) do o[i] = v end
      table.sort(o)
      return o
    end)())
    assert.is_not_nil(r.best.bandwidth.gbps)
    assert.is_not_nil(r.best.latency.latency_ns)
    assert.equal(1, r.placement.fraction)
    assert.is_table(r.clock)
    assert.is_table(r.cpus_ran)
    assert.is_table(r.stats)
    assert.equal("GB/s (1e9 bytes/s)", r.units.gbps)
    -- A plain table: JSON, text and CSV.
    local back = assert(lnuma.report.decode(lnuma.report.json(r)))
    assert.equal("weights", back.benchmark)
    assert.is_true(lnuma.report.check(back))
    assert.matches("weighted placement: best bandwidth 0:", lnuma.report.text(r))
    assert.matches("^weights,ratio,gbps,latency_ns", lnuma.report.csv(r))
    -- 2 MiB and 1 MiB: under any last-level cache, and the text says so.
    local llc, topo = require "lnuma.llc", lnuma.topology()
    assert.equal(llc.scope(2 * MiB, llc.of(topo, r.cpus_ran).all), r.scope)
    assert.equal(llc.scope(MiB, r.latency_llc), r.latency_scope)
    assert.equal(r.scope == "cache",
                 lnuma.report.text(r):find("cache bandwidth", 1, true) ~= nil)
    assert.equal(r.latency_scope == "cache",
                 lnuma.report.text(r):find("cache latency", 1, true) ~= nil)
  end)

  it("takes bandwidth's and latency's default sizes, past the caches", function()
    local topo, llc = lnuma.topology(), require "lnuma.llc"
    local r = assert(lnuma.bench.weights { vectors = { { [topo.allowed.nodes[1]] = 1 } },
                                          repetitions = 1, min_time = 0 })
    assert.equal(llc.bandwidth_size(topo), r.size)
    assert.equal(math.min(r.size, llc.latency_size(topo)), r.latency_size)
    assert.are_not.equal("cache", r.scope)
    assert.are_not.equal("cache", r.latency_scope)
  end)

  it("on one memory node measures that node alone and says so", function()
    if #sys.memory_nodes() > 1 then pending("this machine has several memory nodes") end
    local r = assert(lnuma.bench.weights(with { latency = false }))
    assert.equal(1, #r.points)
    assert.is_nil(r.points[1].latency_ns)
    assert.matches("nothing to sweep", table.concat(r.warnings, "\n"))
  end)

  it("refuses bad options, naming them", function()
    local n = missing_node()
    local function e(o) return err_of(lnuma.bench.weights, o) end
    assert.matches("unknown option 'weight'", e({ weight = 1 }))
    assert.matches("points: must be between 2 and 101", e({ points = 1 }))
    assert.matches("vectors: a list of weight tables", e({ vectors = {} }))
    assert.matches("vectors: element 1: weights: node 0: weight %-1 is not in 0..1000",
                   e({ vectors = { { [0] = -1 } } }))
    assert.matches(("vectors: node %d does not exist"):format(n), e({ vectors = { { [n] = 1 } } }))
    assert.matches("vectors: give vectors, or nodes and points, not both",
                   e({ vectors = { { [0] = 1 } }, points = 3 }))
    assert.matches("latency_size: 4194304 bytes do not fit", e(with { latency_size = 4 * MiB }))
  end)
end)

describe("lnuma bandwidth --weights", function()
  it("measures a weighted buffer and prints the proof", function()
    local out, err, code = run("bandwidth --weights 0:1 --size 2M --repetitions 1 "
                               .. "--min-time 1 --json")
    assert.equal(0, code, err)
    local r = assert(lnuma.report.decode(out))
    assert.equal("weights", r.benchmark)
    assert.is_true(r.points[1].placement.ok)
    local text = run("bandwidth --weights 0:1 --size 2M --repetitions 1 --min-time 1 "
                     .. "--no-latency")
    assert.matches("proven page by page for 1 of 1 mixes", text)
  end)

  it("says what is wrong with --weights, --sweep and --points", function()
    local _, err, code = run("bandwidth --weights 0:x")
    assert.equal(1, code)
    assert.matches("%-%-weights: '0:x' is not NODE:WEIGHT", err)
    _, err = run("bandwidth --sweep --weights 0:1,1:1,2:1")
    assert.matches("%-%-sweep: 3 nodes in %-%-weights; a sweep steps between two", err)
    _, err = run("bandwidth --points 3")
    assert.matches("%-%-points: only with %-%-sweep", err)
    _, err = run("bandwidth --weights 0:2000 --size 2M")
    assert.matches("%-%-weights: element 1: weights: node 0: weight 2000 is not in 0..1000", err)
    _, err = run("bandwidth --node 0 --weights 0:1")
    assert.matches("%-%-node: not with %-%-weights", err)
  end)
end)

describe("lnuma.weights bad arguments", function()
  it("are named", function()
    assert.matches("bad argument #3 to 'steps' %(points: an integer 2..101 expected",
                   err_of(W.steps, 0, 1, 1000000))
    assert.matches("bad argument #2 to 'steps' %(the two nodes must differ%)",
                   err_of(W.steps, 1, 1, 3))
    assert.matches("bad argument #1 to 'steps' %(node number 0..1023 expected, got %-1%)",
                   err_of(W.steps, -1, 1, 3))
    assert.matches("bad argument #1 to 'format' %(weights: node 0: weight %-1 is not in",
                   err_of(W.format, { [0] = -1 }))
    assert.matches("bad argument #1 to 'ratio' %(weights: a table", err_of(W.ratio, "x"))
    assert.matches("bad argument #1 to 'check' %(lnuma buffer expected, got number%)",
                   err_of(W.check, 5))
  end)
end)
