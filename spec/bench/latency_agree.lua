-- make bench: lnuma.bench.latency against an independent pointer chaser
-- (spec/bench/tools/chaser.c: its own mapping, shuffle, RNG and clock), for
-- the "uniform" and "random" patterns, at an L1, an L2, a last-level-cache
-- and a DRAM size (16 KiB, half the L2, half the last-level cache, four
-- times it), with 4 KiB pages and with transparent huge pages.  The two
-- alternate on the same CPU for several rounds (each round a new buffer and a
-- new chase on both sides); each side's figure is the median of its rounds'
-- medians, and the pair agrees when their ratio is within 3%.  Also printed:
-- the median of the rounds' paired ratios (less moved by a neighbour that
-- starts or stops between rounds) and the ratio of the best windows.  Lines
-- are "name value unit" (the runner appends them to the results file).
--
-- Environment: LNUMA_AGREE_ROUNDS (default 15), LNUMA_AGREE_SIZES (a subset of
-- "L1,L2,LLC,DRAM"), LNUMA_BENCH_L2 / LNUMA_BENCH_LLC (cache sizes, such as
-- "1M", where the topology does not report them: virtual machines often do not).
local lnuma = require "lnuma"

local BUILD = os.getenv("BUILD") or "build"
-- 15 rounds: with 4 KiB pages each new buffer lands on other physical
-- pages, and a round's figure moves with them (L2-sized: 4.5 or 5.0 ns, in
-- both tools; DRAM uniform: 276-376 ns), which 9 rounds did not average out.
local ROUNDS = math.tointeger(tonumber(os.getenv("LNUMA_AGREE_ROUNDS") or "")) or 15
local TOLERANCE = 0.03
-- More rounds where a side's own rounds scatter widely: until the standard
-- error of each side's median (1.2533 * 1.4826 * MAD / sqrt(n), relative) is
-- at most 1%, so that two medians of one true value fall within 3% of each
-- other, up to MAX_ROUNDS.  The rule looks at each side's scatter alone,
-- never at whether the two agree.  (DRAM, uniform, 4 KiB pages: rounds from
-- 300 to 370 ns in both tools, the medians of 15 rounds 6% apart one run
-- and 4% the other way the next, the paired ratios 0.985 and 1.006.)
local MAX_ROUNDS = 3 * ROUNDS
local SE_TARGET = 0.01
-- About 100 ms of timed chase on each side, in windows of the same length
-- (the median of short windows filters more disturbances than that of long
-- ones): lnuma at its defaults, 5 repetitions of 32 chunks of 20/32 ms, and
-- the chaser 161 chains of 0.625 ms.
local CHASER_OPTS = "-r 161 -t 0.625"
local KIB, MIB = 1024, 1024 * 1024

local function line(name, value, unit)
  print(("%-40s %12s %s"):format(name, type(value) == "number" and ("%.3f"):format(value)
    or tostring(value), unit or ""))
  io.stdout:flush()
end

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  return ok, out
end

-- The chaser is standalone C: built here with the project's warnings, no lnuma.
local CHASER = BUILD .. "/bench/chaser"
do
  local ok, out = sh(("mkdir -p %s/bench && cc -std=c11 -O2 -Wall -Wextra -Wshadow "
    .. "-Wmissing-prototypes -Wstrict-prototypes -Wundef -Wwrite-strings -Werror "
    .. "spec/bench/tools/chaser.c -o %s"):format(BUILD, CHASER))
  if not ok then
    io.stderr:write(out)
    error("latency_agree: the chaser does not build")
  end
end

-- ---- sizes ----------------------------------------------------------------------

local topo = assert(lnuma.topology())
local CPU = topo.allowed.cpus[1]

local function cache_size(level)
  local best
  for _, c in ipairs(topo.caches or {}) do
    if c.type ~= "instruction" and c.level == level then
      for _, x in ipairs(c.cpus) do
        if x == CPU then best = c.size end
      end
    end
  end
  return best
end

local function last_level()
  local best
  for level = 2, 4 do best = cache_size(level) or best end
  return best
end

