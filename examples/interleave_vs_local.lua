-- A table every thread reads (a shared lookup table, an order book): put it
-- on one node, or interleave its pages over all nodes?  Threads on every
-- allowed CPU read it; the bandwidth they get is what decides.
--   lua5.4 examples/interleave_vs_local.lua [--quick]
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = (os.getenv("LNUMA_BUILD") or "build") .. "/?.so;" .. package.cpath
local lnuma = require "lnuma"

local quick = arg and arg[1] == "--quick"
local size = quick and "16M" or "1G"
local topo = lnuma.topology()
local cpus, nodes = topo.allowed.cpus, topo.allowed.nodes

local layouts = {
  { "all on node " .. nodes[1], { node = nodes[1], populate = true } },
  { "interleaved over " .. lnuma.cpulist(nodes),
    { policy = "interleave", nodes = nodes, populate = true } },
}
for _, layout in ipairs(layouts) do
  local buf <close> = assert(lnuma.alloc(size, layout[2]))
  local r = assert(lnuma.bench.bandwidth { buffer = buf, kernel = "read", cpus = cpus,
                                           repetitions = quick and 2 or 5 })
  print(("%-28s %7.2f GB/s with %d threads (spread %.1f%%)"):format(layout[1], r.gbps,
    #cpus, r.stats.spread * 100))
  for _, w in ipairs(r.warnings) do print("  warning: " .. w) end
end
