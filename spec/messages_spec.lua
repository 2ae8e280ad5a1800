-- Clear answers (issue 13, class 5, and what a new user ran into): every
-- message names the argument or the input as the user wrote it, never a
-- variable inside lnuma, and a broken input gets a message, not a crash.
local lnuma = require "lnuma"
local plan = require "lnuma.plan"
local fake_topology = dofile("spec/support/fake_topology.lua")
local H = dofile("spec/support/helpers.lua")

local dir = H.tmpdir()
teardown(function() os.execute("rm -rf " .. dir) end)

local function write(name, text) return H.write(dir .. "/" .. name, text) end

local sh = H.sh

local function cli(args, env)
  return sh(("%s lua5.4 bin/lnuma %s"):format(env or "", args))
end

-- The message of a call that must raise.
local function raises(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "no error")
  return err
end

describe("argument errors name the argument, not lnuma's variables", function()
  it("latency_curve names the size in its list", function()
    assert.equal("bad argument #1 to 'latency_curve' (sizes[2]: 'abc' is not a size (examples: "
                 .. "4096, \"64K\", \"2M\", \"1G\"))",
                 raises(lnuma.bench.latency_curve, { sizes = { 4096, "abc" } }))
  end)

  it("bench.stats and bench.mann_whitney name the array and the element", function()
    assert.equal("bad argument #1 to 'stats' (xs: an array of numbers expected, got string)",
                 raises(lnuma.bench.stats, "x"))
    assert.equal("bad argument #1 to 'stats' (xs[2]: a number expected, got \"a\")",
                 raises(lnuma.bench.stats, { 1, "a", 3 }))
    assert.equal("bad argument #1 to 'stats' (xs[1]: a number expected, got nan)",
                 raises(lnuma.bench.stats, { 0 / 0 }))
    assert.equal("bad argument #1 to 'mann_whitney' (a: an array of numbers expected, got string)",
                 raises(lnuma.bench.mann_whitney, "x", { 1 }))
    assert.equal("bad argument #2 to 'mann_whitney' (b[1]: a number expected, got \"a\")",
                 raises(lnuma.bench.mann_whitney, { 1, 2 }, { "a" }))
    assert.equal("bad argument #2 to 'mann_whitney' (b: an array of numbers expected, got nil)",
                 raises(lnuma.bench.mann_whitney, { 1, 2 }))
    assert.equal(3, lnuma.bench.stats({ 3, 1, 5 }).median)
  end)

  it("the report functions name what they expected", function()
    assert.equal("bad argument #1 to 'text' (table expected, got number)",
                 raises(lnuma.report.text, 5))
    assert.matches("^bad argument #1 to 'text' %(not an lnuma benchmark result: benchmark = nil "
                   .. "%(expected bandwidth, bandwidth_kernels, c2c, exec, experiment, "
                   .. "latency, latency_curve, ",
                   raises(lnuma.report.text, {}))
    assert.equal("bad argument #1 to 'csv' (table expected, got string)",
                 raises(lnuma.report.csv, "x"))
    assert.equal("bad argument #1 to 'svg' (table expected, got boolean)",
                 raises(lnuma.report.svg, true))
    assert.equal("bad argument #1 to 'heatmap' (not an lnuma benchmark result: benchmark = "
                 .. "\"latency\" (expected c2c, matrix))",
                 raises(lnuma.report.heatmap, { benchmark = "latency" }))
    assert.equal("bad argument #1 to 'table' (headers: a list expected, got number)",
                 raises(lnuma.report.table, 5))
    assert.equal("bad argument #2 to 'table' (rows[1]: a list expected, got number)",
                 raises(lnuma.report.table, { "a" }, { 5 }))
    assert.equal("bad argument #1 to 'size' (number expected, got table)",
                 raises(lnuma.report.size, {}))
    assert.equal("bad argument #1 to 'load' (string expected, got table)",
                 raises(lnuma.report.load, {}))
    assert.equal("bad argument #1 to 'save' (table expected, got number)",
                 raises(lnuma.report.save, 5, dir .. "/x.svg"))
    assert.equal("bad argument #2 to 'text' (unknown option 'colour')",
                 raises(lnuma.report.text, { benchmark = "matrix", metric = "latency", rows = {},
                                             columns = {}, values = {} }, { colour = true }))
  end)

  it("report.decode returns nil and a message for JSON nested too deep", function()
    local v, msg = lnuma.report.decode(("{\"a\":"):rep(300) .. "1" .. ("}"):rep(300))
    assert.is_nil(v)
    assert.equal("JSON nested deeper than 200 levels at line 1, column 1001", msg)
  end)

  it("Plan methods name the plan they expected, and the argument", function()
    local p = assert(plan.check({ threads = { { name = "t", cpus = 1 } } },
                                { topology = fake_topology() }))
    assert.equal("calling 'apply' on bad self (a plan from lnuma.plan.load or lnuma.plan.check "
                 .. "expected, got nil)", raises(p.apply, nil))
    assert.equal("calling 'apply_thread' on bad self (a plan from lnuma.plan.load or "
                 .. "lnuma.plan.check expected, got nil)", raises(p.apply_thread, nil))
    assert.equal("calling 'thread' on bad self (a plan from lnuma.plan.load or lnuma.plan.check "
                 .. "expected, got \"t\")", raises(p.thread, "t"))
    assert.equal("bad argument #1 to 'thread' (name: a string expected, got 5)",
                 raises(p.thread, p, 5))
    assert.equal("calling 'data' on bad self (a plan from lnuma.plan.load or lnuma.plan.check "
                 .. "expected, got a table)", raises(p.data, {}))
    assert.equal("bad argument #2 to 'check' (topology: a topology (lnuma.topology{...}) "
                 .. "expected, got 5)", raises(plan.check, {}, { topology = 5 }))
    assert.equal("t", p:thread("t").name)
    assert.is_nil(p:thread("nobody"))
  end)

  it("topology queries in a plan name the query and the argument", function()
    local path = write("query.lua", "local c = topology:cpus_of(7)\nreturn {}\n")
    local _, err = plan.load(path, { topology = fake_topology() })
    assert.equal(path .. ":1: bad argument #1 to 'cpus_of' (node: node 7 does not exist "
                 .. "(nodes 0-2))", err)
  end)
end)

