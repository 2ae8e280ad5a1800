--- Core-to-core latency: a cache line bounced between pinned threads (`lnuma.bench.c2c`).
-- @module lnuma.bench_c2c

local core = require "lnuma.core"
local U = require "lnuma.bench_util"

local argerror = U.argerror
local check_opts = U.check_opts
local opt_int = U.opt_int
local machine = U.machine
local check_node = U.check_node
local cpu_node = U.cpu_node
local opt_cpus = U.opt_cpus
local stats = U.stats
local new_result = U.new_result
local check_pinning = U.check_pinning
local placement = U.placement
local alloc = U.alloc

local M = {}

--- Core-to-core latency: a cache line bounced between two pinned threads,
-- for every pair of CPUs; disjoint pairs run at the same time (a round-robin
-- tournament), so the time grows with the number of CPUs, not of pairs.
-- @tparam table opts `cpus` (default: every allowed CPU), `node` (where the
--   lines live; default: the first CPU's), `samples` (15), `roundtrips` (per
--   sample, 500)
-- @treturn table result with `rows` and `columns` (the CPUs), `values`
--   (`values[i][j]`: one-way ns between rows[i] and columns[j]; 0 on the
--   diagonal), `rounds`, `stats` (over the pairs), `placement`, `cpus_ran`,
--   `warnings`
function M.c2c(opts)
  local o = check_opts("c2c", opts, { cpus = true, node = true, samples = true,
                                       roundtrips = true })
  local topo, msg, code = machine()
  if not topo then return nil, msg, code end
  local cpus = opt_cpus("c2c", topo, o, "cpus") or topo.allowed.cpus
  if #cpus < 2 then
    return nil, "c2c: needs two CPUs, this process may use " .. #cpus, 22
  end
  local seen = {}
  for _, c in ipairs(cpus) do
    if seen[c] then argerror("c2c", "cpus", ("CPU %d is named twice"):format(c)) end
    seen[c] = true
  end
  local p = {
    cpus = cpus,
    samples = opt_int("c2c", o, "samples", 15, 1, 100000),
    roundtrips = opt_int("c2c", o, "roundtrips", 500, 1),
  }
  p.node = o.node ~= nil and check_node("c2c", topo, "node", o.node) or cpu_node(topo, cpus[1])
  local r = new_result("c2c", p, { values = "ns (one way: half a round trip)" })
  for k, v in pairs(p) do r[k] = v end
  local size = core.c2c_memory(#cpus)
  local buf, amsg, acode = alloc(size, p.node, nil, true)
  if not buf then return nil, amsg, acode end
  local raw, rmsg, rcode = core.bench_c2c(buf, { cpus = cpus, samples = p.samples,
                                                 roundtrips = p.roundtrips })
  if raw then
    r.values, r.rounds = raw.values, raw.rounds
    r.rows, r.columns = cpus, cpus
    r.pairs = #cpus * (#cpus - 1) // 2
    local pairs_ns = {}
    for i = 1, #cpus do
      for j = i + 1, #cpus do pairs_ns[#pairs_ns + 1] = raw.values[i][j] end
    end
    r.stats = stats(pairs_ns) -- over the pairs (each is the median of its samples)
    r.cpus_ran = check_pinning(r, raw.threads)
    r.placement = placement(r, buf, { { offset = 0, length = size, node = p.node } })
  end
  buf:free()
  if not raw then return nil, rmsg, rcode end
  return r
end

return M
