-- The plan sandbox (issue 13, class 3): a plan sees pure data and pure
-- functions, nothing that touches the outside, and its memory limit is on the
-- memory it keeps live, whatever garbage the host made before it ran.
local lnuma = require "lnuma"
local plan = require "lnuma.plan"
local fake_topology = dofile("spec/support/fake_topology.lua")
local H = dofile("spec/support/helpers.lua")

local dir = H.tmpdir()
teardown(function() os.execute("rm -rf " .. dir) end)

local n = 0
local function write(text)
  n = n + 1
  local path = ("%s/sandbox%d.lua"):format(dir, n)
  return H.write(path, text)
end

local exists = H.exists

-- Loads text; the topology is this machine's unless opts says otherwise.
local function run(text, opts)
  return plan.load(write(text), opts)
end

-- Expects the plan to be refused with a message matching pattern.
local function refused(text, pattern, opts)
  local p, err = run(text, opts or { topology = fake_topology() })
  assert.is_nil(p, "the plan ran: " .. text)
  assert.matches(pattern, err)
  return err
end

-- What a plan reports with error(): the plan's own view of things.
local function report(text, opts)
  local p, err = run(text, opts or { topology = fake_topology() })
  assert.is_nil(p)
  return (err:gsub("^[^:]*: ", ""))
end

