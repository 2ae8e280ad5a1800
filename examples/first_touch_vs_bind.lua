-- First touch or bind?  A buffer's pages land on the node of the CPU that
-- first writes them, unless a policy binds them.  Here a buffer is first
-- touched from a CPU of the last node, or bound to the first node (and
-- touched from the same far CPU); a thread on the first node then measures
-- it.  An experiment: both placements, a fresh buffer for every run, in a
-- randomised interleaved order; each run records where its pages really are
-- and is flagged if they are not where that placement puts them.
--   lua5.4 examples/first_touch_vs_bind.lua [--quick]   (SEED=n to repeat an order)
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
local here = nodes[1]
local there = { node = nodes[#nodes].node, cpu = nodes[#nodes].far }

local res = lnuma.experiment {
  name = "first touch vs bind",
  factors = { { "placement", { "first touch", "bind" } } },
  repetitions = quick and 3 or 10, warmup = quick and 0 or 1,
  seed = tonumber(os.getenv("SEED") or ""),
  setup = function(lv)
    -- Touched first by a thread on the far node: the pages go there.
    -- Bound to the near node: the pages go there, whoever touches them.
    local opts = { touch_cpu = there.cpu }
    if lv.placement == "bind" then opts.node = here.node end
    local buf = assert(lnuma.alloc(size, opts))
    local want = lv.placement == "bind" and here.node or there.node
    return { buf = buf, buffers = { buffer = { buffer = buf, node = want } } }
  end,
  run = function(_, st)
    local r = assert(lnuma.bench.latency { buffer = st.buf, cpu = here.cpu, repetitions = 1,
                                           min_time = quick and 2000000 or nil })
    return { latency_ns = r.latency_ns, cpus = r.cpus_ran }
  end,
  teardown = function(st) st.buf:free() end,
}

print(lnuma.report.text(res))
print()
for _, c in ipairs(res.combinations) do
  -- The pages of the last measured run of this placement, as the runner read them.
  local p
  for _, run in ipairs(res.runs) do
    if run.combination == c.index and run.placement then p = run.placement.buffer end
  end
  local on = 0
  for _, e in ipairs(p and p.pages_by_node or {}) do
    if e.node == here.node then on = on + e.pages end
  end
  local what = c.levels.placement == "bind" and ("bound to node " .. here.node)
    or ("first touch on CPU " .. there.cpu)
  print(("%-24s %6.1f ns per load from CPU %d; %5.1f%% of the pages on node %d"):format(what,
    c.median, here.cpu, p and p.pages > 0 and on / p.pages * 100 or 0, here.node))
end
if here.node == there.node then
  print("(one node here, so both land on node " .. here.node .. "; on a NUMA machine the "
        .. "first-touched buffer sits on the far node and is slower to read)")
end