describe("memory mistakes are named", function()
  it("an empty set of nodes is refused, not read as the default policy", function()
    assert.matches("%(nodes: the set is empty %(name at least one node, or leave nodes out "
                   .. "for the default policy%)%)$",
                   raises(lnuma.alloc, "1M", { nodes = {} }))
    assert.matches("nodes: the set is empty", raises(lnuma.alloc, "1M", { nodes = "" }))
    assert.matches("nodes: the set is empty", raises(lnuma.pool, { size = 64, count = 2,
                                                                   nodes = {} }))
    local b = assert(lnuma.alloc("1M", { nodes = {}, policy = "local" }))
    b:free()
  end)

  it("a view of a pool object dies when the object is put back", function()
    local pool <close> = assert(lnuma.pool { size = 64, count = 1 })
    local obj = pool:get()
    local view = obj:view(0, 16)
    local inner = view:view(8, 8)
    view:set("u64", 0, 42)
    assert.equal(42, obj:get("u64", 0))
    pool:put(obj)
    local again = pool:get() -- the same slot, handed out again
    assert.equal(obj, again)
    local msg = "attempt to use a view of a pool object after the object was put back"
    assert.matches(msg, raises(view.get, view, "u64", 0))
    assert.matches(msg, raises(view.set, view, "u64", 0, 1))
    assert.matches(msg, raises(inner.read, inner))
    local fresh = again:view(0, 8) -- a view of this issue works
    fresh:set("u64", 0, 7)
    assert.equal(7, again:get("u64", 0))
  end)

  it("a failed allocation names its size", function()
    local f = io.open("/proc/sys/vm/overcommit_memory")
    local mode = f and f:read("n")
    if f then f:close() end
    if mode == 1 then return pending("overcommit_memory is 1: a 1 TiB mapping would be granted") end
    local ok, out = cli("latency --size 1T")
    assert.is_falsy(ok)
    assert.matches("^lnuma latency: mmap of 1 TiB: Cannot allocate memory\n$", out)
  end)
end)

