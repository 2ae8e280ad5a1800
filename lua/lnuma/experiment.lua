--- Placement experiments: factors and levels, every combination repeated
-- in a randomised interleaved order, each run's actual placement checked
-- beside its metric, and statistics a reviewer accepts.
--
--    local res = lnuma.experiment{
--      factors = { policy = { "bind", "interleave" }, huge = { false, "thp" } },
--      repetitions = 10, seed = 1,
--      setup = function(lv)
--        return assert(lnuma.alloc("64M", { policy = lv.policy, nodes = {0}, huge = lv.huge }))
--      end,
--      run = function(lv, buf) return lnuma.bench.latency{ buffer = buf }.latency_ns end,
--      teardown = function(buf) buf:free() end,
--    }
--    print(lnuma.report.text(res))
--
-- The order: warm-up rounds (discarded), then `repetitions` rounds; each
-- round runs every combination once in an order shuffled from the seed.
-- The names `node`, `nodes`, `cpu`, `cpus` and `huge` mean something to
-- the runner: a `node`/`nodes` level is the node set the buffers' pages must
-- be on, a `cpu`/`cpus` level pins the calling thread around setup, run and
-- teardown (unless `pin = false`) and is where the run must have run; a
-- level that does not exist on this machine skips its combinations with a
-- note.  Any other factor name (`policy`, `threads`, `size`, ...) is only
-- passed to the functions.
--
-- Statistics (lua/lnuma/experiment_stats.lua): per combination the median
-- with an order-statistic (binomial, distribution-free) confidence interval;
-- pairwise Mann-Whitney U tests (exact when there are no ties and
-- n_a * n_b <= 400, else the normal approximation), Cliff's delta and the
-- common-language effect size, Holm-adjusted over all comparisons; the main
-- effect of each factor; a ranking with groups the tests cannot separate.
-- @module lnuma.experiment

local core = require "lnuma.core"
local U = require "lnuma.bench.util"
local O = require "lnuma.options"
local D = require "lnuma.experiment_design"
local S = require "lnuma.experiment_stats"
local P = require "lnuma.experiment_place"

local M = {}

local argerror = D.argerror
local now = core.clock.now

local OPTIONS = {
  name = true, factors = true, combinations = true, repetitions = true, warmup = true,
  seed = true, setup = true, run = true, teardown = true, setup_per = true, metric = true,
  metrics = true, unit = true, better = true, alpha = true, confidence = true,
  exclude_misplaced = true, skip = true, baseline = true, pin = true,
}

-- Fields of a table returned by `run` that are not metrics.
local RESERVED = { placement = true, buffers = true, cpus = true, cpus_ran = true,
                   warnings = true, benchmark = true }

local function opt_fn(opts, key, required)
  local v = opts[key]
  if v == nil and not required then return nil end
  if type(v) ~= "function" then
    argerror(key, "function expected, got " .. type(v))
  end
  return v
end

local function opt_prob(opts, key, default)
  local v = opts[key]
  if v == nil then return default end
  if type(v) ~= "number" or not (v > 0 and v < 1) then
    argerror(key, "a number between 0 and 1 expected, got " .. tostring(v))
  end
  return v
end

-- ---- the runner ---------------------------------------------------------------------

local function fail(what, combo, item, msg)
  error(("experiment: %s of %s (%s %d): %s"):format(what, combo.label,
    item.warmup and "warm-up" or "repetition", item.repetition, tostring(msg)), 0)
end

