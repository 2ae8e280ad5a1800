local lnuma = require "lnuma"
local sys = dofile("spec/support/sys.lua")

describe("the calling thread's memory policy", function()
  after_each(function() lnuma.set_policy{policy = "default"} end)

  it("starts as the process's default, with every allowed node", function()
    local p = lnuma.get_policy()
    assert.equal("default", p.policy)
    assert.same(sys.nodes(), p.nodes)
    assert.same(lnuma.binding().policy, p.policy)
  end)

  for _, policy in ipairs{"local", "bind", "preferred", "preferred_many", "interleave",
                          "weighted_interleave"} do
    it("can be set to '" .. policy .. "' and read back", function()
      local ok, msg, code = lnuma.set_policy{policy = policy}
      if not ok then
        if code == 1 then return pending("the kernel refuses memory policy here: " .. msg) end
        assert.matches("needs Linux", msg)
        return pending("this kernel has no policy '" .. policy .. "': " .. msg)
      end
      local p = lnuma.get_policy()
      assert.equal(policy, p.policy)
      assert.equal(policy, lnuma.binding().policy)
      if policy == "preferred" then
        assert.equal(1, #p.nodes)
      else
        assert.same(sys.nodes(), p.nodes)
      end
    end)
  end

  it("governs buffers allocated without a policy of their own", function()
    local node = sys.nodes()[1]
    local ok, msg, code = lnuma.set_policy{policy = "bind", node = node}
    if not ok and code == 1 then pending("the kernel refuses memory policy here: " .. msg) end
    assert.is_true(ok)
    local buf <close> = assert(lnuma.alloc("1M"))
    assert.equal(256, buf:placement().by_node[node])
    assert.equal("default", buf:policy().kernel.policy) -- the range has none of its own
  end)

  describe("bad arguments", function()
    it("names what is wrong", function()
      assert.error_matches(function() lnuma.set_policy() end, "table expected")
      assert.error_matches(function() lnuma.set_policy{} end, "policy: required")
      assert.error_matches(function() lnuma.set_policy{policy = "bound"} end,
        "policy: unknown policy 'bound'")
      assert.error_matches(function() lnuma.set_policy{policy = "bind", nodes = {999}} end,
        "node 999 does not exist")
      assert.error_matches(function() lnuma.set_policy{policy = "bind", node = -1} end,
        "node %-1 does not exist")
      assert.error_matches(function() lnuma.set_policy{policy = "local", node = 0} end,
        "policy 'local' takes no nodes")
      assert.error_matches(function() lnuma.set_policy{policy = "preferred", nodes = "0-1"} end,
        "takes one node")
      assert.error_matches(function() lnuma.set_policy{policy = "bind", nodse = 0} end,
        "unknown option 'nodse'")
      assert.equal("default", lnuma.get_policy().policy)
    end)
  end)
end)