describe("the command line", function()
  it("gives a negative number to the option, whose check names it", function()
    local ok, out = cli("latency --size -1")
    assert.is_falsy(ok)
    assert.matches("Error: '%-1' is not a size %(examples: 4096, \"64K\", \"2M\", \"1G\"%)", out)
    ok, out = cli("latency --node -1 --size 1M")
    assert.is_falsy(ok)
    assert.matches("^lnuma latency: %-%-node: node %-1 does not exist", out)
    ok, out = cli("c2c --samples -5")
    assert.is_falsy(ok)
    assert.equal("lnuma c2c: --samples: must be between 1 and 100000, got -5\n", out)
  end)

  it("lnuma run --help shows the help instead of opening a file named --help", function()
    for _, flag in ipairs { "--help", "-h" } do
      local ok, out = cli("run " .. flag)
      assert.is_true(ok, out)
      assert.matches("^Usage: lnuma run %[%-h%] <script>", out)
    end
  end)

  it("with HWLOC_SYNTHETIC set, names no option the command lacks and says why", function()
    if #lnuma.topology().nodes >= 8 then return pending("this machine has 8 nodes or more") end
    local env = "HWLOC_SYNTHETIC='numa:8 pu:1'"
    local ok, out = cli("migration --size 1M", env)
    assert.is_falsy(ok)
    assert.not_matches("%-%-migrate", out)
    assert.matches("^lnuma migration: node %d does not exist %(nodes [%d,%-]+%) %(HWLOC_SYNTHETIC "
                   .. "is set: the topology lnuma sees is not this machine's; unset it to "
                   .. "measure%)\n$", out)
    ok, out = cli("matrix --size 1M --repetitions 1", env)
    assert.is_falsy(ok)
    assert.not_matches("%-%-nodes", out)
    assert.matches("HWLOC_SYNTHETIC is set", out)
  end)
end)

describe("lnuma report on a result that was edited or cut short", function()
  local good
  setup(function()
    local ok, out = cli("latency --size 1M --repetitions 2 --min-time 1 --json")
    assert.is_true(ok, out)
    good = assert(lnuma.report.decode(out))
  end)

  local function tampered(edit)
    local r = lnuma.report.decode(lnuma.report.json(good))
    edit(r)
    return write("tampered.json", lnuma.report.json(r))
  end

  it("names the field that is wrong, and renders nothing", function()
    local cases = {
      { function(r) r.repetitions = "x" end, "repetitions: a list expected, got \"x\"" },
      { function(r) r.cpus_ran = { "a" } end, "cpus_ran[1]: an integer expected, got \"a\"" },
      { function(r) r.stats.n = 1.5 end, "stats.n: an integer expected, got 1.5" },
      { function(r) r.placement.pages_by_node = 5 end,
        "placement.pages_by_node: a list expected, got 5" },
      { function(r) r.warnings = { {} } end, "warnings[1]: a string expected, got a table" },
      { function(r) r.benchmark = "latency"; r.clock = "tsc" end,
        "clock: a table expected, got \"tsc\"" },
    }
    for _, c in ipairs(cases) do
      local path = tampered(c[1])
      local ok, out = cli("report " .. path)
      assert.is_falsy(ok)
      assert.equal(("lnuma report: %s: not a whole lnuma latency result: %s\n"):format(path, c[2]),
                   out)
      assert.matches(c[2]:gsub("%p", "%%%0"), raises(lnuma.report.svg, lnuma.report.load(path)))
    end
  end)

  it("says what a file without a result holds", function()
    local ok, out = cli("report " .. write("null.json", "null"))
    assert.is_falsy(ok)
    assert.equal(("lnuma report: %s/null.json: the JSON text is null\n"):format(dir), out)
    ok, out = cli("report " .. write("other.json", '{"benchmark":"quux"}'))
    assert.is_falsy(ok)
    assert.matches("other%.json: not an lnuma benchmark result: benchmark = \"quux\"", out)
    assert.not_matches("nil nil", out)
  end)

  it("renders the result untouched", function()
    local ok, out = cli("report " .. tampered(function() end))
    assert.is_true(ok, out)
    assert.matches("^latency: ", out)
  end)
end)

