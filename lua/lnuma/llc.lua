--- The last-level caches a set of CPUs shares, and what a working set
-- measures against them: memory, or (partly) cache.  Pure functions over the
-- topology's caches, so they are tested without measuring; the bandwidth
-- benchmark (its result's `scope`) and the survey both ask them.
-- @module lnuma.llc

local M = {}

local MIB = 1024 * 1024
local GIB = 1024 * MIB
local max = math.max

--- Working sets at least this many times the last-level cache measure memory.
M.MULTIPLE = 4

--- The last-level caches that serve `cpus`.
-- @tparam table topo a topology (its `caches`, `allowed.cpus`)
-- @tparam[opt] table cpus array of CPU numbers (default: the allowed CPUs)
-- @treturn table `{one, all, level}`: `one` the largest cache one CPU sees,
--   `all` the sum of the distinct caches (what threads on all those CPUs
--   share); `{}` when the topology names no cache that serves them
function M.of(topo, cpus)
  local level = 0
  for _, c in ipairs(topo.caches or {}) do
    if c.type ~= "instruction" then level = max(level, c.level) end
  end
  if level == 0 then return {} end
  local serving = {}
  for _, c in ipairs(cpus or (topo.allowed and topo.allowed.cpus) or {}) do serving[c] = true end
  local one, all = 0, 0
  for _, c in ipairs(topo.caches) do
    if c.type ~= "instruction" and c.level == level then
      local serves = false
      for _, cpu in ipairs(c.cpus or {}) do serves = serves or serving[cpu] == true end
      if serves then one, all = max(one, c.size), all + c.size end
    end
  end
  if one == 0 then return {} end
  return { one = one, all = all, level = level }
end

--- What a bandwidth figure over `size` bytes measures.
-- @tparam integer size bytes of all arrays together
-- @tparam[opt] integer llc_all the last-level cache the threads share (nil: unknown)
-- @treturn string "memory" (at least `MULTIPLE` times the cache), "cache"
--   (less: partly or wholly cache bandwidth) or "unknown"
function M.scope(size, llc_all)
  if not llc_all then return "unknown" end
  return size >= M.MULTIPLE * llc_all and "memory" or "cache"
end

--- The default bandwidth working set: `MULTIPLE` times the last-level caches
-- of the allowed CPUs, a power of two, at least 1 GiB, so the figure is memory's.
-- @tparam table topo
-- @treturn integer bytes
function M.bandwidth_size(topo)
  local size = GIB
  while size < M.MULTIPLE * (M.of(topo).all or 0) do size = size * 2 end
  return size
end

--- The default latency working set: `MULTIPLE` times the last-level cache
-- the CPU sees, a power of two, at least 256 MiB (multichase's default), so
-- that a chase measures memory also under a 320 MiB L3 (a Xeon's, shared by
-- all its cores), where 256 MiB would be cache for the most part.
-- @tparam table topo
-- @tparam[opt] integer cpu the chasing CPU (default: the largest cache any
--   allowed CPU sees)
-- @treturn integer bytes
function M.latency_size(topo, cpu)
  local size = 256 * MIB
  while size < M.MULTIPLE * (M.of(topo, cpu and { cpu } or nil).one or 0) do
    size = size * 2
  end
  return size
end

return M
