local lnuma = require "lnuma"
local sys = dofile("spec/support/sys.lua")

local POLICIES = { default = true, preferred = true, bind = true, interleave = true,
  ["local"] = true, preferred_many = true, weighted_interleave = true }

describe("lnuma.current, lnuma.bind and lnuma.binding", function()
  local topo = assert(lnuma.topology())
  local saved

  before_each(function() saved = assert(lnuma.binding()).cpus end)
  after_each(function() assert(lnuma.bind{ cpus = saved }) end)

  it("current() returns the CPU and node the thread runs on, as integers", function()
    local cpu, node = lnuma.current()
    assert.is_true(math.type(cpu) == "integer" and math.type(node) == "integer")
    assert.equal(topo:node_of_cpu(cpu), node)
  end)

  it("bind{cpus = ...} pins the thread: current() then reports that CPU", function()
    for _, c in ipairs(topo.allowed.cpus) do
      assert.is_true(lnuma.bind{ cpus = tostring(c) })
      assert.equal(c, (lnuma.current()))
      assert.same({ c }, lnuma.binding().cpus)
    end
  end)

  it("accepts arrays, cpulists and integers, and can bind again elsewhere", function()
    local cpus = topo.allowed.cpus
    assert.is_true(lnuma.bind{ cpus = cpus[#cpus] })
    assert.same({ cpus[#cpus] }, lnuma.binding().cpus)
    assert.is_true(lnuma.bind{ cpus = { cpus[1] } })
    assert.same({ cpus[1] }, lnuma.binding().cpus)
    assert.is_true(lnuma.bind{ cpus = lnuma.cpulist(cpus) })
    assert.same(cpus, lnuma.binding().cpus)
    local cpu = lnuma.current()
    local inside = false
    for _, c in ipairs(cpus) do inside = inside or c == cpu end
    assert.is_true(inside)
  end)

  it("bind{node = n} pins the thread to the CPUs of node n", function()
    for _, node in ipairs(topo.nodes) do
      if not node.memory_only then
        assert.is_true(lnuma.bind{ node = node.os_index })
        assert.same(node.cpus, lnuma.binding().cpus)
        local cpu, n = lnuma.current()
        assert.equal(node.os_index, n)
        assert.equal(node.os_index, topo:node_of_cpu(cpu))
      end
    end
  end)

  it("binding() reports the memory policy and the nodes memory may come from", function()
    local b = lnuma.binding()
    assert.is_table(b.cpus)
    if b.policy_error then return pending("get_mempolicy refused here: " .. b.policy_error) end
    assert.is_true(POLICIES[b.policy], tostring(b.policy))
    if b.policy == "default" or b.policy == "local" then
      assert.same(sys.parse_list(sys.status("Mems_allowed_list")), b.nodes)
    end
    assert.is_true(#b.nodes >= 1)
  end)

  it("reports a taskset-restricted process's allowed CPUs", function()
    if #topo.allowed.cpus < 2 then return pending("needs 2 allowed CPUs") end
    local _, code = sys.run("command -v taskset")
    if code ~= 0 then return pending("taskset is not installed") end
    local last = topo.allowed.cpus[#topo.allowed.cpus]
    local out = sys.run(("taskset -c %d "):format(last) .. sys.lua_command(
      'local l = require "lnuma"; print(l.cpulist(l.topology().allowed.cpus), (l.current()))'))
    assert.equal(("%d\t%d\n"):format(last, last), out)
  end)

  describe("bad arguments", function()
    it("rejects a missing or empty options table", function()
      assert.error_matches(function() lnuma.bind() end,
        "bad argument #1 to 'bind' %(table expected")
      assert.error_matches(function() lnuma.bind{} end, "expected {cpus = ...} or {node = n}")
      assert.error_matches(function() lnuma.bind("0") end, "table expected, got string")
    end)

    it("rejects unknown options and both cpus and node", function()
      assert.error_matches(function() lnuma.bind{ cpu = 0 } end, "unknown option 'cpu'")
      assert.error_matches(function() lnuma.bind{ cpus = "0", node = 0 } end,
        "give either cpus or node, not both")
    end)

    it("rejects CPUs and nodes that do not exist", function()
      assert.error_matches(function() lnuma.bind{ cpus = 4095 } end,
        "cpus: CPU 4095 does not exist %(online CPUs")
      assert.error_matches(function() lnuma.bind{ cpus = { 0, 5000 } } end,
        "cpus: CPU 5000 does not exist")
      assert.error_matches(function() lnuma.bind{ node = 77 } end, "node: node 77 does not exist")
      assert.error_matches(function() lnuma.bind{ node = -1 } end, "node: node %-1 does not exist")
    end)

    it("rejects malformed cpulists, empty sets and wrong types", function()
      assert.error_matches(function() lnuma.bind{ cpus = "1-" } end,
        "cpus: '1%-': range without an end")
      assert.error_matches(function() lnuma.bind{ cpus = "x" } end, "cpus: .*expected a number")
      assert.error_matches(function() lnuma.bind{ cpus = {} } end, "cpus: the set is empty")
      assert.error_matches(function() lnuma.bind{ cpus = { -1 } } end, "cpus: element 1 is %-1")
      assert.error_matches(function() lnuma.bind{ cpus = true } end,
        "cpus: expected an array, a list string")
      assert.error_matches(function() lnuma.bind{ node = "0" } end,
        "node: integer expected, got string")
      assert.error_matches(function() lnuma.bind{ node = 0.5 } end,
        "node: integer expected, got a fraction")
    end)
  end)
end)
