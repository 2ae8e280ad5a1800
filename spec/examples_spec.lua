-- The examples a user copies from run, in their quick mode, from the
-- checkout with lua5.4 (as their headers say).
local LUA = os.getenv("LUA") or "lua5.4"

local EXAMPLES = {
  { "first_touch_vs_bind.lua", "ns per load from CPU" },
  { "interleave_vs_local.lua", "GB/s with" },
  { "thp_vs_4k.lua", "uniform chase: 4K [%d.]+ ns .* vs  THP [%d.]+ ns" },
  { "hot_buffer_node.lua", "hot buffer: node %d+, (%d+) of %1 pages there" },
  { "coordinated_omission.lua", "corrected:   p50 [%d.]+ us, p99 [%d.]+ us" },
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

  it("coordinated_omission.lua shows the tail the stall hid, and writes it as .hgrm", function()
    local p = assert(io.popen(("%s examples/coordinated_omission.lua --quick 2>&1"):format(LUA)))
    local out = p:read("a")
    assert.is_true(p:close(), out)
    -- The 50 ms stall adds at least 249 values of 200 us or more to 2000
    -- (a preempted sample may add more): p99 is among them.
    assert.is_true(tonumber(out:match("corrected:   p50 [%d.]+ us, p99 ([%d.]+) us")) >= 200, out)
    local n = tonumber(out:match("corrected: .* (%d+) samples"))
    assert.is_true(n >= 2249, out)
    local path = out:match("%(HdrHistogram %.hgrm, us%): (%S+)")
    local f = assert(io.open(path))
    local hgrm = f:read("a")
    f:close()
    os.remove(path)
    assert.matches("^%s+Value%s+Percentile%s+TotalCount", hgrm)
    assert.matches(("Total count    = %12d]"):format(n), hgrm, 1, true)
  end)
end)
