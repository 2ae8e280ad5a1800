-- make bench: lnuma's bandwidth kernels beside likwid-bench (the best
-- variant of the same operation) and mbw, on the same sizes and thread
-- counts, in the same command; and the DRAM latency at 1 GiB with 4 KiB pages
-- and with transparent huge pages, with its run-to-run spread.  Prints
-- "name value unit" lines and ratios (the runner appends them to the results
-- file).  Ratios > 1 mean lnuma is faster.
local lnuma = require "lnuma"

local SIZE = 2000000000            -- likwid's "2GB" (10^9 bytes): all arrays together
local REPS = 5
local topo = lnuma.topology()
local cpus = topo.allowed.cpus
local THREADS = { 1 }
if #cpus > 1 then THREADS[2] = #cpus end

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  return ok, out
end

local function have(cmd) return (sh("command -v " .. cmd .. " >/dev/null")) end

local function line(name, value, unit)
  print(("%-44s %12s %s"):format(name, type(value) == "number" and ("%.3f"):format(value)
    or tostring(value), unit or ""))
  io.stdout:flush()
end

-- lnuma kernel -> the likwid-bench kernels of the same operation (STREAM
-- byte counting in both: every stream once, no write-allocate).
local LIKWID = {
  read = { "load", "load_sse", "load_avx", "load_avx512", "load_mem" },
  write = { "store", "store_sse", "store_avx", "store_avx512" },
  write_nt = { "store_mem", "store_mem_sse", "store_mem_avx", "store_mem_avx512" },
  copy = { "copy", "copy_sse", "copy_avx", "copy_avx512" },
  copy_nt = { "copy_mem", "copy_mem_sse", "copy_mem_avx", "copy_mem_avx512" },
  triad = { "stream", "stream_sse", "stream_avx", "stream_avx512", "stream_sse_fma",
            "stream_avx_fma", "stream_avx512_fma" },
}
local ORDER = { "read", "write", "write_nt", "copy", "copy_nt", "triad" }

local available = {}
if have("likwid-bench") then
  local _, list = sh("likwid-bench -a")
  for name in list:gmatch("([%w_]+) %- ") do available[name] = true end
end

-- GB/s (1e9 bytes/s) of one likwid-bench run, or nil.
local function likwid(kernel, threads)
  local ok, out = sh(("likwid-bench -t %s -W N:%dB:%d"):format(kernel, SIZE, threads))
  local mbs = ok and out:match("MByte/s:%s*([%d.]+)")
  return mbs and tonumber(mbs) / 1000 or nil
end

local function lnuma_gbps(kernel, threads)
  local use = {}
  for i = 1, threads do use[i] = cpus[i] end
  local r = assert(lnuma.bench.bandwidth { kernel = kernel, size = SIZE, cpus = use,
                                           repetitions = REPS, min_time = 200000000 })
  for _, w in ipairs(r.warnings) do print("# warning: " .. w) end
  return r.gbps, r.stats.spread, r.isa
end

print(("# bandwidth: %s per run (all arrays), threads %s, GB/s = 1e9 bytes/s; lnuma: median "
       .. "of %d repetitions; likwid-bench: its own average over >= 1 s"):format(
       lnuma.report.size(SIZE), table.concat(THREADS, " and "), REPS))
print("# the machine is shared: two rounds, run in turn, best of the rounds for each tool "
      .. "(round 2 re-runs lnuma and the two best likwid variants)")