-- Reads what run returned into the run record: value, metrics, cpus,
-- placement, warnings.  Returns nil, message for a failed run.
local function read_result(cfg, rec, n, r1, r2, elapsed)
  if n == 0 or (r1 == nil and r2 == nil) then
    rec.metrics = { elapsed_ns = elapsed }
    return "elapsed_ns"
  end
  if r1 == nil then return nil, tostring(r2) end
  if type(r1) == "number" then
    if r1 ~= r1 then return nil, "run returned NaN" end
    local name = cfg.metric or "value"
    rec.metrics = { [name] = r1 }
    return name
  end
  if type(r1) ~= "table" then
    return nil, "run returned a " .. type(r1) .. " (a number or a table of metrics expected)"
  end
  local metrics, names = {}, {}
  local lnuma_result = type(r1.benchmark) == "string"
  for k, v in pairs(r1) do
    if type(k) == "string" and not RESERVED[k] and math.type(v) and v == v
       and (not lnuma_result or k == cfg.metric) then
      metrics[k], names[#names + 1] = v, k
    end
  end
  for _, k in ipairs(cfg.metrics or {}) do
    if type(r1[k]) == "number" then metrics[k] = r1[k] end
  end
  table.sort(names)
  local name = cfg.metric
  if not name then
    if #names ~= 1 then
      error(("bad argument #1 to 'experiment' (metric: run returned %s; name the one to "
        .. "analyse with 'metric')"):format(#names == 0 and "no number"
        or ("several numbers: " .. table.concat(names, ", "))), 0)
    end
    name = names[1]
  elseif type(r1[name]) ~= "number" or r1[name] ~= r1[name] then
    return nil, ("run returned no number '%s'"):format(name)
  end
  rec.metrics = metrics
  rec.cpus = type(r1.cpus) == "table" and r1.cpus or type(r1.cpus_ran) == "table" and r1.cpus_ran
    or nil
  if type(r1.warnings) == "table" and #r1.warnings > 0 then rec.warnings = r1.warnings end
  rec.given_placement = r1.placement
  rec.given_buffers = r1.buffers
  return name
end

local function run_one(cfg, combo, item, state)
  local rec = { combination = combo.index, repetition = item.repetition,
                warmup = item.warmup or false, flags = {} }
  local info = { combination = combo.index, repetition = item.repetition,
                 warmup = item.warmup or false, index = item.index }
  local t0 = now()
  local res = table.pack(pcall(cfg.run, combo.levels, state, info))
  rec.elapsed_ns = now() - t0
  if not res[1] then return nil, res[2] end
  local name, msg = read_result(cfg, rec, res.n - 1, res[2], res[3], rec.elapsed_ns)
  if not name then
    rec.error, rec.flags[1] = msg, "failed: " .. msg
    return rec
  end
  if cfg.metric_name and name ~= cfg.metric_name then
    error(("bad argument #1 to 'experiment' (metric: run returned '%s' after '%s')")
      :format(name, cfg.metric_name), 0)
  end
  cfg.metric_name = cfg.metric_name or name
  rec.value = rec.metrics[name]
  -- Placement: the buffers setup gave and run returned, and what run read itself.
  local pl, any = {}, false
  local function add_buffers(t)
    if type(t) ~= "table" then return end
    for bname, entry in pairs(t) do
      pl[bname], any = P.buffer_placement(cfg.topo, bname, entry, combo.levels, rec.flags), true
    end
  end
  if require("lnuma").type(state) == "buffer" then
    pl.buffer, any = P.buffer_placement(cfg.topo, "buffer", state, combo.levels, rec.flags), true
  elseif type(state) == "table" and not require("lnuma").type(state) then
    add_buffers(state.buffers)
  end
  add_buffers(rec.given_buffers)
  local gp = rec.given_placement
  if type(gp) == "table" then
    if gp.pages_by_node or gp.by_node or gp.fraction then
      pl.run, any = P.given_placement("run", gp, combo.levels, rec.flags), true
    else
      for pname, p in pairs(gp) do
        if type(p) == "table" then
          pl[pname], any = P.given_placement(pname, p, combo.levels, rec.flags), true
        end
      end
    end
  end
  rec.given_placement, rec.given_buffers = nil, nil
  if any then rec.placement = pl end
  if not rec.cpus then rec.cpus = { (require("lnuma").current()) } end
  P.check_cpus(combo.levels, rec.cpus, rec.flags)
  return rec
end

local function parse(opts)
  opts = O.check_opts("experiment", opts, OPTIONS)
  local cfg = {}
  cfg.factors, cfg.combos = D.combinations(opts)
  cfg.repetitions = O.opt_int("experiment", opts, "repetitions", 10, 1, 1000000)
  cfg.warmup = O.opt_int("experiment", opts, "warmup", 1, 0, 1000000)
  local seed = opts.seed
  if seed ~= nil and math.type(seed) ~= "integer" then
    argerror("seed", "integer expected, got " .. (type(seed) == "number" and tostring(seed)
      or type(seed)))
  end
  cfg.seed = seed or D.default_seed()
  cfg.run = opt_fn(opts, "run", true)
  cfg.setup, cfg.teardown, cfg.skip = opt_fn(opts, "setup"), opt_fn(opts, "teardown"),
    opt_fn(opts, "skip")
  cfg.setup_per = O.opt_choice("experiment", opts, "setup_per", "run", { "run", "combination" })
  for _, key in ipairs({ "metric", "unit", "name" }) do
    if opts[key] ~= nil and type(opts[key]) ~= "string" then
      argerror(key, "string expected, got " .. type(opts[key]))
    end
    cfg[key] = opts[key]
  end
  if opts.metrics ~= nil then
    if type(opts.metrics) ~= "table" then argerror("metrics", "array of names expected") end
    for i, v in ipairs(opts.metrics) do
      if type(v) ~= "string" then argerror("metrics", ("element %d is not a name"):format(i)) end
    end
  end
  cfg.metrics = opts.metrics
  cfg.better = O.opt_choice("experiment", opts, "better", nil, { "lower", "higher" })
  cfg.alpha = opt_prob(opts, "alpha", 0.05)
  cfg.confidence = opt_prob(opts, "confidence", 0.95)
  cfg.exclude_misplaced = O.opt_bool("experiment", opts, "exclude_misplaced", false)
  cfg.pin = O.opt_bool("experiment", opts, "pin", true)
  if opts.baseline ~= nil then
    local b = opts.baseline
    if math.type(b) == "integer" then
      if not cfg.combos[b] then argerror("baseline", ("no combination %d"):format(b)) end
      cfg.baseline = b
    elseif type(b) == "table" then
      for _, c in ipairs(cfg.combos) do
        local match = true
        for k, v in pairs(b) do match = match and D.same(c.levels[k], v) end
        if match then cfg.baseline = c.index; break end
      end
      if not cfg.baseline then argerror("baseline", "matches no combination") end
    else
      argerror("baseline", "a combination index or {factor = level} table expected")
    end
  end
  return cfg
end

-- Pins the calling thread to the combination's CPUs (when it names some and
-- `pin` is on): true when pinned, false when there is nothing to pin,
-- nil, message when the kernel refused.
local function pin(cfg, combo)
  local cpus = cfg.pin and P.asked_cpus(combo.levels)
  if not cpus then return false end
  local lnuma = require "lnuma"
  local ok, msg = lnuma.bind { cpus = cpus }
  if not ok then return nil, ("cannot pin to CPUs %s: %s"):format(core.cpulist(cpus), msg) end
  return true
