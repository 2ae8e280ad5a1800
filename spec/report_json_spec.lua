local lnuma = require "lnuma"
local report = lnuma.report

describe("lnuma.report.json", function()
  it("encodes tables with sorted keys, integers as integers, arrays as arrays", function()
    assert.equal('{"a":[1,2,3],"b":{"x":6133940224,"y":1.5},"c":"text","d":true}',
      report.json({ d = true, c = "text", b = { y = 1.5, x = 6133940224 }, a = { 1, 2, 3 } }))
  end)

  it("writes empty tables as [] and NaN as null", function()
    assert.equal('{"list":[],"nan":null}', report.json({ list = {}, nan = 0 / 0 }))
  end)

  it("indents on request", function()
    local text = report.json({ a = 1, b = { 1 } }, { indent = true })
    assert.matches('\n  "a":1,\n  "b":%[1%]\n', text)
  end)

  it("round-trips through report.decode", function()
    local value = { nodes = { { os_index = 0, cpus = { 0, 1 }, memory = 1 << 40 } } }
    local back = report.decode(report.json(value))
    assert.same(value, back)
    assert.is_true(math.type(back.nodes[1].memory) == "integer")
  end)

  describe("bad arguments", function()
    it("rejects values JSON cannot hold", function()
      assert.has_error(function() report.json({ nodes = { { f = print } } }) end,
        "bad argument #1 to 'json' (nodes[1].f: a function cannot be written as JSON)")
      local loop = {}
      loop.self = loop
      assert.error_matches(function() report.json(loop) end, "self: the table contains itself")
      assert.error_matches(function() report.json(io.stdout) end,
        "value: a userdata cannot be written as JSON")
    end)
    it("rejects unknown options and wrong option types", function()
      assert.error_matches(function() report.json({}, { indnet = true }) end,
        "bad argument #2 to 'json' %(unknown option 'indnet'%)")
      assert.error_matches(function() report.json({}, { indent = 2 }) end,
        "indent: boolean expected, got number")
      assert.error_matches(function() report.json({}, "x") end, "table expected, got string")
    end)
  end)
end)

describe("lnuma.report.decode", function()
  it("returns nil and the position of the error for malformed JSON", function()
    local value, msg = report.decode("{bad")
    assert.is_nil(value)
    assert.matches("line 1, column 2", msg)
  end)
  it("rejects what is not a string", function()
    assert.error_matches(function() report.decode(1) end, "string expected, got number")
  end)
end)