-- Well-formed XML, checked over the whole document: every tag closed in the
-- order it was opened, one root, nothing outside it.
local function well_formed(text)
  local stack, roots, pos = {}, 0, 1
  local body = text:gsub("^<%?xml.-%?>%s*", "")
  while true do
    local s, e, close, name, rest = body:find("<(/?)([%w:_%-]+)(.-)>", pos)
    if not s then break end
    if #stack == 0 and body:sub(pos, s - 1):match("%S") then
      return nil, "text outside the root at byte " .. pos
    end
    if close == "/" then
      local top = table.remove(stack)
      if top ~= name then return nil, ("</%s> closes <%s>"):format(name, tostring(top)) end
    elseif not rest:match("/$") then
      if #stack == 0 then roots = roots + 1 end
      stack[#stack + 1] = name
    elseif #stack == 0 then
      roots = roots + 1
    end
    pos = e + 1
  end
  if #stack > 0 then return nil, "<" .. stack[#stack] .. "> never closed" end
  if body:sub(pos):match("%S") then return nil, "text after the root" end
  if roots ~= 1 then return nil, roots .. " root elements" end
  return true
end

describe("lnuma plan", function()
  it("show --svg writes well-formed XML: every group closed", function()
    assert.is_nil(select(1, well_formed("<svg><g><rect/></svg>")))
    local svg = dir .. "/plan.svg"
    local ok, out = cli(("plan show examples/host/engine.lua --synthetic 'pack:2 numa:2 core:4 "
                         .. "pu:2' --svg %s"):format(svg))
    assert.is_true(ok, out)
    local f = assert(io.open(svg))
    local text = f:read("a")
    f:close()
    assert.same({ true }, { well_formed(text) })
    assert.matches("<g class=\"node\">", text)
  end)

  it("check says how to check for another machine when this one is too small", function()
    local path = write("needs-cpus.lua", [[
      local cpus = topology:cpus_of(0)
      return { threads = { { name = "feed", cpus = cpus[#cpus + 1] } } }
    ]])
    local ok, out = cli("plan check " .. path)
    assert.is_falsy(ok)
    assert.matches("^" .. path:gsub("%p", "%%%0") .. ": threads%[1%]%.cpus: missing\n%(checked "
                   .. "against this machine: %d+ CPUs?, %d+ nodes?; to check it for another "
                   .. "machine, pass %-%-synthetic DESC or %-%-xml FILE%)\n$", out)
    ok, out = cli("plan check " .. path .. " --synthetic 'pack:1 numa:1 core:4 pu:1'")
    assert.is_falsy(ok)
    assert.not_matches("checked against this machine", out)
  end)

  it("refuses a node with CPUs and no memory as a place for memory", function()
    local topo = lnuma.topology { xml = "spec/fixtures/cpu-only-node.xml" }
    local p, err = plan.check({ memory = { { name = "m", size = 4096, node = 1 } } },
                              { topology = topo })
    assert.is_nil(p)
    assert.equal("plan: memory[1].node: node 1 has no memory on the target machine (CPUs only); "
                 .. "nodes with memory: 0", err)
    p, err = plan.check({ pools = { { name = "o", node = 1, size = 64, count = 4 } } },
                        { topology = topo })
    assert.is_nil(p)
    assert.matches("pools%[1%]%.node: node 1 has no memory", err)
    assert(plan.check({ threads = { { name = "t", cpus = 4 } },
                        memory = { { name = "m", size = 4096, node = 0 } } }, { topology = topo }))
    local m = lnuma.bench.matrix { plan = true, topology = topo }
    assert.same({ 0, 1 }, m.rows)
    assert.same({ 0 }, m.columns)
  end)

  it("apply reports a memory policy the kernel refused, in the entry and as a warning", function()
    local p = assert(plan.check({ memory = { { name = "ring", size = "1M",
                                               node = lnuma.topology().nodes[1].os_index } },
                                  pools = { { name = "orders", size = 64, count = 16,
                                              node = lnuma.topology().nodes[1].os_index } } }))
    -- As a container without CAP_SYS_NICE answers: mbind refused, pages where touched.
    local note = "mbind: Operation not permitted (the kernel refuses memory policy here)"
    local function refusing(real)
      return function(...)
        local obj, msg, errno = real(...)
        if not obj then return obj, msg, errno end
        return setmetatable({}, { __index = function(_, k)
          if k == "info" then
            return function()
              local i = obj:info()
              i.policy_applied, i.policy_note = false, note
              return i
            end
          end
          return function(_, ...) return obj[k](obj, ...) end
        end })
      end
    end
    local memory = require "lnuma.memory" -- where apply takes alloc and pool from
    local alloc, pool = memory.alloc, memory.pool
    memory.alloc, memory.pool = refusing(alloc), refusing(pool)
    local ok, out = pcall(p.apply, p)
    memory.alloc, memory.pool = alloc, pool
    assert.is_true(ok, out)
    assert.is_false(out.report.memory[1].policy_applied)
    assert.equal(note, out.report.memory[1].policy_note)
    assert.is_false(out.report.pools[1].policy_applied)
    assert.same({ "memory[1] (ring): memory policy bind was not applied (" .. note .. ")",
                  "pools[1] (orders): memory policy bind was not applied (" .. note .. ")" },
                out.report.warnings)
    out.memory.ring:free()
    out.pools.orders:free()
    -- and where the kernel takes it, the report says so, with no warning
    local real = assert(p:apply())
    assert.is_true(real.report.memory[1].policy_applied)
    assert.same({}, real.report.warnings)
    real.memory.ring:free()
    real.pools.orders:free()
  end)
end)
