--- The scaffold every memory benchmark shares (private to lua/lnuma/bench_*):
-- option checkers, the machine's facts the benchmarks ask, statistics, and
-- what every result carries (parameters, units, clock, pinning, placement,
-- warnings).
-- @module lnuma.bench.util

local core = require "lnuma.core"
local O = require "lnuma.options"
local memory = require "lnuma.memory"

local U = {}

local KIB, MIB, GIB = 1024, 1024 * 1024, 1024 * 1024 * 1024
U.KIB, U.MIB, U.GIB = KIB, MIB, GIB
local max, min = math.max, math.min

-- ---- arguments: the checkers are lnuma.options' ----------------------------------

local argerror = O.argerror

-- The nodes a buffer's policy names (its info), or nil when it has none.
local function policy_nodes(buf)
  local info = buf:info()
  if info and type(info.nodes) == "table" and #info.nodes > 0 and info.policy ~= "default"
     and info.policy ~= "local" then
    return info.nodes
  end
end

-- ---- the machine ------------------------------------------------------------------

local function machine()
  local topo, msg, code = require("lnuma.topology").topology()
  if not topo then return nil, msg, code end
  return topo
end

local function contains(list, x)
  for _, v in ipairs(list or {}) do
    if v == x then return true end
  end
  return false
end

local function node_info(topo, node)
  for _, n in ipairs(topo.nodes) do
    if n.os_index == node then return n end
  end
end

