--- Page migration speed, as numactl's migspeed (`lnuma.bench.migration`).
-- @module lnuma.bench.migration

local U = require "lnuma.bench.util"
local O = require "lnuma.options"

local max = math.max

local M = {}

--- Page migration speed: pages per second `move_pages` moves from one node
-- to another (what numactl's migspeed measures).
-- @tparam table opts `size` ("64M"), `from` and `to` (nodes; default the
--   first and the last node), `huge`, `repetitions` (3)
-- @treturn table result with `pages_per_s` (median), `gbps`, `stats`,
--   `moved`, `pages`, `placement` (after the move, against `to`), `warnings`
function M.migration(opts)
  local o = O.check_opts("migration", opts, { size = true, from = true, to = true,
                                             huge = true, repetitions = true })
  local topo, msg, code = U.machine()
  if not topo then return nil, msg, code end
  local nodes = U.node_list(topo)
  local p = {
    size = O.opt_size("migration", o, "size", 64 * U.MIB),
    huge = O.opt_huge("migration", o),
    repetitions = O.opt_int("migration", o, "repetitions", 3, 1, 1000),
  }
  p.from = o.from ~= nil and U.check_node("migration", topo, "from", o.from) or nodes[1]
  p.to = o.to ~= nil and U.check_node("migration", topo, "to", o.to) or nodes[#nodes]
  local r = U.new_result("migration", p, {
    pages_per_s = "pages per second", gbps = "GB/s (1e9 bytes/s)", size = "bytes",
    repetitions = "pages per second",
  })
  for k, v in pairs(p) do r[k] = v end
  if p.from == p.to then
    U.warn(r, "from and to are the same node (%d): no page can move, so no speed is measured",
         p.from)
  end
  local reps, moved, pages, last_buf = {}, 0, 0, nil
  for i = 1, p.repetitions do
    local buf, amsg, acode = U.alloc(p.size, p.from, p.huge, true)
    if not buf then return nil, amsg, acode end
    local res, mmsg, mcode = buf:migrate(p.to)
    if not res then
      buf:free()
      return nil, mmsg, mcode
    end
    -- Pages moved per second of move_pages (0 when none had to move).
    reps[i] = res.moved > 0 and res.moved / max(res.elapsed_ns or 0, 1) * 1e9 or 0
    moved, pages = res.moved, res.pages
    if res.failed and res.failed > 0 then
      U.doubt(r, "pages_not_moved", "repetition %d: %d pages could not be moved", i, res.failed)
    end
    if last_buf then last_buf:free() end
    last_buf = buf
  end
  r.placement = U.placement(r, last_buf, { { offset = 0, length = p.size, node = p.to } })
  r.page_size = r.placement.page_size
  last_buf:free()
  r.repetitions, r.stats = reps, U.stats(reps)
  r.pages_per_s = r.stats.median
  r.gbps = r.pages_per_s * (r.page_size or 4096) / 1e9
  r.moved, r.pages = moved, pages
  return r
end

return M
