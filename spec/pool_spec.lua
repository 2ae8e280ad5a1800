local lnuma = require "lnuma"
local sys = dofile("spec/support/sys.lua")

describe("lnuma.pool", function()
  it("hands out fixed-size objects until none is left, then nil", function()
    local pool <close> = assert(lnuma.pool{node = sys.nodes()[1], size = 24, count = 3})
    assert.equal("pool", lnuma.type(pool))
    assert.equal(3, pool:count())
    assert.equal(24, pool:object_size())
    assert.equal(32, pool:stride())
    assert.equal(3, pool:available())
    local a, b, c = pool:get(), pool:get(), pool:get()
    assert.equal("buffer", lnuma.type(a))
    assert.equal(24, #a)
    -- Three distinct objects that do not overlap (in whatever order the pool keeps them).
    local addrs = { a:address(), b:address(), c:address() }
    table.sort(addrs)
    assert.is_true(addrs[2] - addrs[1] >= 24 and addrs[3] - addrs[2] >= 24)
    a:write(0, ("a"):rep(24))
    b:write(0, ("b"):rep(24))
    c:write(0, ("c"):rep(24))
    assert.equal(("a"):rep(24), a:read())
    assert.equal(("b"):rep(24), b:read())
    assert.is_nil(pool:get())
    assert.equal(0, pool:available())
    pool:put(b)
    assert.equal(1, pool:available())
    assert.equal(b, pool:get()) -- the same handle comes back: no allocation
  end)

  it("gives objects memory that works like any buffer", function()
    local pool <close> = assert(lnuma.pool{size = 16, count = 4})
    local o = pool:get()
    o:set("u64", 1, 77)
    assert.equal(77, o:get("u64", 1))
    assert.error_matches(function() o:get("u64", 2) end, "index 2 out of range")
    assert.matches("^lnuma%.Buffer pool object %(16 B", tostring(o))
  end)

  it("refuses a double put and objects of another pool", function()
    local pool <close> = assert(lnuma.pool{size = 8, count = 2})
    local other <close> = assert(lnuma.pool{size = 8, count = 2})
    local buf <close> = assert(lnuma.alloc(8))
    local o = pool:get()
    pool:put(o)
    assert.error_matches(function() pool:put(o) end, "already in the pool %(double put%)")
    local x = other:get()
    assert.error_matches(function() pool:put(x) end, "not an object of this pool")
    assert.error_matches(function() pool:put(buf) end, "not an object of this pool")
    local y = pool:get()
    assert.error_matches(function() pool:put(y:view(0, 4)) end, "not an object of this pool")
    assert.error_matches(function() pool:put("y") end, "lnuma.Buffer expected, got string")
    assert.equal(1, pool:available())
  end)

  it("makes an object unusable once it is put back", function()
    local pool <close> = assert(lnuma.pool{size = 8, count = 1})
    local o = pool:get()
    pool:put(o)
    assert.error_matches(function() o:get("u8", 0) end, "pool object after it was put back")
    assert.equal("lnuma.Buffer (pool object, put back)", tostring(o))
  end)

  it("takes objects back on free() and at the end of a <close> scope", function()
    local pool <close> = assert(lnuma.pool{size = 8, count = 1})
    do
      local o <close> = pool:get()
      assert.equal(0, pool:available())
      o:set("u8", 0, 1)
    end
    assert.equal(1, pool:available())
    local o = pool:get()
    o:free()
    o:free()
    assert.equal(1, pool:available())
  end)

  it("puts every object on the node asked, populated", function()
    local node = sys.nodes()[1]
    local pool <close> = assert(lnuma.pool{node = node, size = 64, count = 1024})
    local pl = pool:placement()
    assert.equal(16, pl.pages)
    assert.equal(0, pl.absent)
    assert.equal(16, pl.by_node[node])
    assert.equal(node, pool:get():placement{pages = true}.page_nodes[1])
    assert.equal("bind", pool:info().policy)
  end)

  it("aligns objects to a cache line by default and as asked", function()
    local p1 <close> = assert(lnuma.pool{size = 100, count = 2})
    assert.equal(128, p1:stride())
    local p2 <close> = assert(lnuma.pool{size = 100, count = 2, align = 8})
    assert.equal(104, p2:stride())
    local p3 <close> = assert(lnuma.pool{size = 1, count = 2})
    assert.equal(8, p3:stride())
  end)

  it("allocates nothing on get and put once every object was handed out once", function()
    local pool <close> = assert(lnuma.pool{size = 64, count = 100})
    local objs = {}
    for i = 1, 100 do objs[i] = pool:get() end
    for i = 1, 100 do pool:put(objs[i]) end
    collectgarbage()
    collectgarbage("stop")
    local before = collectgarbage("count")
    for _ = 1, 100 do
      for i = 1, 100 do objs[i] = pool:get() end
      for i = 1, 100 do pool:put(objs[i]) end
    end
    local grown = collectgarbage("count") - before
    collectgarbage("restart")
    assert.equal(0, grown)
  end)

  it("survives thousands of gets and puts without handing an object out twice", function()
    local pool <close> = assert(lnuma.pool{size = 8, count = 64})
    math.randomseed(7)
    local out, addrs = {}, {}
    for _ = 1, 20000 do
      if #out > 0 and (math.random(2) == 1 or pool:available() == 0) then
        local o = table.remove(out, math.random(#out))
        addrs[o:address()] = nil
        pool:put(o)
      else
        local o = assert(pool:get())
        assert.is_nil(addrs[o:address()])
        addrs[o:address()] = true
        out[#out + 1] = o
      end
      assert.equal(64 - #out, pool:available())
    end
  end)

  it("frees its objects with it", function()
    local pool = assert(lnuma.pool{size = 8, count = 2})
    local o = pool:get()
    pool:free()
    pool:free()
    assert.equal("freed pool", lnuma.type(pool))
    assert.equal("freed buffer", lnuma.type(o))
    assert.error_matches(function() o:get("u8", 0) end, "memory was freed")
    assert.error_matches(function() pool:get() end, "attempt to use a freed pool")
    assert.error_matches(function() pool:put(o) end, "attempt to use a freed pool")
    assert.error_matches(function() pool:available() end, "attempt to use a freed pool")
    assert.equal("lnuma.Pool (freed)", tostring(pool))
    o:free() -- harmless
  end)

  describe("bad arguments", function()
    it("names missing, unknown and bad options", function()
      assert.error_matches(function() lnuma.pool() end, "table expected")
      assert.error_matches(function() lnuma.pool{count = 2} end, "size: required")
      assert.error_matches(function() lnuma.pool{size = 8} end, "count: required")
      assert.error_matches(function() lnuma.pool{size = 0, count = 1} end, "size: must be positive")
      assert.error_matches(function() lnuma.pool{size = 8, count = 0} end,
        "count: must be positive")
      assert.error_matches(function() lnuma.pool{size = 8, count = 1.5} end,
        "count: integer expected")
      assert.error_matches(function() lnuma.pool{size = 8, count = 1, align = 12} end,
        "align: must be a power of two")
      assert.error_matches(function() lnuma.pool{size = 8, count = 1, cnt = 1} end,
        "unknown option 'cnt'")
      assert.error_matches(function() lnuma.pool{size = 8, count = 1, node = 999} end,
        "node 999 does not exist")
      assert.error_matches(function() lnuma.pool{size = "1G", count = math.maxinteger} end,
        "do not fit")
    end)
  end)
end)
