-- The example engine (examples/host): a C host that loads a plan, applies
-- it, passes messages feed -> strategy and proves where everything ran.
local json = require "dkjson"
local H = dofile("spec/support/helpers.lua")

local build = os.getenv("LNUMA_BUILD") or "build"

local sh = H.sh

local function node1_has_cpus()
  for _, node in ipairs(require("lnuma").topology().nodes) do
    if node.os_index == 1 and #node.cpus > 0 then return true end
  end
  return false
end

local function contains(list, x)
  for _, v in ipairs(list) do if v == x then return true end end
  return false
end

-- The engine of `make examples`, built here when make is at hand (the VM
-- machines have no compiler: they get the copy in BUILD/examples).
local engine
local function the_engine()
  if engine then return engine end
  if sh("command -v make >/dev/null && command -v cc >/dev/null") then
    local ok, out = sh(("make -s examples BUILD=%s"):format(build))
    assert(ok, out)
  end
  for _, path in ipairs { "examples/host/engine", build .. "/examples/host/engine" } do
    if sh("test -x " .. path) then engine = path return engine end
  end
  error("examples/host/engine is not built (make examples)")
end

-- Runs the engine on plan and returns its JSON result.
local function run(plan, messages)
  local ok, out = sh(("%s %s --messages %d --json"):format(the_engine(), plan, messages))
  assert.is_true(ok, out)
  local line = out:match("({.*})%s*$")
  local v, _, err = json.decode(line or "")
  assert.is_table(v, err or out)
  return v
end

describe("examples/host/engine", function()
  it("runs the example plan and reports threads, regions and latency as JSON", function()
    local v = run("examples/host/engine.lua", 20000)
    assert.equal(2, #v.threads)
    for _, t in ipairs(v.threads) do
      assert.is_true(t.name == "feed" or t.name == "strategy", t.name)
      assert.is_table(t.cpus)
      assert.is_true(contains(t.cpus, t.cpu_seen), t.name .. " ran outside its CPUs")
      assert.is_true(t.ok)
    end
    local names = {}
    for _, r in ipairs(v.regions) do
      names[#names + 1] = r.name
      assert.is_number(r.node)
      local pages = 0
      for node, n in pairs(r.by_node) do
        assert.equal(r.node, tonumber(node), r.name .. " has pages off its node")
        pages = pages + n
      end
      assert.is_true(pages * r.page_size >= r.size, r.name .. " is not all there")
      assert.is_true(r.ok)
    end
    assert.same({ "book", "ring" }, names)
    assert.equal("orders", v.pools[1].name)
    assert.is_true(v.pools[1].ok)
    local l = v.latency
    assert.equal(20000, l.count)
    assert.equal("ns", l.unit)
    assert.is_true(l.p50 > 0)
    assert.is_true(l.p50 <= l.p99 and l.p99 <= l.p999 and l.p999 <= l.max)
  end)

  it("prints the percentiles and the proof of placement as text", function()
    local ok, out = sh(the_engine() .. " examples/host/engine.lua --messages 1000")
    assert.is_true(ok, out)
    assert.matches("p50 %d+ ns  p99 %d+ ns  p99%.9 %d+ ns  max %d+ ns", out)
    assert.matches("thread feed%s+CPUs [%d,-]+ %-> ran on CPU %d+", out)
    assert.matches("memory ring%s+node %d+ %-> pages on node %d+: %d+", out)
    assert.not_matches("NOT AS PLANNED", out)
  end)

  it("stops with the plan's error, naming the key path", function()
    local path = os.tmpname()
    finally(function() os.remove(path) end)
    local f = assert(io.open(path, "w"))
    f:write("return { threads = { { name = 'feed', cpus = 99999 } } }")
    f:close()
    local ok, out = sh(the_engine() .. " " .. path)
    assert.is_not_true(ok)
    assert.matches("threads%[1%]%.cpus", out)
    local ok2, out2 = sh(the_engine())
    assert.is_not_true(ok2)
    assert.matches("usage: engine PLAN", out2)
  end)
end)

describe("examples/host/engine on node 1 #multinode", function()
  it("puts feed, strategy and all their pages on node 1", function()
    if not node1_has_cpus() then
      pending("this machine has no node 1 with CPUs; the VM stage runs this")
      return
    end
    local v = run("examples/host/engine-node1.lua", 2000)
    for _, t in ipairs(v.threads) do
      assert.equal(1, t.node_seen, t.name .. " did not run on node 1")
    end
    for _, r in ipairs(v.regions) do
      assert.equal(1, r.node)
      for node in pairs(r.by_node) do assert.equal("1", node, r.name) end
    end
    for node in pairs(v.pools[1].by_node) do assert.equal("1", node) end
  end)
end)
