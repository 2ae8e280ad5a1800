-- Where should a hot buffer live?  Measure it: for the CPU that will use it,
-- time loads from the memory of every node, then allocate the buffer on the
-- fastest one and check that its pages are there.
--   lua5.4 examples/hot_buffer_node.lua [CPU] [--quick]
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = (os.getenv("LNUMA_BUILD") or "build") .. "/?.so;" .. package.cpath
local lnuma = require "lnuma"

local quick, cpu = false, nil
for _, a in ipairs(arg or {}) do
  if a == "--quick" then quick = true else cpu = math.tointeger(tonumber(a)) end
end
local topo = lnuma.topology()
cpu = cpu or topo.allowed.cpus[1]

local best
for _, node in ipairs(topo.allowed.nodes) do
  -- Left to its default, the chase is four times the CPU's last-level cache.
  local r = assert(lnuma.bench.latency { cpu = cpu, node = node, size = quick and "8M" or nil,
                                         repetitions = quick and 2 or 5 })
  print(("CPU %d -> node %d: %6.1f ns (pages on node %d: %.0f%%)"):format(cpu, node,
    r.latency_ns, node, r.placement.fraction * 100))
  if not best or r.latency_ns < best.latency_ns then best = r end
end

local buf <close> = assert(lnuma.alloc("64M", { node = best.node }))
local pl = buf:placement()
print(("hot buffer: node %d, %d of %d pages there"):format(best.node, pl.by_node[best.node],
  pl.pages))
