--- Text, CSV and SVG of an `lnuma.exec` result: how the program ended, its
-- times and faults, where its pages were against where they were asked,
-- the CPUs it ran on, and its THP.
-- @module lnuma.report.exec

local text = require "lnuma.report.text"

local M = {}

local size = text.size
local fmt = string.format

-- The fields of an exec result the renderers read, in lnuma.report.check's
-- schema language (a tampered JSON file gets one message naming the field).
local function opt(x) return { opt = x } end
local function list_of(x) return { list = x } end
local function rec(f) return { fields = f } end
local NUM, INT, STR, BOOL = "number", "integer", "string", "boolean"
local BY_NODE = opt(list_of(rec { node = INT, bytes = NUM }))
M.SHAPE = {
  command = list_of(STR),
  exit = rec { code = INT, signal = opt(STR), core_dumped = opt(BOOL), timed_out = opt(BOOL) },
  wall_ns = NUM, user_ns = opt(NUM), system_ns = opt(NUM), minor_faults = opt(NUM),
  major_faults = opt(NUM), max_rss_bytes = opt(NUM), threads_max = opt(INT),
  cpus_allowed = opt(list_of(INT)),
  parameters = opt(rec { policy = opt(STR), nodes = opt(list_of(INT)), cpus = opt(list_of(INT)) }),
  placement = rec {
    held = opt(BOOL), fraction = opt(NUM), samples = opt(INT), sampling_ns = opt(NUM),
    pages_by_node = BY_NODE, all_by_node = BY_NODE, peak_by_node = BY_NODE,
    mappings = opt(list_of(rec { address = STR, kind = STR, bytes = NUM, policy = STR,
                              path = opt(STR), by_node = BY_NODE })),
  },
  huge = opt(rec { asked = STR, anon_huge_bytes = opt(NUM), verified = opt(BOOL),
                   thp_mode = opt(STR), method = opt(STR) }),
}

local function ms(ns) return ns and fmt("%.1f ms", ns / 1e6) or "-" end