local function node_list(topo)
  local out = {}
  for _, n in ipairs(topo.nodes) do out[#out + 1] = n.os_index end
  return out
end

local function check_node(fname, topo, key, node)
  if math.type(node) ~= "integer" then
    argerror(fname, key, "node number expected, got " .. type(node), 4)
  end
  if not node_info(topo, node) then
    argerror(fname, key, ("node %d does not exist (nodes %s)"):format(node,
      core.cpulist(node_list(topo))), 4)
  end
  return node
end

local function cpu_node(topo, cpu)
  for _, c in ipairs(topo.cpus) do
    if c.os_index == cpu then return c.node end
  end
end

-- The CPUs of a node that this process may use, in order.
local function allowed_cpus_of(topo, node)
  local out = {}
  local info = node_info(topo, node)
  for _, c in ipairs(info and info.cpus or {}) do
    if contains(topo.allowed.cpus, c) then out[#out + 1] = c end
  end
  return out
end

-- ---- statistics ------------------------------------------------------------------

local function sorted(values)
  local s = {}
  for i, v in ipairs(values) do s[i] = v end
  table.sort(s)
  return s
end

local function quantile(s, p) -- s sorted, p in 0..1 (nearest rank)
  if #s == 0 then return nil end
  local k = math.ceil(p * #s)
  return s[max(1, min(#s, k))]
end

-- lnuma.bench.stats (bench.lua) plus the spread: (max - min) / median.
local function stats(values)
  local st = require("lnuma.bench").stats(values)
  if st.n > 0 then st.spread = st.median ~= 0 and (st.max - st.min) / st.median or 0 end
  return st
end

-- ---- what every result carries -------------------------------------------------------

-- The clock the kernels time with: this Lua state's lnuma clock.
local function clock_info()
  local info = require("lnuma.clock").info()
  return { source = info.source, hz = info.hz, frequency_source = info.frequency_source,
           invariant = info.invariant, overhead_ns = info.cost_c_ns }
end

local function new_result(name, params, units)
  return {
    benchmark = name,
    lnuma_version = core._VERSION,
    parameters = params,
    units = units,
    warnings = {},
    doubts = {},
    provenance = require("lnuma.provenance").get(),
    clock = clock_info(),
  }
end

local function warn(r, fmt, ...)
  r.warnings[#r.warnings + 1] = fmt:format(...)
end

-- A warning about a condition that makes the figure doubtful: also listed
-- in r.doubts as {code, message} (codes: lnuma.strict.CODES), which strict
-- runs turn into a failure.
local function doubt(r, code, fmt, ...)
  local msg = fmt:format(...)
  r.warnings[#r.warnings + 1] = msg
  r.doubts = r.doubts or {}
  r.doubts[#r.doubts + 1] = { code = code, message = msg }
end

-- Takes the warnings and doubts of a part (a matrix cell, a curve point)
-- into r, each message after prefix.
local function adopt(r, part, prefix)
  local coded = {}
  for _, d in ipairs(part.doubts or {}) do coded[d.message] = d.code end
  for _, w in ipairs(part.warnings or {}) do
    if coded[w] then doubt(r, coded[w], "%s%s", prefix, w) else warn(r, "%s%s", prefix, w) end
  end
end

-- Warnings for threads that did not run where they were pinned.
local function check_pinning(r, threads)
  local ran = {}
  for i, t in ipairs(threads) do
    ran[i] = t.cpu_end
    if t.migrated then
      doubt(r, "thread_migrated", "thread %d was pinned to CPU %d but ran on CPU %d (then %d)",
            i - 1, t.cpu_asked, t.cpu_start, t.cpu_end)
    end
  end
  return ran
end

local function numa_balancing_warning(r, topo)
  if #topo.nodes < 2 then return end
  local v = core.sysinfo().numa_balancing
  if v and v ~= 0 then
    doubt(r, "numa_balancing_on", "kernel NUMA balancing is on (/proc/sys/kernel/numa_balancing "
          .. "= %d): it may move pages while benchmarks run", v)
  end
end

-- The page sizes of a placement, summed into acc ({[page_size] = {pages, bytes}}).
local function add_page_sizes(acc, pl)
  for _, e in ipairs(pl.pages_by_size or {}) do
    local a = acc[e.page_size] or { pages = 0, bytes = 0 }
    a.pages, a.bytes = a.pages + e.pages, a.bytes + e.bytes
    acc[e.page_size] = a
  end
end

local function page_size_list(acc)
  local sizes, list = {}, {}
  for size in pairs(acc) do sizes[#sizes + 1] = size end
  table.sort(sizes)
  for _, size in ipairs(sizes) do
    list[#list + 1] = { page_size = size, pages = acc[size].pages, bytes = acc[size].bytes }
  end
  return list
end

-- "512 x 2M, 3 x 4K": the page sizes of a placement, largest first.
local page_sizes_text = O.page_sizes

-- Why THP may not have been given: the system's modes and this process's switch.
local function thp_text(pmd_size)
  local t = core.thp()
  if not t.available then return "this kernel has no transparent huge pages" end
  local s = ("THP mode: %s; defrag: %s"):format(t.enabled, t.defrag)
  if t.pmd_enabled ~= t.enabled then
    s = s .. ("; %s pages: %s"):format(O.size_text(pmd_size or t.pmd_size), t.pmd_enabled)
  end
  if t.process_disabled then s = s .. "; THP is off for this process (prctl)" end
  return s
end

-- What a buffer's info says was asked: "thp", "2M", "1G", or false.
local function huge_asked(info)
  local h = info and info.huge
  if h == "thp" or h == "2M" or h == "1G" then return h end
  return false
end

-- Warns when huge pages were asked and the pages that back the buffer are
-- not (all) of the size asked.
local function check_huge(r, p)
  local asked = p.huge_asked
  if not asked or not p.huge_method then return end
  local want = asked == "thp" and core.thp().pmd_size or core.size(asked)
  local present, got = 0, 0
  for _, e in ipairs(p.pages_by_size) do
    present = present + e.bytes
    if e.page_size >= want then got = got + e.bytes end
  end
  local what = asked == "thp" and "THP" or (asked .. " hugetlb pages")
  local code = asked == "thp" and "thp_not_granted" or "hugetlb_not_granted"
  local scope = p.huge_scope == "mapping"
    and (" (%s counts the whole mapping)"):format(p.huge_method) or ""
  local why = asked == "thp" and (" (%s)"):format(thp_text(want)) or ""
  if present == 0 then
    doubt(r, "huge_unchecked", "asked for %s, but no page of the buffer is present to check%s",
          what, scope)
  elseif got == 0 then
    doubt(r, code, "asked for %s and got none: the buffer is on %s pages%s%s", what,
         page_sizes_text(p.pages_by_size), why, scope)
  elseif got < present then
    doubt(r, code, "asked for %s, but only %.1f%% of the buffer is backed by %s pages (%s)%s%s",
          what, got / present * 100, O.size_text(want), page_sizes_text(p.pages_by_size),
         why, scope)
  end
end

-- Where the pages of buf (or of the parts of it given as {offset, length,
-- node}) are, against where they were meant to be, and which page sizes back
-- them against the huge pages the buffer asked for.
local function placement(r, buf, parts)
  -- Neighbouring parts meant for the same node are read as one range.
  local merged = {}
  for _, part in ipairs(parts) do
    local last = merged[#merged]
    if last and last.node == part.node and type(part.node) ~= "table"
       and last.offset + last.length == part.offset then
      last.length = last.length + part.length
    else
      merged[#merged + 1] = { offset = part.offset, length = part.length, node = part.node }
    end
  end
  parts = merged
  local total, on_target, absent, by_node, page_size = 0, 0, 0, {}, nil
  local sizes, huge, method, scope, size_error = {}, 0, nil, nil, nil
  for _, part in ipairs(parts) do
    local view = (part.offset == 0 and part.length == buf:size()) and buf
      or buf:view(part.offset, part.length)
    local pl, msg = view:placement()
    if not pl then
      doubt(r, "placement_unknown", "placement could not be read: %s", tostring(msg))
      return { node = parts[1].node, fraction = nil }
    end
    page_size = pl.page_size
    total = total + pl.pages
    absent = absent + (pl.absent or 0)
    for node, pages in pairs(pl.by_node) do
      by_node[node] = (by_node[node] or 0) + pages
      if node == part.node or (type(part.node) == "table" and contains(part.node, node)) then
        on_target = on_target + pages
      end
    end
    add_page_sizes(sizes, pl)
    huge = huge + (pl.huge_bytes or 0)
    method = method or pl.huge_method
    if pl.huge_scope == "mapping" or not scope then scope = pl.huge_scope end
    size_error = size_error or pl.huge_error
  end
  local list, nodes = {}, {}
  for node in pairs(by_node) do nodes[#nodes + 1] = node end
  table.sort(nodes)
  for _, node in ipairs(nodes) do
    if by_node[node] > 0 then list[#list + 1] = { node = node, pages = by_node[node] } end
  end
  local intended = parts[1].node
  for _, part in ipairs(parts) do
    if part.node ~= intended then intended = "local" end
  end
  local shown = type(intended) == "table" and core.cpulist(intended) or tostring(intended)
  local info = buf.info and buf:info() or nil
  if scope == "mapping" and #parts > 1 then
    -- smaps counts whole mappings: parts in one mapping would count it twice.
    local first, stop = math.huge, 0
    for _, part in ipairs(parts) do
      first, stop = min(first, part.offset), max(stop, part.offset + part.length)
    end
    local pl = buf:view(first, stop - first):placement()
    if pl and pl.pages_by_size then
      sizes, huge = {}, pl.huge_bytes
      add_page_sizes(sizes, pl)
    end
  end
  local by_size = page_size_list(sizes)
  local present = 0
  for _, e in ipairs(by_size) do present = present + e.bytes end
  local p = {
    node = intended, fraction = total > 0 and on_target / total or 0, pages = total,
    page_size = page_size, absent = absent, pages_by_node = list,
    pages_by_size = by_size, huge_bytes = huge,
    huge_fraction = present > 0 and huge / present or 0,
    huge_method = method, huge_scope = scope, huge_asked = huge_asked(info),
  }
  if p.fraction < 1 then
    local where = {}
    for _, e in ipairs(list) do where[#where + 1] = ("node %d: %d"):format(e.node, e.pages) end
    doubt(r, "pages_off_node", "only %.1f%% of the %d pages are on the intended node %s (%s%s): "
         .. "the figure does not describe that node", p.fraction * 100, total, shown,
         table.concat(where, ", "), absent > 0 and (", not present: " .. absent) or "")
  end
  if info and info.policy_applied == false then
    doubt(r, "policy_refused", "memory policy was not applied (%s): pages are where first touch "
         .. "put them", tostring(info.policy_note or "refused"))
  end
  if size_error then
    doubt(r, "page_sizes_unknown", "the page sizes that back the buffer could not be read: %s",
          size_error)
  end
  check_huge(r, p)
  return p
end

-- Allocates memory for a benchmark on node (bind), not populated unless
-- hugetlb pages require it: the benchmark's own threads touch it first.
local function alloc(size, node, huge, populate)
  local opts = { node = node }
  if huge ~= nil then opts.huge = huge end
  opts.populate = populate or huge == "2M" or huge == "1G"
  return memory.alloc(size, opts)
end

-- The memory a benchmark of p.size bytes measures: the caller's buffer (a
-- view of its first p.size bytes where it is larger), else a new one on
-- p.node with p.huge.  nil, message, code when it cannot be had.
local function buffer_for(p, user_buf)
  if not user_buf then return alloc(p.size, p.node, p.huge) end
  if p.size < user_buf:size() then return user_buf:view(0, p.size) end
  return user_buf
end

local function progress_fn(enabled, label)
  if enabled == nil then enabled = core.isatty(2) end
  if not enabled then return function() end end
  return function(i, n, what)
    if i == nil then
      io.stderr:write("\r\27[K")
    else
      io.stderr:write(("\r\27[K[lnuma] %s %d/%d %s"):format(label, i, n, what or ""))
    end
    io.stderr:flush()
  end
end

-- The CPU caches a thread on cpu sees (data and unified), smallest first.
local function caches_of(topo, cpu)
  local out = {}
  for _, c in ipairs(topo.caches or {}) do
    if c.type ~= "instruction" and (cpu == nil or contains(c.cpus, cpu)) then
      out[#out + 1] = { level = c.level, size = c.size, type = c.type }
    end
  end
  table.sort(out, function(a, b) return a.level < b.level end)
  return out
end

local function first_allowed_cpu(topo)
  local c = topo.allowed.cpus[1]
  return c
end

U.KERNELS = { "read", "write", "write_nt", "copy", "copy_nt", "triad" }
U.ISAS = { "auto", "c", "sse2", "avx2", "avx512" }
U.PATTERNS = { "random", "uniform", "sequential", "stride" }

U.policy_nodes = policy_nodes
U.machine = machine
U.contains = contains
U.node_info = node_info
U.node_list = node_list
U.check_node = check_node
U.cpu_node = cpu_node
U.allowed_cpus_of = allowed_cpus_of
U.sorted = sorted
U.quantile = quantile
U.stats = stats
U.clock_info = clock_info
U.new_result = new_result
U.warn = warn
U.doubt = doubt
U.adopt = adopt
U.check_pinning = check_pinning
U.numa_balancing_warning = numa_balancing_warning
U.placement = placement
U.alloc = alloc
U.buffer_for = buffer_for
U.progress_fn = progress_fn
U.caches_of = caches_of
U.first_allowed_cpu = first_allowed_cpu
U.default_bandwidth_size = require("lnuma.llc").bandwidth_size

return U
