-- Typed ranges of buffers (issue 14): buf:sum/min/max(kind [, first [, n]]),
-- buf:fill(kind, value [, first [, n]]) and h:record_many(buf, kind [, first
-- [, n]]): one C loop each, the same answers as a Lua loop over buf:get.
local lnuma = require "lnuma"

local KINDS = { u8 = 1, u16 = 2, u32 = 4, u64 = 8, i8 = 1, i16 = 2, i32 = 4, i64 = 8,
                f32 = 4, f64 = 8 }
local NAMES = { "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "f32", "f64" }
local LIMITS = { u8 = { 0, 255 }, u16 = { 0, 65535 }, u32 = { 0, 4294967295 },
                 i8 = { -128, 127 }, i16 = { -32768, 32767 },
                 i32 = { -2147483648, 2147483647 } }

-- A value for element i of kind, spread over the kind's range.
local function value(kind, i)
  if kind == "f32" or kind == "f64" then return (i * 7 % 23) * 0.5 - 5 end
  local lim = LIMITS[kind]
  if kind == "u64" then return i * 7919 % 1000 end -- non-negative: compared unsigned
  if not lim then return (i * 7919 % 1000) - 500 end -- i64
  return lim[1] + (i * 7919) % (lim[2] - lim[1] + 1)
end

local function loop(buf, kind, first, n)
  local s, lo, hi = kind:sub(1, 1) == "f" and 0.0 or 0, nil, nil
  for i = first, first + n - 1 do
    local v = buf:get(kind, i)
    s = s + v
    if lo == nil or v < lo then lo = v end
    if hi == nil or v > hi then hi = v end
  end
  return s, lo, hi
end

describe("buf:sum, buf:min, buf:max", function()
  for _, kind in ipairs(NAMES) do
    it("give what a Lua loop over buf:get gives, for " .. kind, function()
      local buf <close> = assert(lnuma.alloc(4096))
      local count = 4096 // KINDS[kind]
      for i = 0, count - 1 do buf:set(kind, i, value(kind, i)) end
      for _, r in ipairs { { 0, count }, { 3, 17 }, { count - 1, 1 }, { 5, 0 } } do
        local first, n = r[1], r[2]
        local s, lo, hi = loop(buf, kind, first, n)
        assert.equal(s, buf:sum(kind, first, n))
        assert.equal(math.type(s), math.type(buf:sum(kind, first, n)))
        assert.equal(lo, buf:min(kind, first, n))
        assert.equal(hi, buf:max(kind, first, n))
      end
    end)
  end

  it("cover the rest of the buffer by default, from first when given", function()
    local buf <close> = assert(lnuma.alloc(64))
    for i = 0, 15 do buf:set("i32", i, i + 1) end
    assert.equal(136, buf:sum("i32"))
    assert.equal(136 - 1 - 2, buf:sum("i32", 2))
    assert.equal(3, buf:min("i32", 2))
    assert.equal(16, buf:max("i32", 2, nil))
    assert.equal(0, buf:sum("i32", 16))
  end)

  it("give 0 (integer or float by kind) and nil for an empty range", function()
    local buf <close> = assert(lnuma.alloc(64))
    assert.equal("integer", math.type(buf:sum("u64", 8, 0)))
    assert.equal(0, buf:sum("u64", 8, 0))
    assert.equal("float", math.type(buf:sum("f64", 0, 0)))
    assert.is_nil(buf:min("u8", 64))
    assert.is_nil(buf:max("f32", 3, 0))
  end)

  it("sum integers exactly: a float when the sum does not fit in an integer", function()
    local buf <close> = assert(lnuma.alloc(64))
    buf:fill("i64", math.maxinteger)
    local s = buf:sum("i64")
    assert.equal("float", math.type(s))
    assert.equal(8 * 2.0 ^ 63, s)
    assert.equal(math.maxinteger, buf:sum("i64", 0, 1))
    buf:set("i64", 1, -math.maxinteger) -- the first two cancel
    assert.equal(0, buf:sum("i64", 0, 2))
    assert.equal("integer", math.type(buf:sum("i64", 0, 2)))
    buf:fill("i64", math.mininteger)
    assert.equal(-8 * 2.0 ^ 63, buf:sum("i64"))
    assert.equal(math.mininteger, buf:sum("i64", 0, 1))
  end)

  it("read u64 as unsigned in sums and comparisons, and return the element as get does",
    function()
      local buf <close> = assert(lnuma.alloc(16))
      buf:set("u64", 0, 1)
      buf:set("u64", 1, -1) -- 2^64 - 1
      assert.equal(2.0 ^ 64, buf:sum("u64"))
      assert.equal(1, buf:min("u64"))
      assert.equal(-1, buf:max("u64")) -- the largest, read as buf:get reads it
      assert.equal(0, buf:sum("i64"))
      assert.equal(-1, buf:min("i64"))
    end)

  it("ignore NaN in min and max (all NaN: NaN), and let it through in sum", function()
    local buf <close> = assert(lnuma.alloc(32))
    local nan = 0 / 0
    buf:fill("f64", nan)
    buf:set("f64", 2, 1.5)
    buf:set("f64", 3, -2.5)
    assert.equal(-2.5, buf:min("f64"))
    assert.equal(1.5, buf:max("f64"))
    assert.is_true(buf:sum("f64") ~= buf:sum("f64"))
    local m = buf:min("f64", 0, 2)
    assert.is_true(m ~= m)
    buf:fill("f32", nan)
    buf:set("f32", 7, math.huge)
    assert.equal(math.huge, buf:min("f32"))
    assert.equal(math.huge, buf:max("f32"))
    assert.equal(math.huge, buf:sum("f32", 7, 1))
  end)

  it("sum f32 in double precision", function()
    local buf <close> = assert(lnuma.alloc(4 * 1000))
    buf:fill("f32", 0.1)
    local one = buf:get("f32", 0) -- 0.1 rounded to f32
    assert.is_true(math.abs(buf:sum("f32") - 1000 * one) < 1e-9)
  end)
end)

describe("buf:fill(kind, value [, first [, n]])", function()
  for _, kind in ipairs(NAMES) do
    it("stores the value into the range and nowhere else, for " .. kind, function()
      local buf <close> = assert(lnuma.alloc(256))
      buf:fill(0xAA)
      local count = 256 // KINDS[kind]
      local v = kind:sub(1, 1) == "f" and -1.25 or (LIMITS[kind] or { -3, 0 })[1] + 1
      buf:fill(kind, v, 2, count - 4)
      for i = 2, count - 3 do assert.equal(v, buf:get(kind, i)) end
      local w = KINDS[kind]
      assert.equal(("\xAA"):rep(2 * w), buf:read(0, 2 * w))
      assert.equal(("\xAA"):rep(2 * w), buf:read(256 - 2 * w, 2 * w))
    end)
  end

  it("fills the whole buffer by default and keeps the byte form", function()
    local buf <close> = assert(lnuma.alloc(64))
    buf:fill("u16", 0x0102)
    assert.equal(("\x02\x01"):rep(32), buf:read())
    buf:fill(7)
    assert.equal(("\7"):rep(64), buf:read())
    buf:fill(0, 8, 8)
    assert.equal(("\7"):rep(8) .. ("\0"):rep(8) .. ("\7"):rep(48), buf:read())
    buf:fill("f64", 3)
    assert.equal(3.0, buf:get("f64", 7))
  end)

  it("checks the value as set does, before writing anything", function()
    local buf <close> = assert(lnuma.alloc(16))
    buf:fill(1)
    assert.error_matches(function() buf:fill("u8", 256) end, "value 256 out of range for u8")
    assert.error_matches(function() buf:fill("i16", -32769) end, "out of range for i16")
    assert.error_matches(function() buf:fill("u32", 1.5) end, "value must be an integer")
    assert.error_matches(function() buf:fill("i64", "1") end, "integer expected, got string")
    assert.error_matches(function() buf:fill("f32", {}) end, "number expected, got table")
    assert.error_matches(function() buf:fill("u8") end, "integer expected, got no value")
    assert.equal(("\1"):rep(16), buf:read())
  end)
end)

describe("typed ranges: bad arguments and dead buffers", function()
  local methods = {
    sum = function(b, ...) return b:sum(...) end,
    min = function(b, ...) return b:min(...) end,
    max = function(b, ...) return b:max(...) end,
    fill = function(b, kind, ...) return b:fill(kind, 0, ...) end,
    record_many = function(b, ...) return lnuma.histogram():record_many(b, ...) end,
  }
  for name, call in pairs(methods) do
    it(name .. " checks first and n against the buffer, naming them, without wrapping",
      function()
        local buf <close> = assert(lnuma.alloc(64))
        assert.error_matches(function() call(buf, "u64", 9) end,
          "first: 9 is past the end %(8 u64 elements%)")
        assert.error_matches(function() call(buf, "u64", 2, 7) end,
          "n: 7 elements from 2 run past the end %(8 u64 elements%)")
        assert.error_matches(function() call(buf, "u32", 1, math.maxinteger) end,
          "n: " .. math.maxinteger .. " elements from 1 run past the end")
        assert.error_matches(function() call(buf, "u32", math.maxinteger, 1) end,
          "first: " .. math.maxinteger .. " is past the end")
        assert.error_matches(function() call(buf, "u8", -1) end, "first must not be negative")
        assert.error_matches(function() call(buf, "u8", 0, -1) end, "n must not be negative")
        assert.error_matches(function() call(buf, "u8", 0.5) end,
          "first must be an integer, got a fraction")
        assert.error_matches(function() call(buf, "u8", setmetatable({}, {
          __index = function() buf:free() end })) end, "first must be an integer, got table")
        assert.equal("buffer", lnuma.type(buf))
        assert.error_matches(function() call(buf, "u12") end, "kind must be one of u8")
      end)

    it(name .. " refuses a range not aligned to its kind, naming kind", function()
      local buf <close> = assert(lnuma.alloc(64))
      local v = buf:view(1, 32)
      assert.error_matches(function() call(v, "u16") end,
        "kind: u16 elements must be 2%-byte aligned, and this buffer starts at")
      assert.error_matches(function() call(buf:view(4, 32), "i64") end, "8%-byte aligned")
      assert.no_error(function() call(v, "u8") end)
    end)

    it(name .. " refuses freed buffers, views of freed ones and objects put back", function()
      local buf = assert(lnuma.alloc(64))
      local view = buf:view(0, 32)
      buf:free()
      assert.error_matches(function() call(buf, "u8") end, "attempt to use a freed buffer")
      assert.error_matches(function() call(view, "u8") end, "memory was freed")
      local pool <close> = assert(lnuma.pool{size = 64, count = 2})
      local o = pool:get()
      pool:put(o)
      assert.error_matches(function() call(o, "u8") end, "after it was put back")
    end)
  end

  it("reject what is not a buffer", function()
    local buf <close> = assert(lnuma.alloc(64))
    assert.error_matches(function() buf.sum({}, "u8") end, "lnuma.Buffer expected, got table")
    assert.error_matches(function() buf.fill(lnuma.histogram(), "u8", 0) end,
      "lnuma.Buffer expected")
    assert.error_matches(function() lnuma.histogram():record_many({}, "u8") end,
      "lnuma.Buffer expected, got table")
  end)
end)

describe("h:record_many(buf, kind [, first [, n]])", function()
  for _, kind in ipairs { "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64" } do
    it("records what h:record(buf:get(kind, i)) records, for " .. kind, function()
      local buf <close> = assert(lnuma.alloc(2048))
      local count = 2048 // KINDS[kind]
      for i = 0, count - 1 do buf:set(kind, i, value(kind, i)) end
      local a, b = lnuma.histogram{lowest = 1, highest = 10 ^ 6}, lnuma.histogram{
        lowest = 1, highest = 10 ^ 6 }
      a:record(42)
      b:record(42)
      a:record_many(buf, kind, 3, count - 5)
      for i = 3, count - 3 do b:record(buf:get(kind, i)) end
      local ea, eb = a:export(), b:export()
      ea.mean, eb.mean, ea.stddev, eb.stddev = nil, nil, nil, nil
      assert.same(eb, ea)
      assert.is_true(math.abs(a:mean() - b:mean()) <= 1e-9 * math.abs(b:mean()) + 1e-9)
      assert.is_true(math.abs(a:stddev() - b:stddev()) <= 1e-6 * b:stddev() + 1e-9)
    end)
  end

  for _, kind in ipairs { "u16", "u32", "u64", "i32", "i64" } do
    it("records what h:record records over many blocks, runs and out-of-range values, for "
      .. kind, function()
      -- 5003 elements: several blocks of the core and a ragged tail; runs
      -- of one value (one bucket, one add), runs below lowest and above
      -- highest, and spread values beside them; an empty histogram first,
      -- so that the first element is where the sums are taken from.
      local w = KINDS[kind]
      local count = 5003
      local buf <close> = assert(lnuma.alloc(count * w))
      local signed = kind:sub(1, 1) == "i"
      local top = ({ u16 = 65535, u32 = 4294967295 })[kind] or 5000000
      for i = 0, count - 1 do
        local v
        if i % 100 < 40 then v = 777                      -- a run: one bucket
        elseif i % 100 < 50 then v = signed and -3 or 0    -- a run below lowest
        elseif i % 100 < 55 then v = top                   -- above highest (u16: in range)
        else v = (i * 7919) % 60000 + 1 end
        buf:set(kind, i, v)
      end
      local a = lnuma.histogram { lowest = 1, highest = 100000, precision = 3 }
      local b = lnuma.histogram { lowest = 1, highest = 100000, precision = 3 }
      a:record_many(buf, kind)
      for i = 0, count - 1 do b:record(buf:get(kind, i)) end
      local ea, eb = a:export(), b:export()
      ea.mean, eb.mean, ea.stddev, eb.stddev = nil, nil, nil, nil
      assert.same(eb, ea)
      assert.equal(count, a:count())
      assert.is_true(a:underflow() > 0 and a:overflow() + a:underflow() < count)
      assert.is_true(math.abs(a:mean() - b:mean()) <= 1e-9 * math.abs(b:mean()) + 1e-9)
      assert.is_true(math.abs(a:stddev() - b:stddev()) <= 1e-6 * b:stddev() + 1e-9)
    end)
  end

  it("records u64 as get reads it: above 2^63 - 1 a negative value (an underflow)", function()
    local buf <close> = assert(lnuma.alloc(16))
    buf:set("u64", 0, -5)
    buf:set("u64", 1, 7)
    local h = lnuma.histogram()
    h:record_many(buf, "u64")
    assert.equal(2, h:count())
    assert.equal(1, h:underflow())
    assert.equal(-5, h:min())
  end)

  it("refuses float kinds, and a count past the limit, recording nothing", function()
    local buf <close> = assert(lnuma.alloc(64))
    local h = lnuma.histogram()
    assert.error_matches(function() h:record_many(buf, "f64") end,
      "kind must be an integer kind %(u8 .. i64%)")
    h:record(5, math.maxinteger - 3)
    assert.error_matches(function() h:record_many(buf, "u8") end,
      "n: 64 more values would take the histogram %(9223372036854775804 values%) past its "
      .. "limit")
    assert.equal(math.maxinteger - 3, h:count())
    h:record_many(buf, "u8", 0, 3)
    assert.equal(math.maxinteger, h:count())
  end)
end)
