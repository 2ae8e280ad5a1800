-- The collector is paced by the memory lnuma maps (csrc/lua/pacing.c): a
-- script that drops buffers in a loop does not pile up mapped memory.
local lnuma = require "lnuma"

local function rss_bytes()
  local f = assert(io.open("/proc/self/status"))
  local kib = f:read("a"):match("VmRSS:%s*(%d+) kB")
  f:close()
  return tonumber(kib) * 1024
end

describe("memory mapped for Lua paces the collector", function()
  local MiB = 1024 * 1024

  it("buffers dropped in a loop are unmapped long before their sum is reached", function()
    collectgarbage("collect")
    local base, peak = rss_bytes(), 0
    for _ = 1, 48 do -- 1.5 GiB in all, touched
      local b = assert(lnuma.alloc(32 * MiB, { populate = true }))
      b:set("u64", 0, 1)
      peak = math.max(peak, rss_bytes() - base)
    end
    -- The step is 64 MiB while the Lua heap is small: at most that much
    -- garbage plus the live buffer, with room for the allocator's own.
    assert.is_true(peak < 256 * MiB, ("peak %d MiB above the start"):format(peak // MiB))
  end)

  it("arenas and pools are paced as buffers are", function()
    collectgarbage("collect")
    local base, peak = rss_bytes(), 0
    for i = 1, 32 do
      local o = i % 2 == 0 and lnuma.arena { size = 32 * MiB }
                or lnuma.pool { size = MiB, count = 32 }
      assert.is_not_nil(o)
      local v = i % 2 == 0 and o:alloc_buffer(32 * MiB - 4096) or o:get()
      v:fill(1)
      peak = math.max(peak, rss_bytes() - base)
    end
    assert.is_true(peak < 256 * MiB, ("peak %d MiB above the start"):format(peak // MiB))
  end)

  it("a buffer still referenced is never collected by the pacing", function()
    local kept = assert(lnuma.alloc(MiB))
    kept:set("u64", 8, 42)
    for _ = 1, 8 do assert(lnuma.alloc(32 * MiB)) end
    assert.equal(42, kept:get("u64", 8))
    kept:free()
  end)
end)