describe("the plan sandbox refuses every way out", function()
  it("cannot write a file with topology:export_xml, on any machine", function()
    local target = dir .. "/escaped.xml"
    local code = ("return topology:export_xml(%q)"):format(target)
    local machines = { {}, { topology = lnuma.topology { synthetic = "pack:2 numa:1 pu:2" } },
                       { topology = lnuma.topology { xml = "spec/fixtures/node-gaps.xml" } } }
    for _, opts in ipairs(machines) do
      refused(code, "topology:export_xml is not available in a plan %(a plan writes no files; "
              .. "export from a script: lnuma%.topology%(%):export_xml%(path%)%)$", opts)
      -- caught or not, nothing is written
      refused(("local ok = pcall(topology.export_xml, topology, %q) return ok"):format(target),
              "a plan must return a table, got false", opts)
      assert.is_false(exists(target))
    end
  end)

  it("has no os (getenv, time, execute), io, package, require, debug, print, coroutine",
     function()
    for name, why in pairs {
      os = "a plan does not touch the system", io = "a plan does no I/O",
      package = "a plan loads no modules", require = "a plan loads no modules",
      dofile = "a plan reads no files", loadfile = "a plan reads no files",
      debug = "it reaches outside the sandbox", print = "it writes to the terminal",
      collectgarbage = "the collector belongs to the host",
      coroutine = "a plan runs straight through", rawset = "the topology is read%-only",
    } do
      refused("local x = " .. name, ":1: " .. name .. " is not available in a plan %(" .. why)
    end
    refused("return os.getenv('HOME')", ":1: os is not available in a plan")
    refused("local f = math.random", "a plan must return a table, got nil")
  end)

  it("loads text only, into the sandbox", function()
    refused([[return load("\27LuaT\0", "x", "b")]], "only text chunks")
    refused([[return load("return 1", "x", "bt")]], "only text chunks")
    refused([[assert(load("return os.getenv('HOME')"))()]], "os is not available in a plan")
    assert.equal("nil", report([[error(tostring(rawget(load("return _ENV")(), "io")), 0)]]))
  end)

  it("keeps the string metatable, and through it the host's string library, out of reach",
     function()
    refused("getmetatable('').__index.rep = nil", "the string metatable is not available")
    refused("local mt = getmetatable('x') return mt", "the string metatable is not available")
    refused("setmetatable('', {})", "bad argument #1 to 'setmetatable' %(table expected")
    refused("string.rep = nil; return ('x'):rep(2)", "a plan must return a table")
    -- the plan changed its own string table, not the host's
    assert.is_function(string.rep)
    assert.equal("xx", ("x"):rep(2))
  end)

  it("refuses finalizers, which would run after the plan, outside its limits", function()
    refused("setmetatable({}, { __gc = function() end })", "__gc is not allowed in a plan")
    refused("setmetatable({}, { __gc = false })", "__gc is not allowed in a plan")
  end)

  it("gives exactly the allow-list of pure functions", function()
    local got = report([[
      local names = {}
      for k, v in pairs(_ENV) do names[#names + 1] = k .. "=" .. type(v) end
      for _, lib in ipairs { "string", "table", "math", "utf8" } do
        for k in pairs(_ENV[lib]) do names[#names + 1] = lib .. "." .. k end
      end
      table.sort(names)
      error(table.concat(names, " "), 0)
    ]])
    local expected = {
      "_G=table", "_VERSION=string", "assert=function", "error=function", "getmetatable=function",
      "ipairs=function", "load=function", "math=table", "next=function", "pairs=function",
      "pcall=function", "rawequal=function", "rawget=function", "rawlen=function",
      "select=function", "setmetatable=function", "string=table", "table=table",
      "tonumber=function", "topology=table", "tostring=function", "type=function",
      "utf8=table", "xpcall=function",
    }
    for _, f in ipairs { "abs", "acos", "asin", "atan", "ceil", "cos", "deg", "exp", "floor",
                         "fmod", "huge", "log", "max", "maxinteger", "min", "mininteger", "modf",
                         "pi", "rad", "sin", "sqrt", "tan", "tointeger", "type", "ult" } do
      expected[#expected + 1] = "math." .. f
    end
    for _, f in ipairs { "byte", "char", "find", "format", "gmatch", "gsub", "len", "lower",
                         "match", "pack", "packsize", "rep", "reverse", "sub", "unpack",
                         "upper" } do
      expected[#expected + 1] = "string." .. f
    end
    for _, f in ipairs { "concat", "insert", "move", "pack", "remove", "sort", "unpack" } do
      expected[#expected + 1] = "table." .. f
    end
    for _, f in ipairs { "char", "charpattern", "codepoint", "codes", "len", "offset" } do
      expected[#expected + 1] = "utf8." .. f
    end
    table.sort(expected)
    assert.equal(table.concat(expected, " "), got)
  end)
end)

describe("the topology a plan sees", function()
  it("is plain data all the way down, read-only, with no metatable to reach", function()
    local got = report([[
      local kinds, seen = {}, {}
      local function walk(t)
        if seen[t] then return end
        seen[t] = true
        for _, v in pairs(t) do
          kinds[type(v)] = true
          if type(v) == "table" then walk(v) end
        end
      end
      walk(topology)
      local list = {}
      for k in pairs(kinds) do list[#list + 1] = k end
      table.sort(list)
      error(table.concat(list, " ") .. " | " .. tostring(getmetatable(topology)) .. " "
            .. tostring(getmetatable(topology.nodes[1])), 0)
    ]], {})
    assert.equal("boolean number string table | read-only read-only", got)
    refused("topology.nodes[1].memory = 0", "topology is read%-only %(cannot set \"memory\"%)")
    refused("setmetatable(topology.nodes, nil)", "cannot change a protected metatable")
  end)

  it("shows no function or metamethod of the table it was made from", function()
    local ran = false
    local topo = fake_topology()
    topo.secret = function() ran = true end
    setmetatable(topo.nodes[1], { __index = function() ran = true end,
                                  __len = function() ran = true return 0 end })
    local got = report([[
      error(tostring(topology.secret) .. " " .. tostring(topology.nodes[1].nope) .. " "
            .. #topology.nodes[1].cpus, 0)
    ]], { topology = topo })
    assert.equal("nil nil 8", got)
    assert.is_false(ran)
    -- its distance() comes from the data (which has none), not from the table's method
    refused("local d = topology:distance(0, 1)",
            ":1: the topology gives no distance from node 0 to node 1$", { topology = topo })
  end)

  it("answers queries as lnuma.topology() does, from its data", function()
    local topos = {
      lnuma.topology(),
      lnuma.topology { synthetic = "pack:2 numa:2 core:2 pu:2" },
      lnuma.topology { xml = "spec/fixtures/two-packages-four-nodes.xml" },
      lnuma.topology { xml = "spec/fixtures/node-gaps.xml" },
      lnuma.topology { xml = "spec/fixtures/memory-only-node.xml" },
    }
    for _, topo in ipairs(topos) do
      local lines = {}
      for _, node in ipairs(topo.nodes) do
        local a = node.os_index
        lines[#lines + 1] = ("cpus_of %d: %s"):format(a, table.concat(topo:cpus_of(a), ","))
        lines[#lines + 1] = ("nearest %d: %s"):format(a, table.concat(topo:nearest(a), ","))
        for _, other in ipairs(topo.nodes) do
          lines[#lines + 1] = ("distance %d %d: %d"):format(a, other.os_index,
                                                            topo:distance(a, other.os_index))
        end
      end
      for _, c in ipairs(topo.cpus) do
        lines[#lines + 1] = ("node_of_cpu %d: %d"):format(c.os_index, topo:node_of_cpu(c.os_index))
      end
      for _, name in ipairs { "eth0", "eth1", "nvme0n1", "nothing" } do
        local a, b = topo:node_of_device(name)
        lines[#lines + 1] = ("node_of_device %s: %s %s"):format(name, tostring(a), tostring(b))
      end
      local got = report([[
        local lines = {}
        for _, node in ipairs(topology.nodes) do
          local a = node.os_index
          lines[#lines + 1] = ("cpus_of %d: %s"):format(a, table.concat(topology:cpus_of(a), ","))
          lines[#lines + 1] = ("nearest %d: %s"):format(a, table.concat(topology:nearest(a), ","))
          for _, other in ipairs(topology.nodes) do
            lines[#lines + 1] = ("distance %d %d: %d"):format(a, other.os_index,
                                                              topology:distance(a, other.os_index))
          end
        end
        for _, c in ipairs(topology.cpus) do
          lines[#lines + 1] = ("node_of_cpu %d: %d"):format(c.os_index,
                                                           topology:node_of_cpu(c.os_index))
        end
        for _, name in ipairs { "eth0", "eth1", "nvme0n1", "nothing" } do
          local a, b = topology:node_of_device(name)
          lines[#lines + 1] = ("node_of_device %s: %s %s"):format(name, tostring(a), tostring(b))
        end
        error(table.concat(lines, "\n"), 0)
      ]], { topology = topo })
      assert.equal(table.concat(lines, "\n"), got)
    end
  end)

  it("names the query and the argument in its errors, as the C methods do", function()
    local topo = lnuma.topology { synthetic = "pack:2 numa:2 core:2 pu:2" }
    local opts = { topology = topo }
    local function same(call, c_call)
      local err = refused("local x = " .. call .. "\nreturn {}", ":1: bad argument", opts)
      local ok, c_err = pcall(c_call, topo)
      assert.is_false(ok)
      assert.equal(c_err:match("%((.*)%)$"), err:match("%((.*)%)$"))
      return err
    end
    assert.matches("bad argument #1 to 'cpus_of' %(node: node 9 does not exist %(nodes 0%-3%)%)$",
                   same("topology:cpus_of(9)", function(t) return t:cpus_of(9) end))
    same("topology:node_of_cpu(99)", function(t) return t:node_of_cpu(99) end)
    same("topology:node_of_cpu('x')", function(t) return t:node_of_cpu("x") end)
    same("topology:node_of_cpu(1.5)", function(t) return t:node_of_cpu(1.5) end)
    same("topology:distance(0, 9)", function(t) return t:distance(0, 9) end)
    same("topology:nearest()", function(t) return t:nearest() end)
    refused("local x = topology.cpus_of(0)",
            ":1: calling 'cpus_of' on bad self %(call it as topology:cpus_of%(%.%.%.%)%)$", opts)
  end)
end)

describe("the memory limit of a plan", function()
  local KEEP = [[
    local keep = {}
    for i = 1, 40 do keep[i] = string.rep(string.char(65 + i % 26), 128 * 1024) .. i end
    return {}
  ]]
  local CHURN = [[
    for i = 1, 400 do local s = string.rep("x", 128 * 1024) .. i end
    local t
    for _ = 1, 20 do t = {} for i = 1, 5000 do t[i] = { i } end end
    return {}
  ]]

  -- Garbage the host makes before the plan runs, collected while it runs.
  local function host_garbage()
    local junk = {}
    for i = 1, 300000 do junk[i] = { i, tostring(i) } end
    return #junk
  end

  it("is on live memory: freeing the host's garbage gives a plan no credit", function()
    local opts = { topology = fake_topology(), memory = 2 * 1024 * 1024 }
    -- 5 MiB kept live against 2 MiB: refused, with or without garbage around
    collectgarbage("collect")
    assert.matches("memory limit of 2097152 bytes exceeded$", select(2, run(KEEP, opts)))
    collectgarbage("stop")
    host_garbage()
    collectgarbage("restart")
    assert.matches("memory limit of 2097152 bytes exceeded$", select(2, run(KEEP, opts)))
    opts.memory = 16 * 1024 * 1024
    assert.is_table(run(KEEP, opts))
  end)

  it("lets a plan make and drop garbage over and over within the limit", function()
    local opts = { topology = fake_topology(), memory = 2 * 1024 * 1024 }
    collectgarbage("stop")
    host_garbage()
    collectgarbage("restart")
    local t0 = os.clock()
    local p, err = run(CHURN, opts)
    assert.is_table(p, err)
    assert.is_true(os.clock() - t0 < 20, "hang guard")
  end)

  it("counts compiling the plan too", function()
    local big = { "local t = {" }
    for i = 1, 20000 do big[#big + 1] = ("%d.5,"):format(i) end
    big[#big + 1] = "}\nreturn { threads = {} }"
    local path = write(table.concat(big, "\n"))
    local p, err = plan.load(path, { topology = fake_topology(), memory = 64 * 1024 })
    assert.is_nil(p)
    assert.equal(path .. ": memory limit of 65536 bytes exceeded (compiling the plan)", err)
  end)

  it("leaves the host's allocator, hook and string library as they were", function()
    local hook = debug.gethook()
    refused(KEEP, "memory limit", { topology = fake_topology(), memory = 1024 * 1024 })
    assert.equal(hook, debug.gethook())
    assert.equal(1 << 22, #string.rep("x", 1 << 22))
    assert.equal(string, getmetatable("").__index)
  end)
end)
