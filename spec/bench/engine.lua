-- make bench: the example engine's one-way latency feed -> strategy with the
-- plan's placement (examples/host/engine.lua) against the same run with both
-- threads on one CPU and with its memory interleaved over every node, as
-- ratios of p50 and p99 (variant / planned; above 1 means the plan wins).
-- Each variant runs REPS times interleaved with the others; the median run
-- (by p50) counts.  Figures go to stdout, which the runner appends to the
-- results file.
local json = require "dkjson"

local build = os.getenv("LNUMA_BUILD") or "build"
local MESSAGES = tonumber(os.getenv("LNUMA_ENGINE_MESSAGES")) or 200000
local REPS = tonumber(os.getenv("LNUMA_ENGINE_REPS")) or 5

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1", "r"))
  local out = p:read("a")
  local ok = p:close()
  return ok, out
end

local ok, out = sh(("make -s examples BUILD=%s"):format(build))
if not ok then error("make examples failed:\n" .. out) end

local f = assert(io.open("examples/host/engine.lua"))
local base = f:read("a")
f:close()

-- A variant is the example plan, computed as usual, then changed.
local CHANGES = {
  planned = "",
  one_cpu = "for _, t in ipairs(plan.threads) do t.cpus = plan.threads[1].cpus end",
  interleaved = [[
    local all = {}
    for _, n in ipairs(topology.nodes) do
      if not n.memory_only then all[#all + 1] = n.os_index end
    end
    for _, r in ipairs(plan.memory) do r.node = all; r.policy = "interleave" end
  ]],
}
local ORDER = { "planned", "one_cpu", "interleaved" }
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))
local paths = {}
for name, change in pairs(CHANGES) do
  paths[name] = ("%s/%s.lua"):format(dir, name)
  local w = assert(io.open(paths[name], "w"))
  w:write("local plan = (function()\n", base, "\nend)()\n", change, "\nreturn plan\n")
  w:close()
end

local runs = {}
for _ = 1, REPS do
  for _, name in ipairs(ORDER) do
    local okr, text = sh(("examples/host/engine %s --messages %d --json"):format(paths[name],
                                                                              MESSAGES))
    if not okr then error(name .. ": " .. text) end
    local v = assert(json.decode(text:match("({.*})%s*$")))
    runs[name] = runs[name] or {}
    table.insert(runs[name], v)
  end
end
os.execute("rm -rf " .. dir)

local median = {}
for name, list in pairs(runs) do
  table.sort(list, function(a, b) return a.latency.p50 < b.latency.p50 end)
  median[name] = list[(#list + 1) // 2]
end

local p = median.planned
print(("# engine: %d messages per run, %d runs per variant, window 1, clock %s")
  :format(MESSAGES, REPS, p.clock))
for _, t in ipairs(p.threads) do
  print(("# planned: thread %s on CPU %d (node %d)"):format(t.name, t.cpu_seen, t.node_seen))
end
for _, name in ipairs(ORDER) do
  local l = median[name].latency
  print(("engine_%s_p50 %d ns"):format(name, l.p50))
  print(("engine_%s_p99 %d ns"):format(name, l.p99))
  print(("engine_%s_p999 %d ns"):format(name, l.p999))
end
for _, name in ipairs { "one_cpu", "interleaved" } do
  local l = median[name].latency
  print(("engine_ratio_%s_vs_planned_p50 %.2f x"):format(name, l.p50 / p.latency.p50))
  print(("engine_ratio_%s_vs_planned_p99 %.2f x"):format(name, l.p99 / p.latency.p99))
end
