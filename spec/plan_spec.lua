-- Placement plans: a Lua file that returns threads, memory regions and pools,
-- run in a sandbox and checked against a machine before anything runs.
local plan = require "lnuma.plan"
local fake_topology = dofile("spec/support/fake_topology.lua")
local H = dofile("spec/support/helpers.lua")

local dir = H.tmpdir()

teardown(function() os.execute("rm -rf " .. dir) end)

-- Writes a plan file and returns its path.
local n = 0
local function write(text)
  n = n + 1
  local path = ("%s/plan%d.lua"):format(dir, n)
  return H.write(path, text)
end

-- Loads text against the fake two-node topology.
local function load(text, opts)
  opts = opts or {}
  opts.topology = opts.topology or fake_topology()
  return plan.load(write(text), opts)
end

-- Expects text to fail with exactly "<file>: " .. msg.
local function fails(text, msg)
  local path = write(text)
  local p, err = plan.load(path, { topology = fake_topology() })
  assert.is_nil(p)
  assert.equal(path .. ": " .. msg, err)
end

local function warns(text, msg)
  local p, err = load(text)
  assert.is_table(p, err)
  assert.same({ msg }, p.warnings)
end

local ENGINE = [[
local feed_node = topology.node_of_device and topology:node_of_device("eth0") or 1
local cpus = topology:cpus_of(feed_node)
return {
  threads = {
    { name = "feed",     cpus = cpus[2], uses = { "book", "ring" } },
    { name = "strategy", cpus = cpus[3], uses = { "ring", "orders" } },
  },
  memory = {
    { name = "book",  size = "64M", node = feed_node, huge = "thp" },
    { name = "ring",  size = "4M",  node = feed_node },
  },
  pools = {
    { name = "orders", node = feed_node, size = 256, count = 100000 },
  },
}
]]

