-- make bench: lnuma's bandwidth kernels beside likwid-bench (the best
-- variant of the same operation) and mbw, on the same sizes and thread
-- counts, in the same command; and the DRAM latency at 1 GiB with 4 KiB pages
-- and with transparent huge pages, with its run-to-run spread.  Prints
-- "name value unit" lines and ratios (the runner appends them to the results
-- file).  Ratios > 1 mean lnuma is faster.
--
-- Bandwidth: every kernel, at 1 thread and at all allowed CPUs, on the
-- AVX-512 path (against every likwid variant) and on the AVX2 path (isa =
-- "avx2", against likwid's scalar, SSE and AVX variants), lnuma with order =
-- "auto" against likwid's best variant, in alternating pairs.
-- LNUMA_BENCH_KERNELS="read triad" narrows the kernels, LNUMA_BENCH_THREADS="2"
-- the thread counts, LNUMA_BENCH_ISAS="avx2" the paths, LNUMA_BENCH_PAIRS=4 the
-- alternating pairs per kernel.
-- bench: realtime (spec/bench/run: one thread per CPU, likwid's too)
local lnuma = require "lnuma"

local REPS = 5
local topo = lnuma.topology()
-- All arrays together: lnuma's default, four times the last-level cache (a
-- power of two, at least 1 GiB), given to likwid-bench too.  At 1 GB under
-- a 480 MiB L3 (Xeon VM, 2026-12-07) part of the arrays stayed in the
-- cache between passes and the walk orders ranked by what the previous
-- pass left there, not by memory (triad, 2 threads: split 27 GB/s, linear
-- 32; at 2 GB and 4 GB all three 31.5-32).
-- likwid-bench reads sizes in kB of 1000 bytes (and refuses 2^31 bytes
-- written in B), so both tools get a whole number of kB.
local SIZE_KB = require("lnuma.bench.util").default_bandwidth_size(topo) // 1000
local SIZE = SIZE_KB * 1000
local cpus = topo.allowed.cpus
local THREADS = { 1 }
if #cpus > 1 then THREADS[2] = #cpus end
if os.getenv("LNUMA_BENCH_THREADS") then -- e.g. "1" or "2": only those counts
  THREADS = {}
  for t in os.getenv("LNUMA_BENCH_THREADS"):gmatch("%d+") do THREADS[#THREADS + 1] = tonumber(t) end
end
local info = lnuma.bench.kernel_info()

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  return ok, out
end

local function have(cmd) return (sh("command -v " .. cmd .. " >/dev/null")) end

local function line(name, value, unit)
  print(("%-48s %12s %s"):format(name, type(value) == "number" and ("%.3f"):format(value)
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
local WALKS = { "linear", "split", "pages" }
local ORDER = { "read", "write", "write_nt", "copy", "copy_nt", "triad" }
if os.getenv("LNUMA_BENCH_KERNELS") then
  ORDER = {}
  for k in os.getenv("LNUMA_BENCH_KERNELS"):gmatch("%S+") do ORDER[#ORDER + 1] = k end
end
local ISAS = {}
local want_isas = {}
for isa in (os.getenv("LNUMA_BENCH_ISAS") or "avx512 avx2"):gmatch("%S+") do
  want_isas[#want_isas + 1] = isa
end
for _, isa in ipairs(want_isas) do
  for _, have_isa in ipairs(info.isas) do
    if have_isa == isa then ISAS[#ISAS + 1] = isa end
  end
end

local available = {}
if have("likwid-bench") then
  local _, list = sh("likwid-bench -a")
  for name in list:gmatch("([%w_]+) %- ") do available[name] = true end
end

local LIKWID_CMD = "likwid-bench -t %s -W N:%dkB:%d"
-- GB/s (1e9 bytes/s) of one likwid-bench run, or nil.
local function likwid(kernel, threads)
  local ok, out = sh(LIKWID_CMD:format(kernel, SIZE_KB, threads))
  local mbs = ok and out:match("MByte/s:%s*([%d.]+)")
  return mbs and tonumber(mbs) / 1000 or nil
end

local function lnuma_run(kernel, threads, isa, order)
  local use = {}
  for i = 1, threads do use[i] = cpus[i] end
  local r = assert(lnuma.bench.bandwidth { kernel = kernel, size = SIZE, cpus = use, isa = isa,
                                           order = order, repetitions = REPS,
                                           min_time = 200000000 })
  for _, w in ipairs(r.warnings) do print("# warning: " .. w) end
  return r
end

local function median(t)
  local c = { table.unpack(t) }
  table.sort(c)
  local n = #c
  return n % 2 == 1 and c[(n + 1) // 2] or (c[n // 2] + c[n // 2 + 1]) / 2
end

-- The likwid variants an ISA path is compared with: all of them for
-- AVX-512, none that needs AVX-512 for AVX2.
local function variants(kernel, isa)
  local out = {}
  for _, lk in ipairs(LIKWID[kernel]) do
    if available[lk] and (isa == "avx512" or not lk:match("avx512")) then out[#out + 1] = lk end
  end
  return out
end

local PAIRS = tonumber(os.getenv("LNUMA_BENCH_PAIRS") or "") or 4
print(("# %d CPUs allowed; order = \"auto\" tries each walk order on the run's buffer and "
       .. "measures the fastest"):format(#cpus))
print(("# bandwidth: %s per run (all arrays), threads %s, GB/s = 1e9 bytes/s; lnuma: "
       .. "median of %d repetitions of >= 0.2 s; likwid-bench: its own figure over >= 1 s")
       :format(lnuma.report.size(SIZE), table.concat(THREADS, " and "), REPS))
print("# lnuma: lnuma.bench.bandwidth{kernel = K, size = " .. SIZE .. ", cpus = {...}, isa = I, "
      .. "order = O, repetitions = " .. REPS .. ", min_time = 200000000}")
print("# likwid: " .. LIKWID_CMD:format("VARIANT", SIZE_KB, 0):gsub(":0$", ":THREADS"))
print(("# per kernel: a selection round (lnuma in each order, every likwid variant once) picks "
       .. "likwid's best variant; then %d pairs, lnuma (order auto) and that variant run in "
       .. "turn; ratio = median lnuma / median likwid over the pairs (best / best beside it)")
       :format(PAIRS))
if not next(available) then print("# likwid-bench not found: make deps-bench installs it") end
local worst, table_rows = nil, {}
for _, isa in ipairs(ISAS) do
  for _, threads in ipairs(THREADS) do
    for _, k in ipairs(ORDER) do
      local tag = ("%s.t%d.%s"):format(k, threads, isa)
      -- Selection round: what each order and each likwid variant does here.
      for _, o in ipairs(WALKS) do
        line(("lnuma.%s.%s (selection round)"):format(tag, o), lnuma_run(k, threads, isa, o).gbps,
             "GB/s")
      end
      local pick, pick_gbps
      for _, lk in ipairs(variants(k, isa)) do
        local v = likwid(lk, threads)
        if v then
          line(("  likwid.%s.t%d (selection round)"):format(lk, threads), v, "GB/s")
          if not pick or v > pick_gbps then pick, pick_gbps = lk, v end
        end
      end
      -- Pairs: lnuma and the picked variant in turn, so drift and neighbours
      -- fall on both alike.
      local ours, theirs, orders = {}, {}, {}
      for i = 1, PAIRS do
        local r = lnuma_run(k, threads, isa, "auto")
        ours[i], orders[#orders + 1] = r.gbps, r.order
        theirs[i] = pick and likwid(pick, threads) or nil
      end
      local m = median(ours)
      line(("lnuma.%s.auto (median of %d; orders %s)"):format(tag, PAIRS,
           table.concat(orders, ",")), m, "GB/s")
      if pick and #theirs == PAIRS then
        local mt = median(theirs)
        line(("  likwid.%s.t%d (median of %d)"):format(pick, threads, PAIRS), mt, "GB/s")
        local ratio = m / mt
        local best_ratio = math.max(table.unpack(ours)) / math.max(table.unpack(theirs))
        -- Whether the pairs tell the tools apart at all (exact two-sided
        -- Mann-Whitney: with 4 and 4 runs the smallest p is 0.029).
        local _, _, p = lnuma.bench.mann_whitney(ours, theirs, { method = "auto" })
        line(("ratio.%s (lnuma auto / likwid %s; best/best %.3f; p %.3f)"):format(tag, pick,
             best_ratio, p), ratio, "x")
        if not worst or ratio < worst then worst = ratio end
        table_rows[#table_rows + 1] = ("| %s | %d | %s | %.2f | %s %.2f | %.3f | %.3f | %.3f |")
          :format(k, threads, isa, m, pick, mt, ratio, best_ratio, p)
      end
    end
  end
end
if worst then
  line("ratio.min (lnuma / best likwid, all kernels)", worst, "x (target >= 1.0)")
  print("# | kernel | threads | isa | lnuma GB/s | likwid GB/s | ratio (medians) | best/best "
        .. "| p (Mann-Whitney) |")
  for _, row in ipairs(table_rows) do print("# " .. row) end
end

-- mbw: one thread copying between two arrays of N MiB, counting N MiB per
-- copy; STREAM counts the read and the write, so twice that.  What Debian's
-- mbw 1.2.2 runs under each name (objdump -d /usr/bin/mbw, its worker):
--  - MEMCPY (-t0) is a loop of 8-byte loads and stores (at 0x174a): a copy
--    with ordinary stores, compared with lnuma's copy;
--  - DUMB (-t1) is one memcpy call over the whole array (at 0x180b), which
--    glibc runs with non-temporal stores at this size (beyond its
--    non_temporal_threshold; a 1 GiB memcpy in a C program of our own ran
--    as fast): compared with lnuma's copy_nt;
--  - MCBLOCK (-t2) passes the same 256 KiB source block to mempcpy every
--    time (0x17c8: the source pointer never advances), so the reads hit the
--    cache and only the writes reach memory: compared with lnuma's write,
--    bytes written per second.
if have("mbw") then
  local mib = 1024
  local ok, out = sh(("mbw -q -n 5 %d"):format(mib))
  local per = {}
  if ok then
    -- The best single run of each method (mbw's average includes the first
    -- run's page faults): the harder target.
    for l in out:gmatch("[^\n]+") do
      local run, method, rate = l:match("^(%d+)%s+Method:%s+(%S+).-Copy:%s+([%d.]+) MiB/s")
      if run then
        local g = tonumber(rate) * 1048576 / 1e9
        if not per[method] or g > per[method] then per[method] = g end
      end
    end
  end
  if per.MEMCPY then
    line("  mbw.memcpy.t1 (best of 5, STREAM-counted; an 8-byte load/store loop)",
         2 * per.MEMCPY, "GB/s")
  end
  if per.DUMB then
    line("  mbw.dumb.t1 (best of 5, STREAM-counted; one memcpy call: non-temporal stores)",
         2 * per.DUMB, "GB/s")
  end
  if per.MCBLOCK then
    line("  mbw.mcblock.t1 (best of 5, bytes written; its source is one cached block)",
         per.MCBLOCK, "GB/s")
  end
  -- lnuma's best repetition, as mbw's figure is its best run.
  local function t1(kernel, size)
    local r = assert(lnuma.bench.bandwidth { kernel = kernel, size = size, cpus = { cpus[1] },
                                             repetitions = REPS, min_time = 200000000 })
    return { gbps = math.max(table.unpack(r.repetitions)) }
  end
  local size = 2 * mib * 1048576
  if per.MEMCPY then
    local c = t1("copy", size)
    line(("lnuma.copy.t1 (2 x %d MiB, best of %d)"):format(mib, REPS), c.gbps, "GB/s")
    line("ratio.copy.t1 (lnuma copy / mbw memcpy, its load/store loop)", c.gbps / (2 * per.MEMCPY),
         "x")
  end
  if per.DUMB then
    local cnt = t1("copy_nt", size)
    line(("lnuma.copy_nt.t1 (2 x %d MiB, best of %d)"):format(mib, REPS), cnt.gbps, "GB/s")
    line("ratio.copy_nt.t1 (lnuma copy_nt / mbw dumb, glibc memcpy)", cnt.gbps / (2 * per.DUMB),
         "x")
  end
  if per.MCBLOCK then
    local w = t1("write", mib * 1048576)
    line(("lnuma.write.t1 (%d MiB, best of %d)"):format(mib, REPS), w.gbps, "GB/s")
    line("ratio.write.t1 (lnuma write / mbw mcblock)", w.gbps / per.MCBLOCK, "x")
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