-- A cache size from the topology, else the environment, else an assumption
-- (said on the output, so the figure is read for what it is).
local function size_of(what, from_topo, env, assumed)
  if from_topo then return from_topo, "topology" end
  local v = os.getenv(env)
  if v then return lnuma.size(v), env end
  print(("# %s size: the topology reports none; assuming %s (set %s)"):format(what,
    lnuma.report.size(assumed), env))
  return assumed, "assumed"
end

local l2 = size_of("L2", cache_size(2), "LNUMA_BENCH_L2", MIB)
local llc = size_of("last-level cache", cache_size(3) and last_level(), "LNUMA_BENCH_LLC",
                    32 * MIB)
-- DRAM: four times the last-level cache (a power of two, at least 64 MiB),
-- well past the TLB's reach with 4 KiB pages; 1 GiB chases take minutes to
-- build on both sides, round after round.
local dram = 64 * MIB
while dram < 4 * llc do dram = dram * 2 end
local LEVELS = {
  { name = "L1", size = 16 * KIB },
  { name = "L2", size = l2 // 2 },
  { name = "LLC", size = llc // 2 },
  { name = "DRAM", size = dram },
}
local wanted = os.getenv("LNUMA_AGREE_SIZES")
if wanted then
  local keep = {}
  for _, lv in ipairs(LEVELS) do
    if (","..wanted..","):find(","..lv.name..",", 1, true) then keep[#keep + 1] = lv end
  end
  LEVELS = keep
end

-- ---- the two sides ------------------------------------------------------------

-- Each round runs lnuma in a process of its own, as the chaser runs: a
-- buffer freed and allocated again in one process tends to get the same
-- physical pages back, and in a VM some of those are slower than others
-- (host page size, cache sharing), so a long-lived process kept its luck
-- round after round (1 MiB on THP: 7.7 ns for ten rounds, 5.0 ns in the
-- chaser's fresh processes beside it).  In fresh processes both sides draw
-- their pages alike.
local LNUMA_SIDE = os.tmpname()
do
  local f = assert(io.open(LNUMA_SIDE, "w"))
  f:write([=[
local lnuma = require "lnuma"
local pattern, size, page, cpu, seed = arg[1], tonumber(arg[2]), arg[3], tonumber(arg[4]),
  tonumber(arg[5])
local buf = assert(lnuma.alloc(size, { huge = page == "thp" and "thp" or false }))
local r = assert(lnuma.bench.latency { buffer = buf, pattern = pattern, cpu = cpu, seed = seed })
io.write(("ns=%.17g best=%.17g thp=%d cpu=%d\n"):format(r.latency_ns, r.chunks.min,
  buf:placement().huge_bytes or -1, r.cpus_ran[1]))
]=])
  f:close()
end
local LUA = os.getenv("LUA") or "lua5.4"

local function key_values(out)
  local kv = {}
  for k, v in out:gmatch("([%w_]+)=(%S+)") do kv[k] = v end
  return kv
end

local function run_lnuma(pattern, size, page, seed)
  local ok, out = sh(("%s %s %s %d %s %d %d"):format(LUA, LNUMA_SIDE, pattern, size, page, CPU,
    seed))
  local kv = key_values(out)
  if not ok or not kv.ns then error("lnuma side failed: " .. out) end
  return { ns = tonumber(kv.ns), best = tonumber(kv.best), thp = tonumber(kv.thp),
           cpu = tonumber(kv.cpu) }
end

local function run_chaser(pattern, size, page, seed)
  local ok, out = sh(("%s -m %d -p %s -P %s -c %d -s %d %s"):format(CHASER, size, pattern,
    page, CPU, seed, CHASER_OPTS))
  local kv = key_values(out)
  if not ok or not kv.median_ns then error("chaser failed: " .. out) end
  return { ns = tonumber(kv.median_ns), best = tonumber(kv.min_ns), thp = tonumber(kv.thp_bytes),
           cpu = tonumber(kv.cpu_end) }
end

local function median(values)
  return lnuma.bench.stats(values).median
end

-- The relative standard error of the median of values, from their MAD.
local function median_se(values)
  local m = median(values)
  local dev = {}
  for i, v in ipairs(values) do dev[i] = math.abs(v - m) end
  return 1.2533 * 1.4826 * median(dev) / math.sqrt(#values) / m
end

local function fmt_list(values)
  local t = {}
  for i, v in ipairs(values) do t[i] = ("%.2f"):format(v) end
  return table.concat(t, "/")
end

-- ---- the comparison -------------------------------------------------------------

print(("# latency agreement: lnuma.bench.latency vs spec/bench/tools/chaser.c on CPU %d, "
  .. "%d to %d rounds (alternating, a new buffer and chase each; more where a side's median "
  .. "has a standard error above %.0f%%), 3%% tolerance"):format(CPU, ROUNDS, MAX_ROUNDS,
  100 * SE_TARGET))
local summary, all_ok = {}, true
for _, lv in ipairs(LEVELS) do
  for _, page in ipairs({ "4k", "thp" }) do
    for _, pattern in ipairs({ "uniform", "random" }) do
      local a, b, best_a, best_b, ratios, thp_a, thp_b, cpus = {}, {}, {}, {}, {}, {}, {}, {}
      for round = 1, MAX_ROUNDS do
        if round > ROUNDS and median_se(a) <= SE_TARGET and median_se(b) <= SE_TARGET then
          break
        end
        local seed = 1000 + round
        local x, y
        if round % 2 == 1 then
          x = run_lnuma(pattern, lv.size, page, seed)
          y = run_chaser(pattern, lv.size, page, seed)
        else
          y = run_chaser(pattern, lv.size, page, seed)
          x = run_lnuma(pattern, lv.size, page, seed)
        end
        a[round], b[round], ratios[round] = x.ns, y.ns, x.ns / y.ns
        best_a[round], best_b[round] = x.best, y.best
        thp_a[round], thp_b[round] = x.thp or -1, y.thp or -1
        cpus[x.cpu or -1], cpus[y.cpu or -1] = true, true
      end
      local ma, mb = median(a), median(b)
      local ratio = ma / mb
      local ok = math.abs(ratio - 1) <= TOLERANCE
      all_ok = all_ok and ok
      local rs = lnuma.bench.stats(ratios)
      local best = math.min(table.unpack(best_a)) / math.min(table.unpack(best_b))
      local name = ("agree.%s.%s.%s"):format(pattern, lv.name, page)
      local cpu_list = {}
      for c in pairs(cpus) do cpu_list[#cpu_list + 1] = c end
      table.sort(cpu_list)
      local thp_note = ("THP %.0f%%/%.0f%% of %s"):format(
        100 * median(thp_a) / lv.size, 100 * median(thp_b) / lv.size, lnuma.report.size(lv.size))
      line(name .. ".rounds", #a, ("rounds (standard error of the median: lnuma %.2f%%, "
        .. "chaser %.2f%%)"):format(100 * median_se(a), 100 * median_se(b)))
      line(name .. ".lnuma", ma, "ns  rounds " .. fmt_list(a))
      line(name .. ".chaser", mb, "ns  rounds " .. fmt_list(b))
      line(name .. ".ratio", ratio, ("x (lnuma / chaser, medians) %s; paired ratios %.3f "
        .. "[%.3f..%.3f]; best %.3f; %s; CPUs %s"):format(ok and "within 3%" or "NOT within 3%",
        rs.median, rs.min, rs.max, best, thp_note, table.concat(cpu_list, ",")))
      summary[#summary + 1] = ("# %-4s %-5s %-3s %-7s %9.2f %9.2f %7.3f %7.3f %7.3f %6d  %s")
        :format(lv.name, lnuma.report.size(lv.size), page, pattern, ma, mb, ratio, rs.median,
        best, #a, ok and "yes" or "NO")
    end
  end
end
print("# level size  page pattern  lnuma ns chaser ns   ratio  paired    best rounds  within 3%")
for _, s in ipairs(summary) do print(s) end
line("agree.all_within_3pct", all_ok and 1 or 0, all_ok and "yes" or "no")
os.remove(LNUMA_SIDE)
