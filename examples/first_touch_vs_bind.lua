-- First touch or bind?  A buffer's pages land on the node of the CPU that
-- first writes them, unless a policy binds them.  Here a buffer is first
-- touched from a CPU of the last node and another is bound to the first
-- node; a thread on the first node then measures both, and each result says
-- where the pages really are.  One node or many:
--   lua5.4 examples/first_touch_vs_bind.lua [--quick]
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = (os.getenv("LNUMA_BUILD") or "build") .. "/?.so;" .. package.cpath
local lnuma = require "lnuma"

local quick = arg and arg[1] == "--quick"
local size = quick and "8M" or "512M"
local topo = lnuma.topology()
local allowed = {}
for _, c in ipairs(topo.allowed.cpus) do allowed[c] = true end
local nodes = {} -- nodes with CPUs we may use: {node, first CPU, last CPU}
for _, n in ipairs(topo.nodes) do
  local cpus = {}
  for _, c in ipairs(n.cpus) do
    if allowed[c] then cpus[#cpus + 1] = c end
  end
  if #cpus > 0 then nodes[#nodes + 1] = { node = n.os_index, cpu = cpus[1], far = cpus[#cpus] } end
end
local here, there = nodes[1], nodes[#nodes]
there.cpu = there.far

-- Touched first by a thread on the far node: the pages go there.
local touched <close> = assert(lnuma.alloc(size, { touch_cpu = there.cpu }))
-- Bound to the near node: the pages go there, whoever touches them.
local bound <close> = assert(lnuma.alloc(size, { node = here.node, touch_cpu = there.cpu }))

for _, case in ipairs({ { "first touch on CPU " .. there.cpu, touched },
                        { "bound to node " .. here.node, bound } }) do
  local r = assert(lnuma.bench.latency { buffer = case[2], cpu = here.cpu, node = here.node,
                                         repetitions = quick and 2 or 5 })
  print(("%-24s %6.1f ns per load from CPU %d; %5.1f%% of the pages on node %d")
    :format(case[1], r.latency_ns, here.cpu, r.placement.fraction * 100, here.node))
end
if here.node == there.node then
  print("(one node here, so both land on node " .. here.node .. "; on a NUMA machine the "
        .. "first-touched buffer sits on the far node and is slower to read)")
end
