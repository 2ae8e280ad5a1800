--- Timing Lua functions the way Google Benchmark times C++ ones, and telling
-- whether two timings differ.
--
-- `run` warms up, finds an iteration count whose run lasts `min_time`, times
-- `repetitions` runs of that many calls, and subtracts the cost of the loop
-- itself (an empty function measured the same way, interleaved).
-- `compare` gives the ratio of medians and a Mann-Whitney U test.
--
-- This module is the harness; other modules (the memory benchmarks) add
-- their functions to the same `lnuma.bench` table.
-- @module lnuma.bench

local core = require "lnuma.core"
local clock = require "lnuma.clock"
local O = require "lnuma.options"

local bench = {}

local now = core.clock.now
local floor, sqrt, huge = math.floor, math.sqrt, math.huge

-- Raises "bad argument #arg to 'fname' (msg)" (lnuma.options words it).
local function argerror(fname, arg, msg) O.argerror(fname, nil, msg, 0, arg) end

local function check_options(fname, arg, opts, known)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    argerror(fname, arg, "options table expected, got " .. type(opts))
  end
  for k in pairs(opts) do
    if not known[k] then argerror(fname, arg, ("unknown option '%s'"):format(tostring(k))) end
  end
  return opts
end

-- An integer number of ns that must be > 0 (or >= 0 when zero_ok).
local function check_ns(fname, arg, key, v, default, zero_ok)
  if v == nil then return default end
  if math.type(v) ~= "integer" then
    if math.type(v) == "float" and v == floor(v) and v >= -2^63 and v < 2^63 then
      v = floor(v)
    else
      argerror(fname, arg, ("%s: integer nanoseconds expected, got %s"):format(key,
        type(v) == "number" and tostring(v) or type(v)))
    end
  end
  if v < 0 or (v == 0 and not zero_ok) then
    argerror(fname, arg, ("%s: must be %s, got %d"):format(key,
      zero_ok and "zero or more" or "positive", v))
  end
  return v
end

-- ---- statistics -------------------------------------------------------------

local function sorted_copy(xs)
  local s = {}
  for i = 1, #xs do s[i] = xs[i] end
  table.sort(s)
  return s
end

