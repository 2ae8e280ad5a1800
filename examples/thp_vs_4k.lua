-- Transparent huge pages against 4 KiB pages for latency: a chase that
-- jumps anywhere in a large buffer misses the TLB on nearly every load with
-- 4 KiB pages; 2 MiB pages cover the buffer with a few hundred entries.
-- An experiment of page size x chase pattern, in a randomised interleaved
-- order; each run records which page sizes really backed its buffer.
--   lua5.4 examples/thp_vs_4k.lua [--quick]   (SEED=n to repeat an order)
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = (os.getenv("LNUMA_BUILD") or "build") .. "/?.so;" .. package.cpath
local lnuma = require "lnuma"

local quick = arg and arg[1] == "--quick"
local size = quick and "8M" or "1G"
local huge_levels = { false }
if lnuma.thp().available then
  huge_levels[2] = "thp"
else
  print("note: this kernel has no transparent huge pages: only 4 KiB pages are measured")
end

local res = lnuma.experiment {
  name = "THP vs 4K",
  factors = { { "pattern", { "uniform", "random" } }, { "huge", huge_levels } },
  repetitions = quick and 2 or 10, warmup = quick and 0 or 1,
  seed = tonumber(os.getenv("SEED") or ""),
  metric = "latency_ns",
  -- The benchmark allocates and checks its own buffer; its result (with
  -- the placement and page sizes it read) is the run's result.
  run = function(lv)
    return lnuma.bench.latency { size = size, huge = lv.huge, pattern = lv.pattern,
                                 repetitions = 1, min_time = quick and 2000000 or nil }
  end,
}

print(lnuma.report.text(res))
print()
local function find(pattern, huge)
  for _, c in ipairs(res.combinations) do
    if c.levels.pattern == pattern and c.levels.huge == huge then return c end
  end
end
for _, pattern in ipairs({ "uniform", "random" }) do
  local line = {}
  for _, huge in ipairs(huge_levels) do
    local c = find(pattern, huge)
    line[#line + 1] = ("%s %.1f ns (%d runs, %.1f-%.1f)"):format(huge and "THP" or "4K",
      c.median, c.n, c.ci.lo, c.ci.hi)
  end
  print(("%-8s %s chase: %s"):format(lnuma.report.size(lnuma.size(size)), pattern,
    table.concat(line, "  vs  ")))
end
print("uniform: a TLB miss per load with 4K pages; random: 4 KiB blocks, one miss per 32 loads")
