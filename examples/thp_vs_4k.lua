-- Transparent huge pages against 4 KiB pages for latency: a chase that
-- jumps anywhere in a large buffer misses the TLB on nearly every load with
-- 4 KiB pages; 2 MiB pages cover the buffer with a few hundred entries.
--   lua5.4 examples/thp_vs_4k.lua [--quick]
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = (os.getenv("LNUMA_BUILD") or "build") .. "/?.so;" .. package.cpath
local lnuma = require "lnuma"

local quick = arg and arg[1] == "--quick"
local size = quick and "32M" or "1G"
for _, pattern in ipairs({ "uniform", "random" }) do
  local line = {}
  for _, huge in ipairs({ false, "thp" }) do
    local r = assert(lnuma.bench.latency { size = size, huge = huge, pattern = pattern,
                                           repetitions = quick and 2 or 5 })
    line[#line + 1] = ("%s %.1f ns (spread %.1f%%)"):format(huge and "THP" or "4K",
      r.latency_ns, r.stats.spread * 100)
  end
  print(("%-8s %s chase: %s"):format(lnuma.report.size(lnuma.size(size)), pattern,
    table.concat(line, "  vs  ")))
end
print("uniform: a TLB miss per load with 4K pages; random: 4 KiB blocks, one miss per 32 loads")
