-- The examples a user copies from run, in their quick mode, from the
-- checkout with lua5.4 (as their headers say).
local LUA = os.getenv("LUA") or "lua5.4"

local EXAMPLES = {
  { "first_touch_vs_bind.lua", "ns per load from CPU" },
  { "interleave_vs_local.lua", "GB/s with" },
  { "thp_vs_4k.lua", "uniform chase: 4K [%d.]+ ns .* vs  THP [%d.]+ ns" },
  { "hot_buffer_node.lua", "hot buffer: node %d+, (%d+) of %1 pages there" },
}

describe("the examples", function()
  for _, e in ipairs(EXAMPLES) do
    it(e[1] .. " runs in its quick mode and prints its findings", function()
      local p = assert(io.popen(("%s examples/%s --quick 2>&1"):format(LUA, e[1])))
      local out = p:read("a")
      local ok = p:close()
      assert.is_true(ok, out)
      assert.matches(e[2], out)
      assert.is_nil(out:find("warning", 1, true), out)
    end)
  end
end)