local function nodes_text(list)
  local parts = {}
  for _, e in ipairs(list or {}) do
    parts[#parts + 1] = fmt("node %d: %s", e.node, size(e.bytes))
  end
  return #parts > 0 and table.concat(parts, ", ") or "none seen"
end

local function cpus_text(list)
  return list and #list > 0 and require("lnuma.core").cpulist(list) or "-"
end

--- How a run ended: "exit 0", "exit 3", "killed by SIGKILL (timed out)".
-- @tparam table r an exec result
-- @treturn string
function M.ending(r)
  local e = r.exit or {}
  if e.signal then
    return fmt("killed by %s%s%s", e.signal, e.core_dumped and " (core dumped)" or "",
               e.timed_out and " (timed out)" or "")
  end
  return fmt("exit %s%s", tostring(e.code), e.timed_out and " (timed out)" or "")
end

local function asked_text(r)
  local p = r.parameters or {}
  if not p.policy or p.policy == "default" then return "default policy (first touch)" end
  if not p.nodes or #p.nodes == 0 then return p.policy end
  return fmt("%s %s %s", p.policy, #p.nodes == 1 and "node" or "nodes", cpus_text(p.nodes))
end

local function held_text(p)
  if p.held == nil then return "not checked" end
  if p.held then return "held" end
  return fmt("DID NOT HOLD (%.1f%% on the nodes asked)", (p.fraction or 0) * 100)
end

--- The readable summary (what `lnuma exec` prints on stderr).
-- @tparam table r an exec result
-- @treturn string
function M.text(r)
  local p = r.placement or {}
  local out = {}
  out[#out + 1] = "lnuma exec: " .. table.concat(r.command or {}, " ")
  out[#out + 1] = fmt("  %s   wall %s   user %s   system %s", M.ending(r), ms(r.wall_ns),
                      ms(r.user_ns), ms(r.system_ns))
  out[#out + 1] = fmt("  page faults %s minor, %s major   peak RSS %s   threads %s",
                      tostring(r.minor_faults), tostring(r.major_faults),
                      size(r.max_rss_bytes or 0), tostring(r.threads_max))
  out[#out + 1] = fmt("  CPUs: ran on %s (allowed %s)%s", cpus_text(r.cpus_ran),
                      cpus_text(r.cpus_allowed),
                      r.parameters and r.parameters.cpus and
                        ("; asked " .. cpus_text(r.parameters.cpus)) or "")
  out[#out + 1] = fmt("  memory: %s: %s", asked_text(r), held_text(p))
  out[#out + 1] = "    program memory by node: " .. nodes_text(p.pages_by_node)
  out[#out + 1] = "    with file pages:        " .. nodes_text(p.all_by_node)
  out[#out + 1] = "    largest single sample:  " .. nodes_text(p.peak_by_node)
  out[#out + 1] = fmt("    %d sample%s of numa_maps, %s each", p.samples or 0,
                      p.samples == 1 and "" or "s",
                      ms(p.samples and p.samples > 0 and (p.sampling_ns or 0) // p.samples or 0))
  local h = r.huge
  if h and h.asked ~= "default" then
    out[#out + 1] = fmt("  THP: asked %s; AnonHugePages up to %s (%s); THP mode %s",
                        h.asked, h.anon_huge_bytes and size(h.anon_huge_bytes) or "unknown",
                        h.verified == nil and "unverified"
                          or (h.verified and "as asked" or "not as asked"),
                        tostring(h.thp_mode))
    if h.method then out[#out + 1] = "    " .. h.method end
  end
  if p.mappings and #p.mappings > 0 then
    local rows = {}
    for _, m in ipairs(p.mappings) do
      rows[#rows + 1] = { m.address, m.kind, size(m.bytes), nodes_text(m.by_node), m.policy,
                          m.path or "" }
    end
    out[#out + 1] = "  largest mappings:"
    out[#out + 1] = text.table({ "address", "kind", "size", "where", "policy", "file" }, rows,
                               { indent = "    ", align = { "l", "l", "r", "l", "l", "l" } })
  end
  for _, w in ipairs(r.warnings or {}) do out[#out + 1] = "  warning: " .. w end
  return table.concat(out, "\n")
end

--- Bytes per node as a table: the program's memory, with file pages, and
-- the largest single sample.
-- @tparam table r an exec result
-- @treturn table headers
-- @treturn table rows
function M.rows(r)
  local p = r.placement or {}
  local rows, by = {}, {}
  local function add(list, col)
    for _, e in ipairs(list or {}) do
      by[e.node] = by[e.node] or { e.node, 0, 0, 0 }
      by[e.node][col] = e.bytes
    end
  end
  add(p.pages_by_node, 2)
  add(p.all_by_node, 3)
  add(p.peak_by_node, 4)
  local nodes = {}
  for n in pairs(by) do nodes[#nodes + 1] = n end
  table.sort(nodes)
  for _, n in ipairs(nodes) do rows[#rows + 1] = by[n] end
  return { "node", "bytes", "bytes_with_files", "peak_sample_bytes" }, rows
end

--- The same as CSV text.
-- @tparam table r an exec result
-- @treturn string
function M.csv(r) return text.csv_lines(M.rows(r)) end

--- Bars of the program's bytes per node, the nodes asked marked.
-- @tparam table r an exec result
-- @treturn string SVG text
function M.svg(r)
  -- Loaded here: a C host embeds lnuma without the SVG renderers.
  local svg = require("lnuma.report.svg").util
  local p = r.placement or {}
  local list = p.pages_by_node or {}
  local asked = {}
  for _, n in ipairs(r.parameters and r.parameters.nodes or {}) do asked[n] = true end
  local w, h = 620, 340
  local x0, x1, y0, y1 = 40, w - 30, 80, h - 50
  local hi = 1
  for _, e in ipairs(list) do hi = math.max(hi, e.bytes) end
  local body = {}
  body[#body + 1] = svg.label(16, 44, fmt("%s; %s, wall %s; %s", asked_text(r), M.ending(r),
                                          ms(r.wall_ns), held_text(p)), 'fill="#555555"')
  body[#body + 1] = svg.label(16, 62, table.concat(r.command or {}, " "), 'fill="#555555"')
  local bw = (x1 - x0) / math.max(#list, 1)
  for i, e in ipairs(list) do
    local x, bh = x0 + (i - 1) * bw, (y1 - y0) * e.bytes / hi
    local colour = (next(asked) == nil or asked[e.node]) and "#6baed6" or "#d62728"
    body[#body + 1] = fmt('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s">'
                          .. '<title>%s</title></rect>\n', x + bw * 0.15, y1 - bh, bw * 0.7, bh,
                          colour, svg.esc(fmt("node %d: %s", e.node, size(e.bytes))))
    body[#body + 1] = svg.label(x + bw / 2, y1 + 18, "node " .. e.node, 'text-anchor="middle"')
    body[#body + 1] = svg.label(x + bw / 2, y1 - bh - 6, size(e.bytes), 'text-anchor="middle"')
  end
  body[#body + 1] = fmt('<path d="M%d %dH%d" stroke="#000000"/>\n', x0, y1, x1)
  return svg.document(w, h, "Program memory by node (red: not a node asked)", body)
end

return M
