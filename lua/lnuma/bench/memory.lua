--- Memory benchmarks: latency (pointer chase), latency curve, bandwidth
-- (STREAM-like kernels), node-to-node matrices, loaded latency, core-to-core
-- latency and page migration.  These functions live in `lnuma.bench`.
--
-- The kernels run in C on pthreads pinned to the CPUs asked; the memory is an
-- `lnuma.alloc` buffer on the node asked.  Every result is a plain table that
-- carries what is needed to trust it: `parameters` and `units`, the CPUs the
-- threads actually ran on (`cpus_ran`), where the pages actually are
-- (`placement`, read back with move_pages), the clock and its overhead, the
-- repetitions with their median and spread (`stats`), and `warnings`, a list
-- that says loudly when placement or pinning did not hold.
--
-- `placement` is `{node, fraction, pages, page_size, absent, pages_by_node,
-- pages_by_size, huge_bytes, huge_fraction, huge_method, huge_scope,
-- huge_asked}`: the share of pages on the intended node, and the page sizes
-- that actually back the buffer (see `buf:placement()`), against what was
-- asked (`huge_asked`: `"thp"`, `"2M"`, `"1G"` or false).  When huge pages
-- were asked and not all of the buffer is on pages of that size, a warning
-- says how much is ("asked for THP and got none: ...", with the THP modes).
--
-- Every result also carries `provenance` (the conditions it was measured
-- under: kernel, THP, NUMA balancing, cpufreq, SMT, cgroup limits, hugetlb
-- reservations, clock, hypervisor, lnuma's build; see `lnuma.provenance`)
-- and `doubts`, the warnings that make the figure doubtful, each with a
-- stable code (`{code = "thp_not_granted", message = ...}`; see
-- `lnuma.strict`).  Each benchmark below also takes `strict = true`: a
-- result with a doubt then fails, `nil, message, ECANCELED, result`.
-- @module lnuma.bench.memory

local core = require "lnuma.core"

local M = {}

-- One module per benchmark; their functions are merged here and then into
-- `lnuma.bench` by init.lua.
for _, name in ipairs({ "latency", "curve", "bandwidth", "matrix", "loaded", "c2c",
                        "migration", "weights" }) do
  for k, fn in pairs(require("lnuma.bench." .. name)) do
    if type(fn) == "function" and k:match("^%l") then M[k] = fn end
  end
end

-- `strict = true`: a doubtful result is a failure (lnuma.strict).
local strict = require "lnuma.strict"
for _, name in ipairs({ "latency", "latency_curve", "bandwidth", "matrix", "loaded_latency",
                        "c2c", "migration" }) do
  M[name] = strict.wrap(name, M[name])
end

-- ---- facts and debugging aids -------------------------------------------------------------

--- What the kernels can do here: `kernels`, `isas` (supported by this CPU),
-- `best_isa`, `orders`, `patterns`, `chase_block` (bytes of the blocks the
-- "random" chase groups its loads by), `traffic` (the loaded-latency traffic
-- types: `{name, arrays, reads, writes, write_allocate, nontemporal}`).
-- @treturn table
function M.kernel_info() return core.kernel_info() end

--- The order in which a chase of `size` bytes visits its slots (slot
-- indexes from 0, starting at slot 0): a debugging aid and what the specs
-- check (every slot exactly once per cycle).
-- @tparam integer|string size at most 64 MiB
-- @tparam[opt] table opts `pattern`, `line`, `stride`, `seed`
-- @treturn table array of slot indexes
M.chase_order = core.chase_order

return M
