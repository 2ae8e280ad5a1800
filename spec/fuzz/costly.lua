--- What the API fuzzer (spec/fuzz/fuzz.lua) must not call freely, and why.
--
-- COSTLY: functions that by design run as long, or allocate as much, as
-- their arguments ask (benchmarks, sleeps, sandboxed runs, debugging aids
-- that build tables of n entries).  They are called with the arguments a
-- template here builds: cheap values for every cost knob, then mutated with
-- "small" values (bad types, negatives, NaN, traps: never a valid large
-- size or time), so the fuzzer reaches their code without running a real
-- benchmark.  A function that looks costly (its path names a benchmark) and
-- is not listed is called with small options only, and the run says so, so
-- a new benchmark is fuzzed at once and gets a template later.
--
-- EXCLUDED: functions never called, each with its reason.  The CLI's main
-- (which exits and reads the command line) is not part of `require "lnuma"`.

local M = {}

M.EXCLUDED = {
  -- ["lnuma.x"] = "reason",
  -- They run programs: a random argv could name any program on PATH (its
  -- binding's argument handling is covered by spec/exec_spec.lua).
  ["lnuma.core.exec"] = "runs programs",
  ["lnuma.exec.run"] = "runs programs",
  ["lnuma.exec.runner"] = "makes a function that runs programs",
}

-- Paths that look like benchmarks but cost nothing (pure statistics,
-- facts, renderers of results).
M.CHEAP = {
  ["lnuma.bench.stats"] = true, ["lnuma.bench.mann_whitney"] = true,
  ["lnuma.bench.compare"] = true, ["lnuma.bench.kernel_info"] = true,
  ["lnuma.bench.params"] = true, ["lnuma.bench.thp_mode"] = true,
  ["lnuma.bench.curve_levels"] = true, ["lnuma.bench.curve_tlb"] = true,
  ["lnuma.bench.curve_annotate"] = true, ["lnuma.bench.curve_sizes"] = true,
  ["lnuma.core.kernel_info"] = true, ["lnuma.core.c2c_memory"] = true,
  ["lnuma.clock.recalibration"] = true, ["lnuma.core.clock.recalibration"] = true,
}

--- True when a path looks like a function whose cost its arguments set.
function M.looks_costly(path)
  return (path:find("bench", 1, true) or path:find("calibrate", 1, true)
          or path:find("sleep", 1, true) or path:find("skew", 1, true)
          or path:find("drift", 1, true)) and not M.CHEAP[path]
end

-- Cheap values for the knobs every benchmark shares.
local function cheap(r)
  return {
    size = r.pick { "4K", "16K", "64K", 4096, 65536 },
    repetitions = r.range(1, 2),
    min_time = r.pick { 0, 1000, 100000 },
  }
end

local function with(base, extra)
  for k, v in pairs(extra) do base[k] = v end
  return base
end

-- Each template returns the argument list; `g` is the run's value
-- generator, `buf()` a live small buffer (or a freed one, now and then).
M.COSTLY = {
  ["lnuma.bench.latency"] = function(r, _, buf)
    return { with(cheap(r), { chunks = r.range(1, 4), buffer = r.chance(0.2) and buf() or nil }) }
  end,
  ["lnuma.bench.latency_curve"] = function(r)
    local c = cheap(r)
    c.size = nil
    return { with(c, { sizes = { "4K", r.pick { "8K", "64K" } }, chunks = 1,
                       series = r.chance(0.5) and { false } or nil }) }
  end,
  ["lnuma.bench.bandwidth"] = function(r, _, buf)
    return { with(cheap(r), { threads = r.chance(0.5) and 1 or nil,
                              buffer = r.chance(0.2) and buf() or nil }) }
  end,
  ["lnuma.bench.matrix"] = function(r)
    return { with(cheap(r), { metric = r.pick { "latency", "bandwidth" },
                              plan = r.chance(0.3) or nil,
                              threads = r.chance(0.5) and 1 or nil }) }
  end,
  ["lnuma.bench.loaded_latency"] = function(r)
    return { with(cheap(r), { traffic_size = "64K", step_time = 1000000, repetitions = 1,
                              delays = { 0, r.pick { 100, 1000 } } }) }
  end,
  ["lnuma.bench.c2c"] = function(r)
    return { { samples = r.range(1, 2), roundtrips = r.range(1, 8), warmup = r.range(0, 2) } }
  end,
  ["lnuma.bench.migration"] = function(r)
    local c = cheap(r)
    c.min_time = nil
    return { c }
  end,
  ["lnuma.bench.run"] = function(r, g)
    return { g.callback(true), { min_time = r.pick { 0, 1000, 100000 }, repetitions = r.range(1, 2),
                                 warmup = 0, max_iterations = r.range(1, 50),
                                 gc = r.pick { "stop", "collect", "keep" } } }
  end,
  ["lnuma.bench.measure"] = function(r, _, buf)
    return { {}, buf(), { cpu = 0, pattern = "random", repetitions = 1, min_time = 0,
                          chunks = 1, seed = r.range(0, 9) } }
  end,
  ["lnuma.bench.chase_order"] = function(r)
    return { r.pick { 4096, "4K", "64K", 64, 128 },
             { pattern = r.pick { "random", "sequential" } } }
  end,
  ["lnuma.bench.c2c_schedule"] = function(r) return { r.range(2, 16) } end,
  ["lnuma.bench.c2c_lines"] = function(r) return { r.range(2, 8), r.range(1, 8) } end,
  ["lnuma.core.bench_latency"] = function(r, _, buf)
    return { buf(), { repetitions = 1, min_time = r.pick { 0, 1000 }, chunks = r.range(1, 4),
                      cpu = 0 } }
  end,
  ["lnuma.core.bench_bandwidth"] = function(r, _, buf)
    return { buf(), { repetitions = 1, min_time = r.pick { 0, 1000 }, cpus = { 0 },
                      kernel = r.pick { "read", "write", "copy" } } }
  end,
  ["lnuma.core.bench_loaded"] = function(r, _, buf)
    return { buf(), buf(), { cpus = { 0, r.pick { 0, 1 } }, step_time = 1000000,
                             delays = { r.pick { 0, 100 } } } }
  end,
  ["lnuma.core.bench_c2c"] = function(r, _, buf)
    return { buf(), { cpus = { 0, r.pick { 0, 1 } }, samples = 1, roundtrips = r.range(1, 8),
                      warmup = 0 } }
  end,
  ["lnuma.core.chase_order"] = function(r)
    return { r.pick { 4096, "4K", 64, 128 }, { seed = r.range(0, 3) } }
  end,
  ["lnuma.core.c2c_schedule"] = function(r) return { r.range(2, 16) } end,
  ["lnuma.core.c2c_lines"] = function(r) return { r.range(2, 8), r.range(1, 8) } end,
  ["lnuma.clock.calibrate"] = function(r) return { { duration = r.pick { 1000000, 2000000 } } } end,
  ["lnuma.core.clock.calibrate"] = function() return { { duration = 1000000 } } end,
  ["lnuma.clock.sleep"] = function(r) return { r.range(0, 10000) } end,
  -- skew: two CPUs (or the same twice, refused), a few round trips; drift: the
  -- shortest durations; recalibrate: a period or a stop (the thread is cheap)
  ["lnuma.clock.skew"] = function(r)
    return { { cpus = { 0, r.pick { 0, 1 } }, tries = r.range(1, 4) } }
  end,
  ["lnuma.core.clock.skew"] = function(r)
    return { { cpus = r.pick { "0-1", "0", { 0, 1 } }, tries = r.range(1, 4) } }
  end,
  ["lnuma.clock.drift"] = function(r)
    return { { duration = r.pick { 1000000, 2000000 }, samples = r.range(2, 5) } }
  end,
  ["lnuma.core.clock.drift"] = function(r)
    return { { duration = 1000000, samples = r.range(2, 11) } }
  end,
  ["lnuma.clock.recalibrate"] = function(r)
    return { r.chance(0.5) and { stop = true } or { every = r.pick { 10000000, 1e9 } } }
  end,
  ["lnuma.core.clock.recalibrate"] = function(r)
    return { r.chance(0.5) and { stop = true } or { every = 10000000 } }
  end,
  ["lnuma.core.clock.sleep"] = function(r) return { r.range(0, 10000) } end,
  ["lnuma.core.run_limited"] = function(r, g)
    return { { instructions = r.pick { 1000, 100000, 1000000 }, memory = r.pick { 4096, 1 << 20 } },
             g.callback(true), g.value(1, true) }
  end,
  ["lnuma.plan.load"] = function(r, _, _, ctx)
    -- The example engine's plans (the first two) take ~90 MiB when applied.
    local files = ctx.plan_files
    local file = r.chance(0.15) and files[r.int(2)] or files[r.range(3, #files)]
    return { file, { instructions = r.pick { 100000, 1000000 },
                                       memory = r.pick { 1 << 20, 4 << 20 } } }
  end,
}

return M
