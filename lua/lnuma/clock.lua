--- Nanosecond clock: the invariant TSC (or the architecture's counter)
-- calibrated against `CLOCK_MONOTONIC_RAW`, or `CLOCK_MONOTONIC_RAW` itself
-- where no trustworthy counter exists.
--
-- One clock serves every `lua_State` of the process (the counter and its
-- rate belong to the machine), calibrated when `lnuma` is first loaded;
-- `calibrate` and `recalibrate` update it for all of them, under a sequence
-- lock that `now()` reads through.
-- `now()`, `ticks()`, `start()` and `stop()` are the C functions themselves
-- (no Lua wrapper): keep them in a local for the cheapest call,
-- `local now = lnuma.clock.now`.
-- @module lnuma.clock

local core = require "lnuma.core"
local sync = require "lnuma.clock_sync"
local C = core.clock

local clock = {}

--- Nanoseconds (integer) on the `CLOCK_MONOTONIC_RAW` time line, read from
-- the counter: monotonic, and as cheap as a no-op C function plus the counter.
-- @function now
-- @treturn integer ns
clock.now = C.now

--- The raw counter (`info().hz` ticks per second).
-- @function ticks
-- @treturn integer ticks
clock.ticks = C.ticks

--- Converts a number of ticks (a difference of two `ticks()`) to ns.
-- @function to_ns
-- @tparam integer ticks
-- @treturn integer ns
clock.to_ns = C.to_ns

--- Fenced counter read for the start of a timed region (`lfence; rdtsc`):
-- the region's instructions cannot start before it.
-- @function start
-- @treturn integer ticks
clock.start = C.start

--- Fenced counter read for the end of a timed region (`rdtscp; lfence`, or
-- `lfence; rdtsc; lfence` where CPUID or the kernel lacks RDTSCP: `info().rdtscp`).
-- With the ticks from `start()`, returns the ns elapsed since then:
-- `local t0 = clock.start(); work(); local ns = clock.stop(t0)`.
-- @function stop
-- @tparam[opt] integer t0 ticks from `start()`
-- @treturn integer ticks (no argument) or ns since `t0`
clock.stop = C.stop

--- `clock_gettime(CLOCK_MONOTONIC_RAW)` in ns: the reference the counter is
-- calibrated against.
-- @function monotonic_raw
-- @treturn integer ns
clock.monotonic_raw = C.monotonic_raw

--- CPU time used by the calling thread, in ns (`CLOCK_THREAD_CPUTIME_ID`, a
-- system call: for telling how long a timed run was off its CPU, not for
-- timing).  nil where the kernel has no such clock.
-- @function thread_cpu
-- @treturn integer|nil ns
clock.thread_cpu = C.thread_cpu

--- Sleeps at least `ns` nanoseconds.
-- @function sleep
-- @tparam integer ns
clock.sleep = C.sleep

-- The measured cost of one now() call from Lua, in ns (best of 5 rounds of
-- 20000 calls, loop included); measured on first use and after calibrate.
local lua_cost

local function measure_lua_cost()
  local now = C.now
  local n = 20000
  local best = math.huge
  for _ = 1, 5 do
    local t0 = now()
    for _ = 1, n do now() end
    local per = (now() - t0) / n
    if per < best then best = per end
  end
  return best
end

--- What the clock is and what it costs.
-- @treturn table `source` ("tsc", "cntvct" or "monotonic_raw"), `hz`,
-- `frequency_source` ("calibration", "cpuid_15h", "hypervisor", "kernel",
-- "cntfrq" or "definition"), `invariant`, `invariant_from`, `reason`,
-- `error_ppm` and `calibration_ns` (of the last calibration), `resolution_ns`,
-- `cost_c_ns` and `cost_lua_ns` (one `now()` from C and from Lua),
-- `kernel_clocksource`, `rdtscp` (true when `stop()` uses RDTSCP),
-- `recalibrations` (conversions published since start-up: calibrations and
-- background recalibrations), `recalibration` (the status of this state's
-- background recalibration, when one runs: see `recalibrate`), `unit` = "ns".
function clock.info()
  local t = C.info()
  lua_cost = lua_cost or measure_lua_cost()
  t.cost_lua_ns = lua_cost
  t.recalibration = C.recalibration()
  return t
end

--- Re-measures the counter's frequency against `CLOCK_MONOTONIC_RAW` and
-- re-aligns `now()` to it (for every Lua state of the process).  Values of
-- `now()` taken before and after may differ by the correction.
-- @tparam[opt] table opts `duration` in ns (default 100 ms; 1 ms .. 60 s)
-- @treturn number the estimated error of the new frequency, in ppm
-- @treturn table `info()`
function clock.calibrate(opts)
  local ppm, info, errno = C.calibrate(opts)
  if not ppm then return nil, info, errno end
  lua_cost = measure_lua_cost()
  info.cost_lua_ns = lua_cost
  return ppm, info
end

--- Offsets between the CPUs' counters with their uncertainty (see
-- `lnuma.clock_sync.skew`).
-- @function skew
-- @tparam[opt] table opts `cpus`, `tries`
-- @treturn table result
clock.skew = sync.skew

--- The clock's drift against `CLOCK_MONOTONIC_RAW` and when to recalibrate
-- (see `lnuma.clock_sync.drift`).
-- @function drift
-- @tparam[opt] table opts `duration`, `samples`, `threshold`
-- @treturn table result
clock.drift = sync.drift

--- Background recalibration for long runs (see `lnuma.clock_sync.recalibrate`):
-- `clock.recalibrate{every = 10e9}`, `clock.recalibrate{stop = true}`.
-- @function recalibrate
-- @tparam table opts `every` (ns) or `stop`
-- @treturn table|nil status
clock.recalibrate = sync.recalibrate

--- The status of this state's background recalibration, or nil.
-- @function recalibration
-- @treturn table|nil status
clock.recalibration = sync.recalibration

return clock
