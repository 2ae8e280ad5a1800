--- Per-buffer weights: the chunk pattern of `policy = "weighted"`, the proof
-- that a buffer's pages follow it, and the `"0:3,1:1"` notation of the CLI.
--
-- `lnuma.alloc(size, {policy = "weighted", weights = {[0] = 3, [1] = 1}})`
-- (also `lnuma.arena` and `lnuma.pool`; `weights` alone implies the policy)
-- cuts the buffer into chunks (the base page, or the huge page when `huge`
-- asks for one: 2 MiB for `"thp"`, so THP can still back them) and puts chunk
-- k on the node a smooth weighted round-robin picks k-th: 3:1 repeats
-- `0 0 1 0`, so every region of the buffer has the same mix and any
-- sum(weights) consecutive chunks hold it exactly.  Unlike the kernel's
-- `weighted_interleave` (one system-wide table in sysfs, root to change), the
-- weights belong to the buffer.  Caps: at most 64 nodes, weights are integers
-- 0..1000 (0: that node gets nothing), summing to more than 0; every node
-- named must exist and have memory.  Each run of chunks is faulted in by a
-- thread bound to its node, then the range is bound (mbind) to the nodes of
-- positive weight (one mapping, whatever the pattern); `buf:info()` carries
-- `weights` and `chunk_size`.
-- @module lnuma.weights

local core = require "lnuma.core"

local M = {}

local floor, abs = math.floor, math.abs

--- The node of each chunk, from the weights alone.
-- @function pattern
-- @tparam table weights `{[node] = weight, ...}`
-- @tparam[opt] integer count chunks (default: one period, the sum of the weights;
--   at most 1048576)
-- @tparam[opt] integer first the first chunk (0-based, default 0)
-- @treturn table array of node numbers
-- @usage lnuma.weights.pattern({[0] = 3, [1] = 1}) --> {0, 0, 1, 0}
M.pattern = core.weights_pattern

local function argerror(fname, n, msg, level)
  error(("bad argument #%d to '%s' (%s)"):format(n, fname, msg), level or 3)
end

