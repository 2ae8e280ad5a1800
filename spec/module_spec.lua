describe("require 'lnuma'", function()
  it("returns a table with the version of the C core", function()
    local lnuma = require "lnuma"
    assert.is_table(lnuma)
    assert.matches("^%d+%.%d+%.%d+$", lnuma._VERSION)
    assert.equal(require("lnuma.core")._VERSION, lnuma._VERSION)
  end)

  it("writes nothing into _G", function()
    local before = {}
    for k in pairs(_G) do before[k] = true end
    for name in pairs(package.loaded) do
      if name:match("^lnuma") then package.loaded[name] = nil end
    end
    require "lnuma"
    for k in pairs(_G) do
      assert.is_true(before[k] ~= nil, "require 'lnuma' created the global " .. tostring(k))
    end
  end)
end)