if not next(available) then print("# likwid-bench not found: make deps-bench installs it") end
local worst
for _, threads in ipairs(THREADS) do
  for _, k in ipairs(ORDER) do
    local g, spread, isa = lnuma_gbps(k, threads)
    local lk_best = {}
    for _, lk in ipairs(LIKWID[k]) do
      if available[lk] then lk_best[lk] = likwid(lk, threads) end
    end
    -- Round 2: lnuma again, and the two best likwid variants of round 1.
    local ranked = {}
    for lk, v in pairs(lk_best) do ranked[#ranked + 1] = { lk, v } end
    table.sort(ranked, function(x, y) return x[2] > y[2] end)
    local g2, spread2 = lnuma_gbps(k, threads)
    if g2 > g then g, spread = g2, spread2 end
    for i = 1, math.min(2, #ranked) do
      local v = likwid(ranked[i][1], threads)
      if v and v > lk_best[ranked[i][1]] then lk_best[ranked[i][1]] = v end
    end
    line(("lnuma.%s.t%d (%s)"):format(k, threads, isa), g, ("GB/s  spread %.1f%%")
      :format(spread * 100))
    local best, best_name
    for _, lk in ipairs(LIKWID[k]) do
      if lk_best[lk] then
        line(("  likwid.%s.t%d"):format(lk, threads), lk_best[lk], "GB/s")
        if not best or lk_best[lk] > best then best, best_name = lk_best[lk], lk end
      end
    end
    if best then
      local ratio = g / best
      line(("ratio.%s.t%d (lnuma / likwid %s)"):format(k, threads, best_name), ratio, "x")
      if not worst or ratio < worst then worst = ratio end
    end
  end
end
if worst then line("ratio.min (lnuma / best likwid, all kernels)", worst, "x (target >= 1.0)") end

-- mbw: one thread copying between two arrays of N MiB, counting N MiB per
-- copy; STREAM counts the read and the write, so twice that.
if have("mbw") then
  local mib = 1024
  local ok, out = sh(("mbw -q -n 5 %d"):format(mib))
  local best, best_name = nil, nil
  if ok then
    -- The best single run of each method (mbw's average includes the first
    -- run's page faults): the harder target.
    local per = {}
    for l in out:gmatch("[^\n]+") do
      local run, method, rate = l:match("^(%d+)%s+Method:%s+(%S+).-Copy:%s+([%d.]+) MiB/s")
      if run then
        local g = tonumber(rate) * 1048576 * 2 / 1e9
        if not per[method] or g > per[method] then per[method] = g end
      end
    end
    for _, method in ipairs({ "MEMCPY", "DUMB", "MCBLOCK" }) do
      if per[method] then
        line(("  mbw.%s.t1 (best of 5, STREAM-counted)"):format(method:lower()), per[method],
             "GB/s")
        if not best or per[method] > best then best, best_name = per[method], method:lower() end
      end
    end
  end
  if best then
    local size = 2 * mib * 1048576
    local c = assert(lnuma.bench.bandwidth { kernel = "copy", size = size, cpus = { cpus[1] },
                                             repetitions = REPS, min_time = 200000000 })
    local cnt = assert(lnuma.bench.bandwidth { kernel = "copy_nt", size = size,
      cpus = { cpus[1] }, repetitions = REPS, min_time = 200000000 })
    line(("lnuma.copy.t1 (2 x %d MiB)"):format(mib), c.gbps, "GB/s")
    line(("lnuma.copy_nt.t1 (2 x %d MiB)"):format(mib), cnt.gbps, "GB/s")
    line(("ratio.copy.t1 (lnuma copy / mbw %s)"):format(best_name), c.gbps / best, "x")
    line(("ratio.copy_nt.t1 (lnuma copy_nt / mbw %s)"):format(best_name), cnt.gbps / best, "x")
  end
else
  print("# mbw not found: make deps-bench installs it")
end

-- DRAM latency at 1 GiB: three separate runs (new buffer, new chase) each of
-- the patterns, with 4 KiB pages and with THP; the run-to-run spread is
-- (max - min) / median of the runs' medians.
print("# latency: 1 GiB, 3 runs of 5 repetitions each")
for _, pattern in ipairs({ "random", "uniform" }) do
  local medians = {}
  for _, huge in ipairs({ false, "thp" }) do
    local runs = {}
    for i = 1, 3 do
      local r = assert(lnuma.bench.latency { size = "1G", huge = huge, pattern = pattern,
                                             repetitions = 5, min_time = 50000000 })
      runs[i] = r.latency_ns
    end
    local st = lnuma.bench.stats(runs)
    local name = ("latency.1G.%s.%s"):format(pattern, huge and "thp" or "4k")
    line(name, st.median, ("ns  runs %s  run-to-run spread %.2f%%"):format(
      table.concat((function()
        local t = {}
        for i, v in ipairs(runs) do t[i] = ("%.1f"):format(v) end
        return t
      end)(), "/"), (st.max - st.min) / st.median * 100))
    medians[#medians + 1] = st.median
  end
  line(("ratio.latency.1G.%s (4k / thp)"):format(pattern), medians[1] / medians[2], "x")
end
