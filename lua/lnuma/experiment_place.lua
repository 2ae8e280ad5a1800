--- Where each run of an experiment ran and where its memory was
-- (private to lua/lnuma/experiment*.lua): levels that cannot exist on this
-- machine, the placement of the buffers a run names against the nodes
-- asked, and the CPUs it ran on against the CPUs asked.  Each complaint is
-- a flag on the run.
-- @module lnuma.experiment_place

local core = require "lnuma.core"
local U = require "lnuma.bench.util"
local D = require "lnuma.experiment_design"

local P = {}

--- A node or CPU level as a list of integers.
-- @param v an integer, an array of integers or a cpulist string
-- @treturn table|nil the list, or nil when v is none of those
function P.int_list(v)
  if v == nil then return nil end
  if math.type(v) == "integer" then return { v } end
  if type(v) == "string" then
    local ok, l = pcall(core.cpulist, v)
    return ok and l or nil
  end
  if type(v) == "table" then return v end
end

--- Why a combination cannot run on this machine: a `node`/`nodes` level
-- outside the allowed nodes, a `cpu`/`cpus` level outside the allowed CPUs.
-- @tparam table topo `lnuma.topology()`
-- @tparam table levels factor -> level
-- @treturn string|nil the reason, or nil when it can run
function P.unavailable(topo, levels)
  for _, key in ipairs({ "node", "nodes" }) do
    local v = levels[key]
    if v ~= nil then
      local list = P.int_list(v)
      if not list then return ("%s = %s is not a node set"):format(key, D.label(v)) end
      for _, n in ipairs(list) do
        if not U.contains(topo.allowed.nodes, n) then
          return ("node %d is not on this machine or not allowed (nodes %s)"):format(n,
            core.cpulist(topo.allowed.nodes))
        end
      end
    end
  end
  for _, key in ipairs({ "cpu", "cpus" }) do
    local v = levels[key]
    if v ~= nil then
      local list = P.int_list(v)
      if not list then return ("%s = %s is not a CPU set"):format(key, D.label(v)) end
      for _, c in ipairs(list) do
        if not U.contains(topo.allowed.cpus, c) then
          return ("CPU %d is not on this machine or not allowed (CPUs %s)"):format(c,
            core.cpulist(topo.allowed.cpus))
        end
      end
    end
  end
end

--- The nodes a combination asks for (its `nodes` or `node` level).
-- @tparam table levels
-- @treturn table|nil
function P.asked_nodes(levels)
  return P.int_list(levels.nodes) or P.int_list(levels.node)
end

--- The CPUs a combination asks for (its `cpus` or `cpu` level).
-- @tparam table levels
-- @treturn table|nil
function P.asked_cpus(levels)
  return P.int_list(levels.cpus) or P.int_list(levels.cpu)
end

-- ---- placement of one run ------------------------------------------------------------

--- The placement of a buffer against the nodes asked (or, when none are,
-- where it is): bench_util's reading; its complaints become the run's flags.
-- @tparam table topo
-- @tparam string name the buffer's name in the run's record
-- @param entry an lnuma buffer, or `{buffer =, node = / nodes =}`
-- @tparam table levels the combination's levels (`node`/`nodes` asked)
-- @tparam table flags the run's flags, appended to
-- @treturn table|nil the placement (`node`, `fraction`, `pages_by_node`,
--   `pages_by_size`, `huge_fraction`, ...), nil when entry is no live buffer
function P.buffer_placement(topo, name, entry, levels, flags)
  local buf, asked = entry, nil
  if type(entry) == "table" and not require("lnuma").type(entry) then
    buf, asked = entry.buffer, P.int_list(entry.nodes) or P.int_list(entry.node)
  end
  local kind = require("lnuma").type(buf)
  if kind ~= "buffer" then
    flags[#flags + 1] = ("%s: not a live lnuma buffer (%s)"):format(name, kind or type(buf))
    return nil
  end
  asked = asked or P.asked_nodes(levels) or U.policy_nodes(buf)
  local scratch = { warnings = {} }
  local target = asked and (#asked == 1 and asked[1] or asked) or U.node_list(topo)
  local p = U.placement(scratch, buf, { { offset = 0, length = buf:size(), node = target } })
  for _, w in ipairs(scratch.warnings) do
    if asked or not w:match("^only [%d.]+%% of the") then
      flags[#flags + 1] = name .. ": " .. w
    end
  end
  if not asked then p.node = nil end
  return p
end

--- A placement a run returned (`{pages_by_node = {{node =, pages =}}}` as
-- lnuma results carry it, or `{by_node = {[node] = pages}}` as
-- `buf:placement()` gives it; its own `nodes` overrides the levels), checked
-- against the nodes asked, and against the huge pages asked (`huge` level or
-- its `huge_asked`) when it says `huge_fraction`.
-- @tparam string name
-- @tparam table p
-- @tparam table levels
-- @tparam table flags appended to
-- @treturn table a copy with `pages_by_node` (and `fraction`, `node` when nodes were asked)
function P.given_placement(name, p, levels, flags)
  local list = {}
  if type(p.pages_by_node) == "table" then
    for _, e in ipairs(p.pages_by_node) do list[#list + 1] = { node = e.node, pages = e.pages } end
  elseif type(p.by_node) == "table" then
    for node, pages in pairs(p.by_node) do
      list[#list + 1] = { node = math.tointeger(node) or node, pages = pages }
    end
    table.sort(list, function(a, b) return a.node < b.node end)
  end
  local out = {}
  for k, v in pairs(p) do out[k] = v end
  out.by_node, out.pages_by_node = nil, list
  local asked = P.int_list(p.nodes) or P.asked_nodes(levels)
  if asked and #list > 0 then
    local total, on = 0, 0
    for _, e in ipairs(list) do
      total = total + e.pages
      if U.contains(asked, e.node) then on = on + e.pages end
    end
    out.fraction, out.node = total > 0 and on / total or 0, #asked == 1 and asked[1] or asked
  end
  local huge = levels.huge or p.huge_asked
  if huge and huge ~= "none" and type(p.huge_fraction) == "number" and p.huge_fraction < 1 then
    flags[#flags + 1] = ("%s: asked for huge pages (%s), %.1f%% of the memory is on them")
      :format(name, tostring(huge), p.huge_fraction * 100)
  end
  if type(out.fraction) == "number" and out.fraction < 1 then
    local where = {}
    for _, e in ipairs(list) do where[#where + 1] = ("node %s: %s"):format(e.node, e.pages) end
    flags[#flags + 1] = ("%s: only %.1f%% of the pages on the nodes asked (%s)"):format(name,
      out.fraction * 100, table.concat(where, ", "))
  end
  return out
end

--- Flags a run that ran on a CPU outside those its levels asked.
-- @tparam table levels
-- @tparam table|nil got the CPUs it ran on
-- @tparam table flags appended to
function P.check_cpus(levels, got, flags)
  local asked = P.asked_cpus(levels)
  if not asked or not got then return end
  for _, c in ipairs(got) do
    if not U.contains(asked, c) then
      flags[#flags + 1] = ("ran on CPU %s, outside the CPUs asked (%s)"):format(tostring(c),
        core.cpulist(asked))
      return
    end
  end
end

return P
