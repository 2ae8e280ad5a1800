--- Node-to-node latency and bandwidth matrices (`lnuma.bench.matrix`).
-- @module lnuma.bench.matrix

local U = require "lnuma.bench.util"
local O = require "lnuma.options"
local latency = require "lnuma.bench.latency"
local bandwidth = require "lnuma.bench.bandwidth"

local min = math.min

local M = {}

local MATRIX_KEYS = { metric = true, size = true, topology = true, plan = true,
                      repetitions = true, min_time = true, kernel = true, pattern = true,
                      huge = true, threads = true, progress = true }

--- What a matrix may cost: its cells, and the CPUs named in all its cells.
M.MAX_CELLS = 65536
M.MAX_CELL_CPUS = 1048576

-- Refuses a matrix larger than the limits, before a cell is made (a
-- synthetic machine of 1024 nodes would make a million cells).
local function check_cells(topo, rows, columns, row_cpus, metric, threads)
  local cells, cpus = #rows * #columns, 0
  for i = 1, #rows do
    cpus = cpus + #columns * (metric == "latency" and 1 or threads or #row_cpus[i])
  end
  local on = topo.source == "system" and "this machine"
    or ("%s '%s'"):format(tostring(topo.source), tostring(topo.origin))
  if cells > M.MAX_CELLS then
    O.argerror("matrix", "topology", ("%d x %d = %d cells on %s, more than a matrix may have "
             .. "(%d)"):format(#rows, #columns, cells, on, M.MAX_CELLS), 3)
  end
  if cpus > M.MAX_CELL_CPUS then
    O.argerror("matrix", threads and "threads" or "topology", ("%d cells of up to %d threads "
             .. "on %s name %d CPUs, more than a matrix may (%d)"):format(cells,
             cpus // math.max(cells, 1), on, cpus, M.MAX_CELL_CPUS), 3)
  end
end

--- The node-to-node matrix (as MLC's latency and bandwidth matrices): the
-- CPUs of node i (rows: nodes with CPUs this process may use) reading the
-- memory of node j (columns: every node, memory-only ones included).
-- @tparam table opts `metric` ("latency" (default) or "bandwidth"), `size`
--   (per cell; as `latency`'s and `bandwidth`'s defaults), `repetitions`, `min_time`,
--   `pattern` (latency), `kernel` and `threads` (bandwidth: threads per row
--   node, default all its allowed CPUs), `huge`, `progress`, `topology` (a
--   topology to plan on, such as `lnuma.topology{synthetic = ...}`) and
--   `plan` (true: return the cells without measuring)
-- @treturn table result with `rows` and `columns` (node numbers), `values`
--   (`values[i][j]`: row i, column j; ns or GB/s), `fractions` (placement
--   fraction of each cell), `cells` (who measured what, with each cell's
--   `scope` and `llc`), `scope` ("cache" where a cell's is, with `llc` the
--   largest such cell's cache; "memory" where every cell's is; else
--   "unknown": see `latency` and `bandwidth`), `warnings`
function M.matrix(opts)
  local o = O.check_opts("matrix", opts, MATRIX_KEYS)
  local metric = O.opt_choice("matrix", o, "metric", "latency", { "latency", "bandwidth" })
  local plan = O.opt_bool("matrix", o, "plan", false)
  local topo = o.topology
  if topo ~= nil then
    if type(topo) ~= "table" or type(topo.nodes) ~= "table" then
      O.argerror("matrix", "topology", "a topology (lnuma.topology{...}) expected")
    end
    if topo.source ~= "system" and not plan then
      O.argerror("matrix", "topology", "only this machine can be measured: pass plan = true to "
               .. "plan on another topology")
    end
  else
    local msg, code
    topo, msg, code = U.machine()
    if not topo then return nil, msg, code end
  end
  local allowed = topo.allowed or { cpus = {}, nodes = {} }
  local rows, columns, row_cpus = {}, {}, {}
  for _, n in ipairs(topo.nodes) do
    if U.contains(allowed.nodes, n.os_index) or #allowed.nodes == 0 then
      -- a node with CPUs and no memory (memoryless) is a row, never a column
      if n.memory ~= 0 then columns[#columns + 1] = n.os_index end
      local cpus = {}
      for _, c in ipairs(n.cpus or {}) do
        if U.contains(allowed.cpus, c) or #allowed.cpus == 0 then cpus[#cpus + 1] = c end
      end
      if #cpus > 0 then
        rows[#rows + 1] = n.os_index
        row_cpus[#rows] = cpus
      end
    end
  end
  local size = O.opt_size("matrix", o, "size", metric == "latency"
    and require("lnuma.llc").latency_size(topo) or U.default_bandwidth_size(topo))
  local threads = O.opt_int("matrix", o, "threads", nil, 1, 4096)
  check_cells(topo, rows, columns, row_cpus, metric, threads)
  local params = {
    metric = metric, size = size, rows = rows, columns = columns,
    repetitions = O.opt_int("matrix", o, "repetitions", metric == "latency" and 5 or 3, 1),
    min_time = O.opt_int("matrix", o, "min_time", metric == "latency" and 20000000 or 50000000, 0),
    pattern = O.opt_choice("matrix", o, "pattern", "random", U.PATTERNS),
    kernel = O.opt_choice("matrix", o, "kernel", "read", U.KERNELS),
    huge = O.opt_huge("matrix", o), threads = threads,
  }
  local r = U.new_result("matrix", params, {
    values = metric == "latency" and "ns per load" or "GB/s (1e9 bytes/s)", size = "bytes",
  })
  r.metric, r.size, r.rows, r.columns = metric, size, rows, columns
  r.values, r.fractions, r.cells = {}, {}, {}
  for i, node in ipairs(rows) do
    r.values[i], r.fractions[i] = {}, {}
    for j, mem in ipairs(columns) do
      local cpus = row_cpus[i]
      if metric == "latency" then cpus = { cpus[1] }
      elseif threads then
        local c = {}
        for k = 1, threads do c[k] = cpus[(k - 1) % #cpus + 1] end
        cpus = c
      end
      r.cells[#r.cells + 1] = { row = i, column = j, cpu_node = node, memory_node = mem,
                                cpus = cpus }
      r.values[i][j] = 0 / 0
      r.fractions[i][j] = 0 / 0
    end
  end
  if plan then
    r.planned = true
    return r
  end
  local show = U.progress_fn(o.progress, metric .. " matrix")
  local fraction_min = 1
  for k, cell in ipairs(r.cells) do
    show(k, #r.cells, ("node %d -> node %d"):format(cell.cpu_node, cell.memory_node))
    local res, msg, code
    if metric == "latency" then
      res, msg, code = latency.latency { size = size, node = cell.memory_node, cpu = cell.cpus[1],
        repetitions = params.repetitions, min_time = params.min_time,
        pattern = params.pattern, huge = params.huge }
      if res then cell.latency_ns = res.latency_ns end
    else
      res, msg, code = bandwidth.bandwidth { size = size, node = cell.memory_node, cpus = cell.cpus,
        kernel = params.kernel, repetitions = params.repetitions,
        min_time = params.min_time, huge = params.huge }
      if res then cell.gbps = res.gbps end
    end
    if not res then
      show()
      return nil, ("matrix cell node %d -> node %d: %s"):format(cell.cpu_node,
        cell.memory_node, tostring(msg)), code
    end
    local value = metric == "latency" and res.latency_ns or res.gbps
    r.values[cell.row][cell.column] = value
    local f = res.placement and res.placement.fraction or 0
    r.fractions[cell.row][cell.column] = f
    fraction_min = min(fraction_min, f)
    cell.cpus_ran, cell.spread, cell.fraction = res.cpus_ran, res.stats.spread, f
    cell.scope, cell.llc = res.scope, res.llc
    U.adopt(r, res, ("node %d -> node %d: "):format(cell.cpu_node, cell.memory_node))
  end
  show()
  r.placement = { fraction = fraction_min }
  -- The matrix is memory's where every cell is; one cell of cache makes it cache.
  r.scope = "memory"
  for _, cell in ipairs(r.cells) do
    if cell.scope == "cache" then
      r.scope, r.llc = "cache", math.max(r.llc or 0, cell.llc)
    elseif cell.scope ~= "memory" and r.scope == "memory" then
      r.scope = "unknown"
    end
  end
  local ran = {}
  for _, cell in ipairs(r.cells) do
    for _, c in ipairs(cell.cpus_ran or {}) do
      if not U.contains(ran, c) then ran[#ran + 1] = c end
    end
  end
  table.sort(ran)
  r.cpus_ran = ran
  return r
end

return M