describe("lnuma.plan.load", function()
  it("resolves a plan: sizes in bytes, CPU lists expanded, nodes as integers", function()
    local p = assert(load(ENGINE))
    assert.same({ "feed", "strategy" }, { p.threads[1].name, p.threads[2].name })
    assert.same({ 5 }, p.threads[1].cpus)
    assert.same({ 6 }, p.threads[2].cpus)
    assert.equal(1, p.threads[1].node)
    assert.same({ "book", "ring" }, p.threads[1].uses)
    assert.is_true(p.threads[1].hot)
    assert.same({ name = "book", size = 64 << 20, node = 1, nodes = { 1 }, policy = "bind",
                  huge = "thp" }, p.memory[1])
    assert.same({ name = "ring", size = 4 << 20, node = 1, nodes = { 1 }, policy = "bind",
                  huge = "default" }, p.memory[2])
    assert.same({ name = "orders", node = 1, size = 256, count = 100000, bytes = 25600000 },
                p.pools[1])
    assert.same({}, p.warnings)
    assert.equal(p.memory[2], p:region("ring"))
    assert.equal(p.pools[1], p:pool("orders"))
    assert.equal(p.threads[2], p:thread("strategy"))
    assert.is_nil(p:thread("nobody"))
  end)

  it("accepts cpulist strings and arrays, and normalises policy and huge", function()
    local p = assert(load [[
      return {
        threads = { { name = "a", cpus = "0-2,4" }, { name = "b", cpus = { 7, 6 }, hot = false } },
        memory = {
          { name = "x", size = 4096, node = "0-1", policy = "INTERLEAVE", huge = "2m" },
          { name = "y", size = "1G", node = 0, huge = true },
          { name = "z", size = "8K", policy = "local", huge = false },
        },
      }
    ]])
    assert.same({ 0, 1, 2, 4 }, p.threads[1].cpus)
    assert.same({ 6, 7 }, p.threads[2].cpus)
    assert.is_false(p.threads[2].hot)
    assert.is_nil(p.threads[1].node == nil and nil)
    assert.same({ 0, 1 }, p.memory[1].nodes)
    assert.is_nil(p.memory[1].node)
    assert.equal("interleave", p.memory[1].policy)
    assert.equal("2M", p.memory[1].huge)
    assert.equal(1 << 30, p.memory[2].size)
    assert.equal("thp", p.memory[2].huge)
    assert.equal("local", p.memory[3].policy)
    assert.same({}, p.memory[3].nodes)
    assert.equal("none", p.memory[3].huge)
  end)

  it("lets a plan compute with loops and functions", function()
    local p = assert(load [[
      local threads = {}
      for i, cpu in ipairs(topology:cpus_of(0)) do
        if i <= 3 then threads[#threads + 1] = { name = "worker" .. i, cpus = cpu } end
      end
      return { threads = threads }
    ]])
    assert.same({ "worker1", "worker2", "worker3" },
                { p.threads[1].name, p.threads[2].name, p.threads[3].name })
    assert.same({ 2 }, p.threads[3].cpus)
  end)

  it("returns plain data for JSON with data()", function()
    local p = assert(load(ENGINE))
    local d = p:data()
    assert.is_nil(getmetatable(d))
    assert.equal("another machine", d.target)
    assert.equal(p.file, d.file)
    assert.same(p.memory, d.memory)
  end)

  it("checks a table with plan.check", function()
    local p = assert(plan.check({ threads = { { name = "t", cpus = 3 } } },
                                { topology = fake_topology() }))
    assert.same({ 3 }, p.threads[1].cpus)
    local q, err = plan.check({ threads = { { name = "t", cpus = 99 } } },
                              { topology = fake_topology(), name = "inline" })
    assert.is_nil(q)
    assert.equal("inline: threads[1].cpus: CPU 99 does not exist on the target machine (0-15)", err)
  end)
end)

describe("plan errors name the file, the line where known, and the key path", function()
  it("a file that cannot be opened", function()
    local p, err = plan.load(dir .. "/missing.lua", { topology = fake_topology() })
    assert.is_nil(p)
    assert.matches("cannot read plan file '.*missing%.lua': No such file or directory", err)
  end)

  it("a syntax error, with its line", function()
    local path = write("return {\n  threads = {\n    { name = 'x' cpus = 1 },\n  }\n}\n")
    local p, err = plan.load(path, { topology = fake_topology() })
    assert.is_nil(p)
    assert.matches("plan%d+%.lua:3: '}' expected", err)
  end)

  it("an error raised by the plan, with its line", function()
    local path = write("local x = 1\nerror('no feed node')\n")
    local _, err = plan.load(path, { topology = fake_topology() })
    assert.matches("plan%d+%.lua:2: no feed node$", err)
  end)

  it("a plan that returns no table", function()
    fails("return 42", "a plan must return a table, got 42")
  end)

  it("an unknown key at the top", function()
    fails("return { thread = {} }", "plan.thread: unknown key (expected threads, memory, pools)")
  end)

  it("a CPU that does not exist on the machine", function()
    fails([[return { threads = { { name = "a", cpus = 1 }, { name = "b", cpus = "3,40" } } }]],
          "threads[2].cpus: CPU 40 does not exist on the target machine (0-15)")
  end)

  it("an unknown key in a region (a typo is never ignored)", function()
    fails([[return { memory = { { name = "book", size = "1M", nod = 1 } } }]],
          "memory[1].nod: unknown key (expected name, size, node, policy, huge, weights)")
  end)

  it("a size that does not parse", function()
    local path = write([[return { memory = { { name = "book", size = "64Q", node = 0 } } }]])
    local _, err = plan.load(path, { topology = fake_topology() })
    assert.matches("^" .. path:gsub("%p", "%%%0") .. ": memory%[1%]%.size: .*64Q", err)
    fails([[return { memory = { { name = "book", size = true, node = 0 } } }]],
          'memory[1].size: a size expected (bytes or a string like "64M"), got true')
    fails([[return { memory = { { name = "book", size = 0, node = 0 } } }]],
          "memory[1].size: must be positive, got 0")
  end)

  it("duplicate names, also across memory and pools", function()
    fails([[return { threads = { { name = "a", cpus = 1 }, { name = "a", cpus = 2 } } }]],
          'threads[2].name: duplicate name "a" (also threads[1])')
    fails([[return { memory = { { name = "x", size = 64, node = 0 } },
                     pools = { { name = "x", node = 0, size = 64, count = 1 } } }]],
          'pools[1].name: duplicate name "x" (also memory[1])')
  end)

  it("a bound region on a memory-only node without room", function()
    fails([[return { memory = { { name = "big", size = "1G", node = 2, policy = "bind" } } }]],
          "memory[1].size: node 2 is memory-only with 512M free; "
          .. 'policy "bind" cannot place 1G there')
  end)

  it("a thread that uses a region nobody declared", function()
    fails([[return { threads = { { name = "a", cpus = 1, uses = { "book", "rnig" } } },
                     memory = { { name = "book", size = 64, node = 0 } } }]],
          'threads[1].uses[2]: no region or pool is named "rnig" (names: book)')
  end)

  it("a node that does not exist", function()
    fails([[return { pools = { { name = "p", node = 7, size = 64, count = 2 } } }]],
          "pools[1].node: node 7 does not exist on the target machine (nodes 0-2)")
  end)

  it("missing and mistyped fields", function()
    fails([[return { threads = { { cpus = 1 } } }]], "threads[1].name: missing")
    fails([[return { threads = { { name = "a" } } }]], "threads[1].cpus: missing")
    fails([[return { threads = { { name = "a", cpus = "1-" } } }]],
          "threads[1].cpus: '1-': range without an end at '1-'")
    fails([[return { threads = { { name = "a", cpus = {} } } }]], "threads[1].cpus: empty set")
    fails([[return { threads = { { name = "a", cpus = { 1, "x" } } } }]],
          "threads[1].cpus: element 2 is string, not a valid index (0..8191)")
    fails([[return { threads = { { name = "a", cpus = 1, hot = "yes" } } }]],
          'threads[1].hot: a boolean expected, got "yes"')
    fails([[return { threads = { feed = { name = "a", cpus = 1 } } }]],
          "threads.feed: unexpected key in a list (write threads = { {...}, {...} })")
    fails([[return { memory = { { name = "b", size = 64 } } }]],
          'memory[1].node: missing (or say policy = "local")')
    fails([[return { memory = { { name = "b", size = 64, node = 0, policy = "near" } } }]],
          'memory[1].policy: "near" is not a policy (expected one of bind, preferred, '
          .. 'preferred_many, interleave, weighted_interleave, local, weighted)')
    fails([[return { memory = { { name = "b", size = 64, node = 0, huge = "4M" } } }]],
          "memory[1].huge: '4M' is not a page kind (expected \"thp\", \"2M\", \"1G\", "
          .. '"none", "4K", "no" or "default", in any case)')
    fails([[return { pools = { { name = "p", node = 0, size = 64, count = 1.5 } } }]],
          "pools[1].count: a positive integer expected, got 1.5")
  end)
end)

describe("plan warnings (legal, but probably wrong)", function()
  it("two hot threads on one CPU", function()
    warns([[return { threads = { { name = "a", cpus = "1-2" }, { name = "b", cpus = 2 } } }]],
          "threads[2].cpus: b shares CPU 2 with a (threads[1]); both are hot")
    local p = assert(load [[
      return { threads = { { name = "a", cpus = 1 }, { name = "b", cpus = 1, hot = false } } }
    ]])
    assert.same({}, p.warnings)
  end)

  it("two hot threads on SMT siblings of one core", function()
    warns([[return { threads = { { name = "a", cpus = 1 }, { name = "b", cpus = 9 } } }]],
          "threads[2].cpus: CPU 9 of b and CPU 1 of a (threads[1]) are SMT siblings of one "
          .. "core; both are hot")
  end)

  it("a thread that uses memory on a remote node, with the distance", function()
    warns([[return { threads = { { name = "feed", cpus = 1, uses = { "book" } } },
                     memory = { { name = "book", size = "1M", node = 1 } } }]],
          'threads[1].uses[1]: memory "book" is on node 1, remote from feed\'s node 0 '
          .. "(distance 21)")
  end)

  it("more memory asked of a node than it has free", function()
    warns([[return { memory = { { name = "a", size = "3G", node = 0 },
                                { name = "b", size = "2G", node = 0 } } }]],
          "memory[2].size: the plan asks 5G of node 0, which has 4G free")
  end)

  it("a CPU outside this process's allowed set", function()
    warns([[return { threads = { { name = "a", cpus = 15 } } }]],
          "threads[1].cpus: CPU 15 is outside this process's allowed CPUs (0-13)")
  end)
end)

describe("the plan sandbox", function()
  local function refused(code, pattern)
    local path = write(code)
    local p, err = plan.load(path, { topology = fake_topology() })
    assert.is_nil(p, "the plan ran: " .. code)
    assert.matches(pattern, err)
  end

  it("has no os.execute, io, require, dofile, loadfile, debug or collectgarbage", function()
    refused("os.execute('true')", ":1: os is not available in a plan %(a plan does not touch")
    refused("io.open('/etc/passwd')", ":1: io is not available in a plan %(a plan does no I/O%)")
    refused("require('os')", ":1: require is not available in a plan")
    refused("dofile('/etc/passwd')", ":1: dofile is not available in a plan")
    refused("loadfile('/etc/passwd')", ":1: loadfile is not available in a plan")
    refused("debug.sethook()", ":1: debug is not available in a plan")
    refused("collectgarbage('stop')", ":1: collectgarbage is not available in a plan")
    refused("string.dump(print)", ":1: print is not available in a plan")
    refused("local f = string.dump", "a plan must return a table, got nil")
    refused("rawset(topology, 'x', 1)", ":1: rawset is not available in a plan")
    refused("package.loaded.os.execute('true')", ":1: package is not available in a plan")
  end)

  it("loads only text chunks, and they see the sandbox, not the host", function()
    refused([[load("\27LuaT", "x", "b")]], "only text chunks")
    refused([[assert(load("\27Lua", "x", "bt"))]], "only text chunks")
    local p = assert(load [[
      local f = assert(load("return rawget(_ENV, 'io'), rawget(_ENV, 'os'), topology ~= nil"))
      local io_, os_, topo = f()
      assert(io_ == nil and os_ == nil and topo)
      assert(not pcall(load("return io")))
      return {}
    ]])
    assert.same({}, p.threads)
  end)

  it("keeps the host's string metatable and finalizers out of reach", function()
    refused("getmetatable('').__index.upper = nil", "string metatable is not available")
    refused("setmetatable({}, { __gc = function() end })", "__gc is not allowed")
    assert.is_function(string.upper)
  end)

  it("gives a read-only topology", function()
    refused("topology.nodes = {}", "topology is read%-only")
    refused("topology.nodes[1].free = 0", "topology is read%-only")
    refused("setmetatable(topology, nil)", "protected metatable")
    -- Copies returned by methods may be changed freely.
    assert(load [[
      local cpus = topology:cpus_of(0)
      cpus[1] = 99
      table.sort(cpus)
      assert(#topology.nodes == 3)
      local count = 0
      for _ in pairs(topology.nodes) do count = count + 1 end
      assert(count == 3)
      return {}
    ]])
  end)

  it("ends an endless loop within a second or two, naming the line", function()
    local t0 = os.clock()
    refused("local x = 0\nwhile true do x = x + 1 end", ":2: instruction limit of %d+ exceeded")
    assert.is_true(os.clock() - t0 < 2)
  end)

  it("does not let a plan swallow the instruction limit with pcall", function()
    local t0 = os.clock()
    refused("while true do pcall(function() while true do end end) end", "instruction limit")
    assert.is_true(os.clock() - t0 < 2)
  end)

  it("ends a runaway table or string with the memory limit", function()
    refused("local t = {} for i = 1, 1e9 do t[i] = i end", "memory limit of %d+ bytes exceeded")
    refused("local s = 'x' for i = 1, 40 do s = s .. s end", "memory limit")
    refused("return string.rep('x', 1 << 30)", "memory limit")
  end)

  it("takes its limits as options", function()
    local path = write("local x = 0 for i = 1, 1e6 do x = x + i end return {}")
    assert.is_table(plan.load(path, { topology = fake_topology() }))
    local p, err = plan.load(path, { topology = fake_topology(), instructions = 10000 })
    assert.is_nil(p)
    assert.matches("instruction limit of 10000 exceeded", err)
  end)

  it("leaves the host unharmed", function()
    local before = {}
    for k in pairs(_G) do before[k] = true end
    refused("x_global = 1 error('boom')", "boom")
    assert.is_nil(rawget(_G, "x_global"))
    for k in pairs(_G) do assert.is_true(before[k], k) end
    assert.is_nil(debug.gethook())
    -- the state can still allocate and run after the limits tripped
    assert.equal(1 << 20, #string.rep("x", 1 << 20))
  end)
end)

describe("lnuma.plan bad arguments", function()
  it("raises for a non-string path and unknown or bad options", function()
    assert.has_error(function() plan.load(nil) end,
                     "bad argument #1 to 'load' (string expected, got nil)")
    assert.has_error(function() plan.load("x.lua", { topolgy = {} }) end,
                     "bad argument #2 to 'load' (unknown option 'topolgy')")
    assert.has_error(function() plan.load("x.lua", { instructions = 0 }) end,
                     "bad argument #2 to 'load' (instructions: a positive integer expected)")
    assert.has_error(function() plan.load("x.lua", 5) end,
                     "bad argument #2 to 'load' (table expected, got number)")
  end)

  it("refuses to apply a plan checked against another machine", function()
    local p = assert(load(ENGINE))
    local ok, err = pcall(p.apply, p)
    assert.is_false(ok)
    assert.matches("^apply: the plan was checked against another machine's topology; load it "
                   .. "without a topology to use it here$", err:gsub("^[^:]*:%d+: ", ""))
    ok, err = pcall(p.apply_thread, p, "feed")
    assert.is_false(ok)
    assert.matches("^apply_thread: the plan was checked against another machine's topology",
                   err:gsub("^[^:]*:%d+: ", ""))
  end)
end)

describe("plans on synthetic and XML machines with several nodes", function()
  local lnuma = require "lnuma"

  local function on(topo, text)
    return plan.load(write(text), { topology = topo })
  end

  it("places threads and memory on the nodes of a synthetic machine", function()
    local topo = lnuma.topology { synthetic = "pack:2 numa:2 core:2 pu:2" }
    local p = assert(on(topo, [[
      local cpus = topology:cpus_of(3)
      return { threads = { { name = "feed", cpus = cpus[1], uses = { "book" } } },
               memory = { { name = "book", size = "1M", node = 3 } } }
    ]]))
    assert.equal("another machine", p.target)
    assert.same({ 12 }, p.threads[1].cpus)
    assert.equal(3, p.threads[1].node)
    assert.same({}, p.warnings)
    assert.equal(topo, p:topology())
  end)

  it("warns about remote memory with the distance of the XML's table", function()
    local topo = lnuma.topology { xml = "spec/fixtures/two-packages-four-nodes.xml" }
    local p = assert(on(topo, [[
      return { threads = { { name = "feed", cpus = 0, uses = { "near", "far" } } },
               memory = { { name = "near", size = "1M", node = 1 },
                          { name = "far", size = "1M", node = 3 } } }
    ]]))
    assert.same({
      'threads[1].uses[1]: memory "near" is on node 1, remote from feed\'s node 0 (distance 11)',
      'threads[1].uses[2]: memory "far" is on node 3, remote from feed\'s node 0 (distance 21)',
    }, p.warnings)
    local q, err = on(topo, "return { threads = { { name = 'a', cpus = 16 } } }")
    assert.is_nil(q)
    assert.matches("threads%[1%]%.cpus: CPU 16 does not exist on the target machine %(0%-15%)$",
                   err)
  end)

  it("refuses a bound region larger than a memory-only node", function()
    local topo = lnuma.topology { xml = "spec/fixtures/memory-only-node.xml" }
    local p, err = on(topo, "return { memory = { { name = 'cxl', size = '17G', node = 2 } } }")
    assert.is_nil(p)
    assert.matches('memory%[1%]%.size: node 2 is memory%-only with 16G in all; policy "bind" '
                   .. "cannot place 17G there$", err)
    assert(on(topo, "return { memory = { { name = 'cxl', size = '8G', node = 2 } } }"))
    local q = assert(on(topo, [[
      return { memory = { { name = 'cxl', size = '17G', node = 2, policy = 'preferred' } } }
    ]]))
    assert.same({ "memory[1].size: the plan asks 17G of node 2, which has 16G in all" },
                q.warnings)
  end)

  it("knows node numbers with gaps", function()
    local topo = lnuma.topology { xml = "spec/fixtures/node-gaps.xml" }
    assert(on(topo, "return { memory = { { name = 'm', size = 4096, node = 2 } } }"))
    local p, err = on(topo, "return { memory = { { name = 'm', size = 4096, node = 1 } } }")
    assert.is_nil(p)
    assert.matches("memory%[1%]%.node: node 1 does not exist on the target machine %(nodes 0,2%)$",
                   err)
  end)

  it("tells SMT siblings apart with the topology's cores", function()
    local topo = lnuma.topology { synthetic = "pack:1 numa:1 core:2 pu:2" }
    local p = assert(on(topo, "return { threads = { { name = 'a', cpus = 0 }, "
                             .. "{ name = 'b', cpus = 1 }, { name = 'c', cpus = 2 } } }"))
    assert.same({ "threads[2].cpus: CPU 1 of b and CPU 0 of a (threads[1]) are SMT siblings of "
                  .. "one core; both are hot" }, p.warnings)
  end)
end)

describe("plans on this machine", function()
  local lnuma = require "lnuma"
  local LOCAL = [[
    local cpu = topology.allowed.cpus[1]
    local node = topology.allowed.nodes[1]
    return {
      threads = { { name = "feed", cpus = cpu, uses = { "ring", "orders" } } },
      memory = { { name = "ring", size = "1M", node = node },
                 { name = "book", size = "2M", node = node, huge = "thp" } },
      pools = { { name = "orders", node = node, size = 64, count = 1000 } },
    }
  ]]

  it("checks against this machine by default", function()
    local p = assert(plan.load(write(LOCAL)))
    assert.equal("this machine", p.target)
    assert.equal(lnuma.topology(), p:topology())
    assert.same({}, p.warnings)
  end)

  it("applies regions and pools with verified placement, by name", function()
    local p = assert(plan.load(write(LOCAL)))
    local a = assert(p:apply())
    local node = p.memory[1].nodes[1]
    assert.equal(1 << 20, a.memory.ring:size())
    assert.equal(2 << 20, a.memory.book:size())
    assert.equal(1000, a.pools.orders:count())
    assert.is_not_nil(a.pools.orders:get())
    for _, entry in ipairs(a.report.memory) do
      assert.is_true(entry.ok, entry.name)
      assert.equal(entry.got.pages, entry.got.by_node[node])
      assert.equal(entry.name == "ring" and 1 << 20 or 2 << 20, entry.asked.size)
    end
    assert.same({ "ring", "book" }, { a.report.memory[1].name, a.report.memory[2].name })
    assert.equal("orders", a.report.pools[1].name)
    assert.is_true(a.report.pools[1].ok)
    assert.equal(a.report.pools[1].got.pages, a.report.pools[1].got.by_node[node])
    local json = lnuma.report.json(a.report)
    assert.matches('"by_node"', json)
    a.memory.ring:free()
    a.memory.book:free()
  end)

  it("gives back what it allocated when a region cannot be had", function()
    local p = assert(plan.load(write([[
      local node = topology.allowed.nodes[1]
      return { memory = { { name = "ok", size = "1M", node = node },
                          { name = "huge", size = "2M", node = node, huge = "1G" } } }
    ]])))
    local a, err, errno = p:apply()
    if a then
      pending("this machine has 1G huge pages reserved")
      return
    end
    assert.matches("^memory%[2%] %(huge%): ", err)
    assert.is_number(errno)
  end)

  it("pins the calling thread with apply_thread and reports the CPU seen", function()
    local p = assert(plan.load(write(LOCAL)))
    local before = lnuma.binding().cpus
    finally(function() lnuma.bind { cpus = before } end)
    local r = assert(p:apply_thread("feed"))
    assert.equal("feed", r.name)
    assert.same(p.threads[1].cpus, r.cpus)
    assert.equal(p.threads[1].cpus[1], r.cpu_seen)
    assert.equal(lnuma.topology():node_of_cpu(r.cpu_seen), r.node_seen)
    assert.is_true(r.ok)
    assert.has_error(function() p:apply_thread("nobody") end, "bad argument #1 to "
                     .. "'apply_thread' (name: no thread named \"nobody\"; threads: feed)")
  end)
end)

describe("plans on node 1 of this machine #multinode", function()
  it("puts a region's pages and a thread on node 1", function()
    local lnuma = require "lnuma"
    local topo = lnuma.topology()
    local has1 = false
    for _, node in ipairs(topo.nodes) do
      if node.os_index == 1 and #node.cpus > 0 then has1 = true end
    end
    if not has1 then
      pending("this machine has no node 1 with CPUs; the VM stage runs this")
      return
    end
    local p = assert(plan.load(write([[
      return { threads = { { name = "t", cpus = topology:cpus_of(1)[1] } },
               memory = { { name = "m", size = "4M", node = 1 } },
               pools = { { name = "p", node = 1, size = 64, count = 4096 } } }
    ]])))
    local a = assert(p:apply())
    assert.equal(a.report.memory[1].got.pages, a.report.memory[1].got.by_node[1])
    assert.equal(a.report.pools[1].got.pages, a.report.pools[1].got.by_node[1])
    local before = lnuma.binding().cpus
    finally(function() lnuma.bind { cpus = before } end)
    assert.equal(1, assert(p:apply_thread("t")).node_seen)
  end)
end)
