-- A table every thread reads (a shared lookup table, an order book): put it
-- on one node, or interleave its pages over all nodes?  Threads on every
-- allowed CPU read it; the bandwidth they get is what decides.  An
-- experiment: both layouts, each run on a fresh buffer, in a randomised
-- interleaved order; each run's pages are checked against the layout asked.
--   lua5.4 examples/interleave_vs_local.lua [--quick]   (SEED=n to repeat an order)
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = (os.getenv("LNUMA_BUILD") or "build") .. "/?.so;" .. package.cpath
local lnuma = require "lnuma"

local quick = arg and arg[1] == "--quick"
local size = quick and "16M" or "1G"
local topo = lnuma.topology()
local cpus, nodes = topo.allowed.cpus, topo.allowed.nodes

local res = lnuma.experiment {
  name = "interleave vs local",
  factors = { { "layout", { "local", "interleave" } } },
  repetitions = quick and 3 or 10, warmup = quick and 0 or 1,
  seed = tonumber(os.getenv("SEED") or ""),
  metric = "gbps",
  setup = function(lv)
    local want = lv.layout == "local" and { nodes[1] } or nodes
    local buf = assert(lnuma.alloc(size, { policy = lv.layout == "local" and "bind"
                                           or "interleave", nodes = want }))
    -- The runner reads where this buffer's pages are after each run.
    return { buf = buf, buffers = { table = { buffer = buf, nodes = want } } }
  end,
  run = function(_, st)
    return lnuma.bench.bandwidth { buffer = st.buf, kernel = "read", cpus = cpus,
                                   repetitions = 1, min_time = quick and 5000000 or nil }
  end,
  teardown = function(st) st.buf:free() end,
}

print(lnuma.report.text(res))
print()
for _, c in ipairs(res.combinations) do
  local what = c.levels.layout == "local" and ("all on node " .. nodes[1])
    or ("interleaved over " .. lnuma.cpulist(nodes))
  print(("%-28s %7.2f GB/s with %d threads (median of %d runs, %.0f%% CI %.2f-%.2f)"):format(
    what, c.median, #cpus, c.n, c.ci.level * 100, c.ci.lo, c.ci.hi))
end
local cmp = res.comparisons[1]
if cmp then
  print(("interleaved / local: x%.3f, %s (p = %.3g, Holm-adjusted)"):format(cmp.ratio,
    cmp.significant and "a real difference" or "not distinguishable", cmp.p_adjusted))
end
if #nodes == 1 then
  print("(one node here: both layouts put every page on node " .. nodes[1] .. "; on a NUMA "
        .. "machine interleaving spreads the reads over every node's memory controller)")
end
