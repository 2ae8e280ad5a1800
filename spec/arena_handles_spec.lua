-- Arena allocations as offsets (issue 14): arena:alloc(n [, align]) returns
-- an integer offset (no Lua allocation per call), arena:get/set(kind, off)
-- and arena:view(off [, len]) reach it; arena:alloc_buffer returns a view.
local lnuma = require "lnuma"

local NAMES = { "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "f32", "f64" }
local SIZE = { u8 = 1, u16 = 2, u32 = 4, u64 = 8, i8 = 1, i16 = 2, i32 = 4, i64 = 8, f32 = 4,
               f64 = 8 }

describe("arena:alloc as offsets", function()
  it("hands out integer offsets, bump by bump and aligned, until it is full", function()
    local arena <close> = assert(lnuma.arena{size = 4096})
    local a = arena:alloc(10)
    local b = arena:alloc(100, 64)
    local c = arena:alloc("1K")
    assert.equal("integer", math.type(a))
    assert.equal(0, a)
    assert.equal(64, b)
    assert.equal(176, c) -- 164 rounded up to the default alignment of 16
    assert.equal(176 + 1024, arena:used())
    local v, msg, code = arena:alloc(4000)
    assert.is_nil(v)
    assert.equal("arena is full: 4000 bytes asked, 2896 of 4096 free", msg)
    assert.equal(12, code)
    assert.equal(1200, arena:alloc(2896, 1))
    assert.equal(0, arena:available())
  end)

  it("allocates no Lua object per call", function()
    local arena <close> = assert(lnuma.arena{size = "1M"})
    collectgarbage()
    collectgarbage("stop")
    local before = collectgarbage("count")
    for _ = 1, 10000 do arena:alloc(64) end
    local grown = collectgarbage("count") - before
    collectgarbage("restart")
    assert.is_true(grown < 1, ("the heap grew by %.1f KiB"):format(grown))
  end)

  for _, kind in ipairs(NAMES) do
    it("reads and writes " .. kind .. " at byte offsets, as a view of the same bytes does",
      function()
        local arena <close> = assert(lnuma.arena{size = 4096})
        arena:alloc(3, 1)
        local off = arena:alloc(64, 1) -- at 3: get/set need no alignment
        assert.equal(3, off)
        local v = kind:sub(1, 1) == "f" and -2.5 or (kind:sub(1, 1) == "u" and 200 or -100)
        arena:set(kind, off + SIZE[kind], v)
        assert.equal(v, arena:get(kind, off + SIZE[kind]))
        local view = arena:view(off, 64)
        assert.equal(v, view:get(kind, 1))
        view:set(kind, 2, 7)
        assert.equal(7, arena:get(kind, off + 2 * SIZE[kind]))
      end)
  end

  it("reaches only the bytes handed out since the last reset", function()
    local arena <close> = assert(lnuma.arena{size = 4096})
    local off = arena:alloc(16)
    arena:set("u64", off + 8, 1)
    assert.error_matches(function() arena:get("u64", off + 9) end,
      "bad argument #2 to 'get' %(offset 9 out of range for a 8%-byte element "
      .. "%(16 bytes in use%)%)")
    assert.error_matches(function() arena:set("u8", 16, 1) end, "offset 16 out of range")
    assert.error_matches(function() arena:get("u8", -1) end, "offset %-1 out of range")
    arena:reset()
    assert.error_matches(function() arena:get("u8", 0) end, "%(0 bytes in use%)")
    assert.equal(0, arena:alloc(8))
    assert.equal("integer", math.type(arena:get("u64", 0))) -- the same bytes, handed out again
  end)

  it("gives views of what was handed out, the rest by default", function()
    local arena <close> = assert(lnuma.arena{size = 4096})
    local a = arena:alloc(32)
    arena:alloc(32)
    assert.equal(64, #arena:view(a))
    assert.equal(40, #arena:view(24))
    assert.equal(8, #arena:view(a + 8, 8))
    assert.equal("buffer", lnuma.type(arena:view(0, 1)))
    assert.error_matches(function() arena:view(0, 65) end,
      "range %[0, 65%) is outside the 64 bytes in use")
    assert.error_matches(function() arena:view(65) end, "outside the 64 bytes in use")
    assert.error_matches(function() arena:view(64) end, "a view must have at least one byte")
    assert.error_matches(function() arena:view(-1) end, "offset must not be negative")
    assert.error_matches(function() arena:view(0, 1.5) end, "length must be an integer")
  end)

  it("keeps alloc_buffer for a Buffer at once", function()
    local arena <close> = assert(lnuma.arena{size = 4096})
    local v = assert(arena:alloc_buffer(24))
    assert.equal("buffer", lnuma.type(v))
    assert.equal(24, #v)
    v:set("u64", 2, 99)
    assert.equal(99, arena:get("u64", 16))
    assert.equal(32, arena:alloc(8))
    assert.is_nil(arena:alloc_buffer(8192))
  end)

  it("refuses everything once freed, and its views die with it", function()
    local arena = assert(lnuma.arena{size = 4096})
    local off = arena:alloc(8)
    local view = arena:view(off, 8)
    arena:free()
    for _, f in ipairs {
      function() arena:alloc(8) end, function() arena:get("u8", off) end,
      function() arena:set("u8", off, 1) end, function() arena:view(0, 1) end,
      function() arena:alloc_buffer(8) end,
    } do
      assert.error_matches(f, "attempt to use a freed arena")
    end
    assert.error_matches(function() view:get("u8", 0) end, "memory was freed")
  end)

  describe("bad arguments", function()
    it("names the size, the alignment, the kind, the offset and the value", function()
      local arena <close> = assert(lnuma.arena{size = 4096})
      local off = arena:alloc(8)
      assert.error_matches(function() arena:alloc(0) end, "size must be positive")
      assert.error_matches(function() arena:alloc(-8) end, "size must not be negative")
      assert.error_matches(function() arena:alloc(1.5) end, "integer number of bytes")
      assert.error_matches(function() arena:alloc("lots") end, "size:")
      assert.error_matches(function() arena:alloc(8, 24) end, "align must be a power of two")
      assert.error_matches(function() arena:get("u24", off) end, "kind must be one of u8")
      assert.error_matches(function() arena:get("u8", "x") end, "offset must be an integer")
      assert.error_matches(function() arena:set("u8", off, 256) end,
        "value 256 out of range for u8")
      assert.error_matches(function() arena:set("f32", off, "1") end,
        "number expected, got string")
      assert.error_matches(function() arena.get({}, "u8", 0) end,
        "lnuma.Arena expected, got table")
      assert.error_matches(function() arena.alloc(lnuma.alloc(8), 8) end,
        "lnuma.Arena expected, got lnuma.Buffer")
    end)
  end)
end)