local function median_of_sorted(s)
  local n = #s
  if n == 0 then return nil end
  if n % 2 == 1 then return s[(n + 1) // 2] end
  return (s[n // 2] + s[n // 2 + 1]) / 2
end

-- Checks that xs is an array of numbers (not NaN, which has no order).
local function check_numbers(fname, arg, name, xs)
  if type(xs) ~= "table" then
    argerror(fname, arg, ("%s: an array of numbers expected, got %s"):format(name, type(xs)))
  end
  for i = 1, #xs do
    local v = xs[i]
    if type(v) ~= "number" or v ~= v then
      argerror(fname, arg, ("%s[%d]: a number expected, got %s"):format(name, i,
        type(v) == "number" and "nan" or type(v) == "string" and ("%q"):format(v) or type(v)))
    end
  end
  return xs
end

--- Summary statistics of an array of numbers.
-- @tparam {number,...} xs
-- @treturn table `median`, `mean`, `stddev` (sample, n-1), `min`, `max`,
-- `cv` (stddev / mean; nil when the mean is 0), `n`
function bench.stats(xs)
  check_numbers("stats", 1, "xs", xs)
  local n = #xs
  if n == 0 then return { n = 0 } end
  local s = sorted_copy(xs)
  local sum = 0
  for i = 1, n do sum = sum + s[i] end
  local mean = sum / n
  local ss = 0
  for i = 1, n do ss = ss + (s[i] - mean) ^ 2 end
  local stddev = n > 1 and sqrt(ss / (n - 1)) or 0
  return {
    n = n, median = median_of_sorted(s), mean = mean, stddev = stddev,
    min = s[1], max = s[n], cv = mean ~= 0 and stddev / mean or nil,
  }
end

-- ---- the harness ------------------------------------------------------------

local thread_cpu = core.clock.thread_cpu

-- ns taken by n calls of fn (loop included).
local function time_calls(fn, n)
  local t0 = now()
  for _ = 1, n do fn() end
  return now() - t0
end

-- The same, and the CPU time the thread got meanwhile (nil without one).
local function time_calls_cpu(fn, n)
  local c0 = thread_cpu()
  local t0 = now()
  for _ = 1, n do fn() end
  local t = now() - t0
  local c1 = thread_cpu()
  return t, c0 and c1 and c1 - c0
end

local function empty() end

local MAX_ITERATIONS = 1000000000
-- Below this fraction of the timed wall time spent on a CPU, a result warns.
local ON_CPU_WARN = 0.95

local RUN_OPTIONS = {
  min_time = true, repetitions = true, warmup = true, cpu = true, gc = true,
  max_iterations = true,
}
local GC_MODES = { stop = true, collect = true, keep = true }

--- Times `fn()`.
-- @tparam function fn called with no arguments, many times
-- @tparam[opt] table opts
--  `min_time` (ns, default 50 ms): how long each repetition lasts at least;
--  `repetitions` (default 10); `warmup` (ns, default `min_time`, 0 for none);
--  `cpu`: pin the calling thread to this CPU for the run (restored after);
--  `gc`: "stop" (default: collect before, stop during), "collect" (collect
--  before only) or "keep" (leave the collector alone);
--  `max_iterations` (default 1e9): cap on calls per repetition.
-- @treturn table a result: `median`, `mean`, `stddev`, `min`, `max` (ns per
-- call, the loop's cost subtracted), `cv`, `unit` = "ns", `iterations` (calls
-- per repetition), `repetitions`, `samples` (ns per call of each repetition),
-- `overhead_ns` (the loop's cost per call that was subtracted), `histogram`
-- (export of the repetitions' elapsed times, ns), `clock` (`lnuma.clock.info()`),
-- `cpu` (where it ran), `pinned`, `gc`, `min_time`, `warmup`, `elapsed_ns`,
-- `cpu_median` (ns of the thread's CPU time per call, loop subtracted, as
-- Google Benchmark's "CPU" column), `on_cpu` (the fraction of the timed wall
-- time the thread spent on a CPU, from `CLOCK_THREAD_CPUTIME_ID`) and
-- `warning` when that is below 0.95: the machine was busy and the wall times
-- include waiting for a CPU.
-- @return[2] nil when pinning fails
-- @treturn[2] string message
-- @treturn[2] integer errno
function bench.run(fn, opts)
  if type(fn) ~= "function" then
    argerror("run", 1, "function expected, got " .. type(fn))
  end
  opts = check_options("run", 2, opts, RUN_OPTIONS)
  local min_time = check_ns("run", 2, "min_time", opts.min_time, 50000000)
  local warmup = check_ns("run", 2, "warmup", opts.warmup, min_time, true)
  local max_iter = opts.max_iterations
  if max_iter ~= nil and (math.type(max_iter) ~= "integer" or max_iter < 1) then
    argerror("run", 2, "max_iterations: positive integer expected, got " .. tostring(max_iter))
  end
  max_iter = max_iter or MAX_ITERATIONS
  local reps = opts.repetitions
  if reps == nil then
    reps = 10
  elseif math.type(reps) ~= "integer" or reps < 1 then
    argerror("run", 2, "repetitions: positive integer expected, got " .. tostring(reps))
  end
  local gc = opts.gc or "stop"
  if not GC_MODES[gc] then
    argerror("run", 2, ("gc: invalid value '%s' (expected \"stop\", \"collect\" or \"keep\")")
      :format(tostring(gc)))
  end
  local cpu = opts.cpu
  if cpu ~= nil and (math.type(cpu) ~= "integer" or cpu < 0) then
    argerror("run", 2, "cpu: CPU index expected, got " .. tostring(cpu))
  end

  local started = now()
  local previous_cpus
  if cpu then
    local before, bmsg, berrno = core.binding()
    if not before then return nil, "cpu: " .. bmsg, berrno end
    local called, ok, msg, errno = pcall(core.bind, { cpus = cpu })
    if not called then -- a CPU that does not exist: bind raised, naming "cpus"
      argerror("run", 2, "cpu: " .. (tostring(ok):match("cpus: (.*)%)$") or tostring(ok)))
    end
    if not ok then return nil, "cpu: " .. msg, errno end
    previous_cpus = before.cpus
  end
  local gc_was_running = collectgarbage("isrunning")
  if gc ~= "keep" then collectgarbage("collect") end
  if gc == "stop" then collectgarbage("stop") end

  local ok, result = pcall(function()
    -- warm-up: at least one call, then until `warmup` ns have passed
    local t_end = now() + warmup
    repeat fn() until now() >= t_end

    -- iterations: grow (x1.4 overshoot, x10 when far off) until a run lasts min_time
    local n = 1
    while true do
      local t = time_calls(fn, n)
      -- a run the scheduler preempted looks long: confirm with a second one
      if t >= min_time and n < max_iter then t = math.min(t, time_calls(fn, n)) end
      if t >= min_time or n >= max_iter then break end
      local mult = 10
      if t > min_time / 10 then mult = min_time * 1.4 / t end
      n = math.min(max_iter, math.max(n + 1, floor(n * mult)))
    end

    -- repetitions, each followed by the empty loop of the same length
    local elapsed, empty_per_call, cpu_ns, empty_cpu = {}, {}, {}, {}
    local wall, cpu_used = 0, 0
    for r = 1, reps do
      local t, c = time_calls_cpu(fn, n)
      elapsed[r], cpu_ns[r] = t, c
      wall, cpu_used = wall + t, c and cpu_used and cpu_used + c
      t, c = time_calls_cpu(empty, n)
      empty_per_call[r], empty_cpu[r] = t / n, c and c / n
      wall, cpu_used = wall + t, c and cpu_used and cpu_used + c
    end
    return { n = n, elapsed = elapsed, empty = empty_per_call, cpu = cpu_used and cpu_ns,
             empty_cpu = cpu_used and empty_cpu,
             on_cpu = cpu_used and wall > 0 and math.min(1.0, cpu_used / wall) or nil }
  end)

  if gc == "stop" and gc_was_running then collectgarbage("restart") end
  local ran_on = core.current()
  if previous_cpus then core.bind { cpus = previous_cpus } end
  if not ok then error(result, 0) end

  local n = result.n
  local overhead = bench.stats(result.empty).median
  local samples = {}
  local hist = core.histogram { lowest = 1, highest = 3600000000000, precision = 3 }
  for r = 1, reps do
    local per = result.elapsed[r] / n - overhead
    samples[r] = per > 0 and per or 0.0
    hist:record(result.elapsed[r])
  end
  local st = bench.stats(samples)
  local cpu_median
  if result.cpu then
    local cpu_overhead = bench.stats(result.empty_cpu).median
    local per = {}
    for r = 1, reps do per[r] = math.max(0.0, result.cpu[r] / n - cpu_overhead) end
    cpu_median = bench.stats(per).median
  end
  local histogram = hist:export()
  histogram.unit = ("ns per repetition of %d calls"):format(n)
  local warning
  if result.on_cpu and result.on_cpu < ON_CPU_WARN then
    warning = ("the thread was off its CPU for %.0f%% of the timed runs (other load on "
      .. "the machine?): times include that waiting"):format((1 - result.on_cpu) * 100)
  end
  return {
    unit = "ns",
    median = st.median, mean = st.mean, stddev = st.stddev,
    min = st.min, max = st.max, cv = st.cv,
    iterations = n, repetitions = reps, samples = samples,
    overhead_ns = overhead, histogram = histogram,
    clock = clock.info(),
    cpu = ran_on, pinned = cpu ~= nil, gc = gc,
    min_time = min_time, warmup = warmup,
    elapsed_ns = now() - started,
    cpu_median = cpu_median, on_cpu = result.on_cpu, warning = warning,
  }
end

-- ---- comparison -------------------------------------------------------------

-- erfc(x), Numerical Recipes' erfcc (fractional error < 1.2e-7).
local function erfc(x)
  local z = math.abs(x)
  local t = 1 / (1 + 0.5 * z)
  local r = t * math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 +
    t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 +
    t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
  if x >= 0 then return r end
  return 2 - r
end

-- The samples of a result table or an array of numbers.
local function samples_of(fname, arg, x)
  if type(x) ~= "table" then
    argerror(fname, arg, "result table or array of numbers expected, got " .. type(x))
  end
  local xs = x.samples or x
  if type(xs) ~= "table" then
    argerror(fname, arg, "samples: array of numbers expected, got " .. type(xs))
  end
  local n = #xs
  if n < 2 then argerror(fname, arg, ("at least 2 samples needed, got %d"):format(n)) end
  for i = 1, n do
    if type(xs[i]) ~= "number" or xs[i] ~= xs[i] then
      argerror(fname, arg, ("sample %d is %s, not a number"):format(i, tostring(xs[i])))
    end
  end
  return xs
end

-- The exact null distribution of U (no ties) for samples of m and n:
-- counts[u + 1] = how many of the C(m+n, m) orderings give U = u, by the
-- recurrence f(m, n; u) = f(m-1, n; u-n) + f(m, n-1; u).  Kept per (m, n).
local exact_cache = {}
local function u_distribution(m, n)
  local key = m * 100000 + n
  if exact_cache[key] then return exact_cache[key] end
  local prev = {} -- prev[j] = distribution for (i-1, j)
  for j = 0, n do prev[j] = { 1 } end
  for i = 1, m do
    local cur = { [0] = { 1 } }
    for j = 1, n do
      local a, b, f = prev[j], cur[j - 1], {}
      for u = 0, i * j do
        f[u + 1] = (a[u - j + 1] or 0) + (b[u + 1] or 0)
      end
      cur[j] = f
    end
    prev = cur
  end
  exact_cache[key] = prev[n]
  return prev[n]
end

-- Largest na * nb for which method "auto" computes the exact distribution.
local EXACT_LIMIT = 400
local MW_METHODS = { normal = true, exact = true, auto = true }

--- Mann-Whitney U test (two-sided).  By default (`method = "normal"`) the
-- normal approximation with tie and continuity correction, as scipy's
-- `mannwhitneyu` and Google Benchmark's `compare.py` use it; `"exact"`
-- counts the orderings of the two samples (no ties allowed: with ties it
-- falls back to the normal approximation); `"auto"` is exact when there are
-- no ties and `#a * #b <= 400`, normal otherwise.  The exact two-sided p is
-- `min(1, 2 * min(P(U <= u), P(U >= u)))`.
-- @tparam {number,...} a
-- @tparam {number,...} b
-- @tparam[opt] table opts `method`: "normal" (default), "exact" or "auto"
-- @treturn number U of sample `a` (the pairs with a > b, ties counting one half)
-- @treturn number z
-- @treturn number two-sided p-value
-- @treturn string the method used: "normal" or "exact"
function bench.mann_whitney(a, b, opts)
  check_numbers("mann_whitney", 1, "a", a)
  check_numbers("mann_whitney", 2, "b", b)
  opts = check_options("mann_whitney", 3, opts, { method = true })
  local method = opts.method or "normal"
  if not MW_METHODS[method] then
    argerror("mann_whitney", 3, ("method: '%s' is not one of normal, exact, auto")
      :format(tostring(method)))
  end
  local na, nb = #a, #b
  local all = {}
  for i = 1, na do all[#all + 1] = { a[i], 1 } end
  for i = 1, nb do all[#all + 1] = { b[i], 2 } end
  table.sort(all, function(x, y) return x[1] < y[1] end)
  local N = na + nb
  local rank_a, ties = 0, 0
  local i = 1
  while i <= N do
    local j = i
    while j < N and all[j + 1][1] == all[i][1] do j = j + 1 end
    local avg = (i + j) / 2 -- average rank of the tied group
    local t = j - i + 1
    if t > 1 then ties = ties + t ^ 3 - t end
    for k = i, j do
      if all[k][2] == 1 then rank_a = rank_a + avg end
    end
    i = j + 1
  end
  local u = rank_a - na * (na + 1) / 2
  local mu = na * nb / 2
  local var = na * nb / 12 * ((N + 1) - ties / (N * (N - 1)))
  local sd = var > 0 and sqrt(var) or 0
  local zsigned = sd > 0 and (u - mu) / sd or 0
  if ties == 0 and na > 0 and nb > 0
     and (method == "exact" or (method == "auto" and na * nb <= EXACT_LIMIT)) then
    local counts = u_distribution(na, nb)
    local total, below, above = 0, 0, 0
    local ui = floor(u + 0.5)
    for k = 0, #counts - 1 do
      local c = counts[k + 1]
      total = total + c
      if k <= ui then below = below + c end
      if k >= ui then above = above + c end
    end
    return u, zsigned, math.min(1.0, 2 * math.min(below, above) / total), "exact"
  end
  if var <= 0 then return u, 0, 1.0, "normal" end
  local z = (math.abs(u - mu) - 0.5) / sd
  if z < 0 then z = 0 end
  local p = erfc(z / sqrt(2))
  if p > 1 then p = 1 end
  return u, (u < mu) and -z or z, p, "normal"
end

--- Compares two timings.
-- @tparam table a a result of `run` (its `samples`) or an array of numbers
-- @tparam table b the same
-- @tparam[opt] table opts `alpha` (default 0.05): the significance level
-- @treturn table `ratio` = median(b) / median(a) (above 1: `b` takes longer),
-- `change` = ratio - 1, `p_value` (Mann-Whitney U, two-sided),
-- `significant` (p_value < alpha), `alpha`, `u`, `z`, `median_a`,
-- `median_b`, `n_a`, `n_b`, and `warning` when a sample has fewer than 9
-- values (the normal approximation is then rough; Google Benchmark suggests 9+).
function bench.compare(a, b, opts)
  local xa = samples_of("compare", 1, a)
  local xb = samples_of("compare", 2, b)
  opts = check_options("compare", 3, opts, { alpha = true })
  local alpha = opts.alpha or 0.05
  if type(alpha) ~= "number" or not (alpha > 0 and alpha < 1) then
    argerror("compare", 3, "alpha: number in (0, 1) expected, got " .. tostring(alpha))
  end
  local ma, mb = median_of_sorted(sorted_copy(xa)), median_of_sorted(sorted_copy(xb))
  local ratio
  if ma ~= 0 then
    ratio = mb / ma
  elseif mb == 0 then
    ratio = 1.0
  else
    ratio = huge
  end
  local u, z, p = bench.mann_whitney(xa, xb)
  local warning
  if #xa < 9 or #xb < 9 then
    warning = ("few samples (%d and %d): the p-value is approximate; use 9 or more"):format(
      #xa, #xb)
  end
  return {
    ratio = ratio, change = ratio - 1, p_value = p, significant = p < alpha, alpha = alpha,
    u = u, z = z, median_a = ma, median_b = mb, n_a = #xa, n_b = #xb, warning = warning,
  }
end

return bench