end

local function start(opts, level)
  local parsed, cfg = pcall(parse, opts)
  if not parsed then
    -- Where the script called, as luaL_argerror says it; not where it was found.
    error((tostring(cfg):gsub("^.-:%d+: (bad argument)", "%1")), level + 1)
  end
  local started = now()
  local lnuma = require "lnuma"
  cfg.topo = assert(U.machine())
  local notes = {}
  for _, combo in ipairs(cfg.combos) do
    combo.skipped = P.unavailable(cfg.topo, combo.levels)
    if not combo.skipped and cfg.skip then
      local why = cfg.skip(combo.levels)
      if why then combo.skipped = why == true and "skipped by the script" or tostring(why) end
    end
    if combo.skipped then
      notes[#notes + 1] = ("%s skipped: %s"):format(combo.label, combo.skipped)
    end
  end
  local order = D.order(#cfg.combos, cfg.repetitions, cfg.warmup, D.rng(cfg.seed))
  local before = lnuma.binding()
  local restore = before and before.cpus
  local states, log, executed = {}, {}, {}
  local function teardown_all()
    if cfg.setup_per == "combination" and cfg.teardown then
      for k, st in pairs(states) do cfg.teardown(st, cfg.combos[k].levels, { combination = k }) end
    end
  end
  local function skip(combo, why)
    combo.skipped = why
    notes[#notes + 1] = ("%s skipped: %s"):format(combo.label, why)
  end
  local ok, err = pcall(function()
    if cfg.setup_per == "combination" and cfg.setup then
      for _, combo in ipairs(cfg.combos) do
        if not combo.skipped then
          local pinned, pmsg = pin(cfg, combo)
          if pinned == nil then skip(combo, pmsg) else
            local sok, st, msg = pcall(cfg.setup, combo.levels, { combination = combo.index })
            if not sok then
              if pinned and restore then lnuma.bind { cpus = restore } end
              error(("experiment: setup of %s: %s"):format(combo.label, tostring(st)), 0)
            end
            if st == nil and msg ~= nil then
              skip(combo, "setup: " .. tostring(msg))
            else
              states[combo.index] = st
            end
          end
          if pinned and restore then lnuma.bind { cpus = restore } end
        end
      end
    end
    for i, item in ipairs(order) do
      local combo = cfg.combos[item.combination]
      item.index = i
      if not combo.skipped then
        local pinned, pmsg = pin(cfg, combo)
        cfg.pinned = pinned
        if pinned == nil then skip(combo, pmsg) else
          local state, smsg = states[combo.index], nil
          local info = { combination = combo.index, repetition = item.repetition,
                         warmup = item.warmup or false, index = i }
          if cfg.setup_per == "run" and cfg.setup then
            local sok
            sok, state, smsg = pcall(cfg.setup, combo.levels, info)
            if not sok then
              if pinned and restore then lnuma.bind { cpus = restore } end
              fail("setup", combo, item, state)
            end
          end
          local rec, rerr, what = nil, nil, "run"
          if state == nil and cfg.setup and smsg ~= nil then
            if not combo.ran then skip(combo, "setup: " .. tostring(smsg)) else
              rec = { combination = combo.index, repetition = item.repetition,
                      warmup = item.warmup or false, error = tostring(smsg),
                      flags = { "failed: setup: " .. tostring(smsg) } }
            end
          else
            rec, rerr = run_one(cfg, combo, item, state)
            if cfg.setup_per == "run" and cfg.teardown then
              local tok, terr = pcall(cfg.teardown, state, combo.levels, info)
              if not tok and rerr == nil then rec, rerr, what = nil, terr, "teardown" end
            end
          end
          if pinned and restore then lnuma.bind { cpus = restore } end
          if not rec and rerr ~= nil then fail(what, combo, item, rerr) end
          if rec then
            combo.ran = combo.ran or rec.value ~= nil
            log[#log + 1], executed[#executed + 1] = rec, combo.index
          end
        end
      end
    end
  end)
  if restore and cfg.pin then lnuma.bind { cpus = restore } end
  local tok, terr = pcall(teardown_all)
  if not ok then error(err, 0) end
  if not tok then error("experiment: teardown: " .. tostring(terr), 0) end

  local res = U.new_result("experiment", nil, nil)
  res.name = cfg.name
  res.seed, res.repetitions, res.warmup = cfg.seed, cfg.repetitions, cfg.warmup
  res.metric = cfg.metric_name or cfg.metric or "value"
  res.unit = cfg.unit or (res.metric:match("_ns$") or res.metric == "ns") and "ns"
    or (res.metric:match("gbps") and "GB/s") or nil
  res.better = cfg.better or ((res.unit == "GB/s" or res.metric:match("gbps")
    or res.metric:match("per_s$")) and "higher" or "lower")
  res.alpha, res.confidence = cfg.alpha, cfg.confidence
  res.exclude_misplaced, res.setup_per, res.baseline = cfg.exclude_misplaced, cfg.setup_per,
    cfg.baseline
  res.units = { [res.metric] = res.unit or "", elapsed_ns = "ns" }
  res.factors = {}
  for i, f in ipairs(cfg.factors) do
    local labels = {}
    for j, v in ipairs(f.levels) do labels[j] = D.label(v) end
    res.factors[i] = { name = f.name, levels = f.levels, labels = labels }
  end
  res.combinations = {}
  for i, c in ipairs(cfg.combos) do
    res.combinations[i] = { index = i, levels = c.levels, label = c.label, skipped = c.skipped }
  end
  res.order, res.runs, res.notes = executed, log, notes
  res.parameters = { name = cfg.name, repetitions = cfg.repetitions, warmup = cfg.warmup,
                     seed = cfg.seed, setup_per = cfg.setup_per, alpha = cfg.alpha,
                     confidence = cfg.confidence, exclude_misplaced = cfg.exclude_misplaced,
                     metric = res.metric, better = res.better, baseline = cfg.baseline,
                     pin = cfg.pin }
  res.elapsed_ns = now() - started
  return M.analyse(res)
end

--- Runs an experiment (also `lnuma.experiment(opts)`).
-- @tparam table opts
--  `factors`: `{name = {levels}}` or `{{name, {levels}}, ...}` (ordered);
--  `combinations` (optional): a list of `{factor = level}` to run instead of
--  every combination; `repetitions` (default 10) measured runs of each;
--  `warmup` (default 1) warm-up rounds, discarded; `seed` (integer; default
--  from the clock, recorded); `run(levels, state, info)` (required) returns
--  a number, a table of named numbers (plus optional `placement`, `buffers`,
--  `cpus`/`cpus_ran`, `warnings`; an lnuma result works as is with
--  `metric`), nothing (its wall time is the metric, `elapsed_ns`) or
--  `nil, message` (a failed run); `info` = `{combination, repetition, warmup,
--  index}`; `setup(levels, info)` returns the state given to run (an lnuma
--  buffer, or a table whose `buffers` = `{name = buffer or {buffer =, node
--  = / nodes =}}` are checked after each run) or `nil, message` (the
--  combination is skipped when that happens before any run of it succeeded);
--  `teardown(state, levels, info)`; `setup_per` "run" (default: a fresh
--  setup for every run) or "combination" (once each, all before the first
--  run, torn down at the end); `skip(levels)` returns a reason to leave a
--  combination out; `metric` (the name analysed when run returns a table;
--  default the only number it returns); `metrics` (more names to record
--  from an lnuma result); `unit`; `better` ("lower" or "higher"; default
--  "higher" for GB/s and rates, else "lower"); `alpha` (0.05); `confidence`
--  (0.95); `exclude_misplaced` (false: flagged runs are counted and
--  warned about; true: left out of the statistics); `baseline` (an index or
--  `{factor = level}`: compare each combination with it instead of all
--  pairs); `pin` (true); `name` (a title).
-- @treturn table the result (see `analyse` for the statistics): `benchmark` =
--  "experiment", `name`, `factors` (`{name, levels, labels}`), `combinations`
--  (each `index`, `levels` (factor -> level), `label`, `runs` (the metric of
--  each measured run the statistics use, in run order), `median`, `stats`,
--  `ci`, `flagged`, `excluded`, `failed`, `skipped` (reason), `metrics`
--  (median of every metric), `rank`, `group`), `comparisons`, `effects`,
--  `ranking`, `order` (combination index of every run, warm-up included, as
--  they ran), `runs` (every run: `combination`, `repetition`, `warmup`,
--  `value`, `metrics`, `placement` (buffer name -> pages by node and page
--  size, fraction on the nodes asked), `cpus`, `flags`, `excluded`, `error`,
--  `elapsed_ns`), `seed`, `repetitions`, `warmup`, `metric`, `unit`,
--  `better`, `alpha`, `confidence`, `notes`, `statistics` (the methods),
--  `cpus_ran`, `clock`, `parameters`, `units`, `warnings`, `elapsed_ns`
-- @raise on bad options, and when setup, run or teardown raises (after
--  teardown and unpinning), naming the combination and repetition
function M.run(opts)
  local res = start(opts, 2) -- not a tail call: level 3 is the script
  return res
end

--- Computes (again) the statistics of an experiment result from its `runs`:
-- per combination `runs`, `median`, `stats`, `ci`, `flagged`, `excluded`,
-- `failed`, `metrics`, `cpus_ran`; then `comparisons`, `effects`, `ranking`,
-- `statistics`, `cpus_ran` and the warnings.  `run` calls it; call it on a
-- loaded result to change alpha, the baseline or the exclusion.
-- @tparam table res an experiment result
-- @tparam[opt] table opts `alpha`, `confidence`, `exclude_misplaced`, `baseline`
--   (an index) and `better`, overriding those of `res`
-- @treturn table res, completed
function M.analyse(res, opts)
  opts = O.check_opts("analyse", opts, { alpha = true, confidence = true,
    exclude_misplaced = true, baseline = true, better = true })
  for k, v in pairs(opts) do res[k] = v end
  res.warnings = {}
  local combos = res.combinations
  local all_cpus = {}
  for _, c in ipairs(combos) do
    c.runs, c.flagged, c.excluded, c.failed = {}, 0, 0, 0
    c.runs_metrics = {}
  end
  for _, r in ipairs(res.runs) do
    local c = combos[r.combination]
    r.excluded = nil
    if not r.warmup and c then
      if r.value == nil then
        c.failed = c.failed + 1
      else
        if #r.flags > 0 then c.flagged = c.flagged + 1 end
        if #r.flags > 0 and res.exclude_misplaced then
          c.excluded, r.excluded = c.excluded + 1, true
        else
          c.runs[#c.runs + 1] = r.value
          for k, v in pairs(r.metrics or {}) do
            c.runs_metrics[k] = c.runs_metrics[k] or {}
            table.insert(c.runs_metrics[k], v)
          end
        end
      end
      for _, cpu in ipairs(r.cpus or {}) do all_cpus[cpu] = true end
    end
  end
  local any_flagged = 0
  for _, c in ipairs(combos) do
    c.n = #c.runs
    if c.n > 0 then
      c.stats = S.summary(c.runs, res.confidence)
      c.median, c.ci = c.stats.median, c.stats.ci
    else
      c.stats, c.median, c.ci = nil, nil, nil
    end
    c.metrics = {}
    for k, vs in pairs(c.runs_metrics) do c.metrics[k] = require("lnuma.bench").stats(vs).median end
    c.runs_metrics = nil
    any_flagged = any_flagged + c.flagged
    if c.failed > 0 then
      U.warn(res, "%s: %d of %d runs failed", c.label, c.failed, res.repetitions)
    end
    if not c.skipped and c.n < 2 then
      U.warn(res, "%s: %d run%s usable, not compared", c.label, c.n, c.n == 1 and "" or "s")
    end
  end
  if any_flagged > 0 then
    U.warn(res, "%d run%s did not get the placement asked (see each run's flags)%s",
      any_flagged, any_flagged == 1 and "" or "s",
      res.exclude_misplaced and ": left out of the statistics" or
      ": counted anyway (exclude_misplaced = true leaves them out)")
  end
  local factors = {}
  for i, f in ipairs(res.factors) do factors[i] = { name = f.name, levels = f.levels } end
  res.comparisons = S.comparisons(factors, combos, res.alpha, res.baseline)
  res.effects = S.effects(factors, combos)
  res.ranking = S.ranking(combos, res.comparisons, res.better, res.baseline == nil)
  for _, e in ipairs(res.ranking) do
    combos[e.combination].rank, combos[e.combination].group = e.rank, e.group
  end
  local cpus = {}
  for cpu in pairs(all_cpus) do cpus[#cpus + 1] = cpu end
  table.sort(cpus)
  res.cpus_ran = cpus
  local ci_level
  for _, c in ipairs(combos) do
    if c.ci and c.ci.level and c.ci.level < res.confidence then ci_level = c.ci.level end
  end
  if ci_level then
    U.warn(res, "with %d repetitions a median's confidence interval is its whole range, of "
      .. "%.1f%% coverage (less than the %.0f%% asked)", res.repetitions, ci_level * 100,
      res.confidence * 100)
  end
  res.statistics = {
    median_ci = "order statistics (binomial), distribution-free",
    test = "Mann-Whitney U, two-sided: exact when there are no ties and n_a * n_b <= 400, "
      .. "else normal approximation with tie and continuity correction",
    correction = "Holm", family = res.baseline and "each against the baseline" or "all pairs",
    effect_size = "Cliff's delta (P(a > b) - P(a < b)); cles = P(a > b) + P(a = b) / 2; "
      .. "ratio = median(b) / median(a)",
    main_effect = "geometric mean of the ratios of medians of combinations that differ "
      .. "only in that factor, against its first level",
    order = "randomised complete blocks: each round runs every combination once, "
      .. "shuffled from the seed (SplitMix64, Fisher-Yates)",
  }
  return res
end

return setmetatable(M, { __call = function(_, opts)
  local res = start(opts, 2)
  return res
end })