-- A weight table as the core reads it (raises naming fname's argument 1).
local function check_weights(fname, w)
  if type(w) ~= "table" then
    argerror(fname, 1, "weights: a table {[node] = weight, ...} expected, got " .. type(w), 4)
  end
  local ok, err = pcall(core.weights_pattern, w, 1)
  if not ok then
    argerror(fname, 1, tostring(err):match("%((weights: .*)%)$") or tostring(err), 4)
  end
end

-- The weights as a sorted list of {node, weight}, and their sum.
local function entries(w)
  local list, total = {}, 0
  for node, weight in next, w do
    list[#list + 1] = { node = node, weight = weight }
    total = total + weight
  end
  table.sort(list, function(a, b) return a.node < b.node end)
  return list, total
end

--- Writes weights as the CLI reads them: `"0:3,1:1"`.
-- @tparam table weights `{[node] = weight, ...}`
-- @treturn string
function M.format(weights)
  check_weights("format", weights)
  local parts = {}
  for _, e in ipairs((entries(weights))) do parts[#parts + 1] = e.node .. ":" .. e.weight end
  return table.concat(parts, ",")
end

--- The mix as percentages of pages, in node order: `"75:25"` for 3:1.
-- @tparam table weights `{[node] = weight, ...}`
-- @treturn string
function M.ratio(weights)
  check_weights("ratio", weights)
  local list, total = entries(weights)
  local parts = {}
  for i, e in ipairs(list) do
    local pct = total > 0 and e.weight * 100 / total or 0
    parts[i] = pct == floor(pct) and ("%d"):format(floor(pct)) or ("%.1f"):format(pct)
  end
  return table.concat(parts, ":")
end

--- Reads `"0:3,1:1"` (node:weight pairs, comma separated) into a weight table.
-- The values are checked when the table is used (`lnuma.alloc`).
-- @tparam string text
-- @tparam[opt] string what the name errors give the text (default `"weights"`)
-- @treturn[1] table `{[node] = weight, ...}`
-- @return[2] nil
-- @treturn[2] string message naming what
function M.parse(text, what)
  what = what or "weights"
  if type(text) ~= "string" then
    return nil, ("%s: a string such as \"0:3,1:1\" expected, got %s"):format(what, type(text))
  end
  local w, any = {}, false
  for item in (text .. ","):gmatch("([^,]*),") do
    local node, weight = item:match("^%s*(%d+)%s*:%s*(%d+)%s*$")
    node, weight = math.tointeger(tonumber(node)), math.tointeger(tonumber(weight))
    if not node or not weight then
      return nil, ("%s: '%s' is not NODE:WEIGHT (e.g. \"0:3,1:1\")"):format(what, item)
    end
    if w[node] then return nil, ("%s: node %d is named twice"):format(what, node) end
    w[node], any = weight, true
  end
  if not any then return nil, what .. ": empty" end
  return w
end

--- Most points a sweep measures (`steps`, `lnuma.bench.weights`).
M.MAX_POINTS = 101

--- The weight vectors of a two-node sweep: `points` mixes from all on
-- `a` to all on `b` in equal steps (11 points: 100:0, 90:10, ... 0:100),
-- each written with the smallest integers (90:10 is 9:1).
-- @tparam integer a first node
-- @tparam integer b second node
-- @tparam integer points 2..101
-- @treturn table array of weight tables
function M.steps(a, b, points)
  for i, v in ipairs({ a, b }) do
    if math.type(v) ~= "integer" or v < 0 or v > 1023 then
      argerror("steps", i, "node number 0..1023 expected, got " .. tostring(v))
    end
  end
  if a == b then argerror("steps", 2, "the two nodes must differ") end
  if math.type(points) ~= "integer" or points < 2 or points > M.MAX_POINTS then
    argerror("steps", 3, ("points: an integer 2..%d expected, got %s"):format(M.MAX_POINTS,
             tostring(points)))
  end
  local out = {}
  local function gcd(x, y)
    while y ~= 0 do x, y = y, x % y end
    return x
  end
  for i = 0, points - 1 do
    local wa, wb = points - 1 - i, i
    local g = gcd(wa, wb)
    out[#out + 1] = { [a] = wa // g, [b] = wb // g }
  end
  return out
end

--- Checks page by page that a buffer allocated with `policy = "weighted"`
-- holds its pattern: the node of every page (move_pages) against the node
-- its chunk should be on, and the pages per node against the asked mix.
-- @tparam lnuma.Buffer buf a weighted buffer (or a view of one)
-- @treturn[1] table `{weights, ratio, chunk_size, page_size, pages, chunks,
--   pages_per_chunk, absent, by_node = {[node] = pages},
--   ideal = {[node] = pages the weights ask (fractional)},
--   deviation_pages (largest |by_node - ideal|), within_one_chunk (that
--   deviation is at most one chunk), misplaced (pages not on their chunk's
--   node), page_nodes_checked, ok (nothing misplaced or absent)}`
-- @return[2] nil when the buffer has no weights or its placement cannot be read
-- @treturn[2] string message
function M.check(buf)
  local kind = require("lnuma.options").type(buf)
  if kind ~= "buffer" then
    argerror("check", 1, "lnuma buffer expected, got " .. tostring(kind or type(buf)))
  end
  local info = buf:info()
  if not info.weights then
    return nil, ("the buffer has no weights (policy %s)"):format(tostring(info.policy))
  end
  local pl, msg, code = buf:placement { pages = true }
  if not pl then return nil, msg, code end
  local ps, chunk = pl.page_size, info.chunk_size
  local per_chunk = math.max(chunk // ps, 1)
  local list, total = entries(info.weights)
  local period = M.pattern(info.weights)
  -- Page numbers within the whole allocation (views start at their offset).
  local first = (info.offset or 0) // ps
  local misplaced, absent, by_node = 0, 0, {}
  for _, e in ipairs(list) do by_node[e.node] = 0 end
  for i, node in ipairs(pl.page_nodes) do
    local k = (first + i - 1) * ps // chunk
    if node < 0 then
      absent = absent + 1
    else
      by_node[node] = (by_node[node] or 0) + 1
      if node ~= period[k % total + 1] then misplaced = misplaced + 1 end
    end
  end
  local ideal, deviation = {}, 0
  for node in pairs(by_node) do
    ideal[node] = pl.pages * (info.weights[node] or 0) / total
    deviation = math.max(deviation, abs(by_node[node] - ideal[node]))
  end
  return {
    weights = info.weights, ratio = M.ratio(info.weights), chunk_size = chunk,
    page_size = ps, pages = pl.pages, chunks = (pl.pages + per_chunk - 1) // per_chunk,
    pages_per_chunk = per_chunk, absent = absent, by_node = by_node, ideal = ideal,
    deviation_pages = deviation, within_one_chunk = deviation <= per_chunk,
    misplaced = misplaced, page_nodes_checked = #pl.page_nodes,
    ok = misplaced == 0 and absent == 0,
  }
end

return M
