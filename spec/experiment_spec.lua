-- lnuma.experiment: the design (the seeded interleaved order), the runner
-- (setup, run, teardown, warm-up, failures, skipped levels), the placement
-- each run got, and the result as JSON, text, CSV and SVG.  Runs take
-- microseconds: the run functions return numbers the spec chooses.
local lnuma = require "lnuma"

local function counting_run(calls)
  return function(lv, _, info)
    calls[#calls + 1] = { x = lv.x, warmup = info.warmup, combination = info.combination }
    return info.repetition
  end
end

local function first_cpu() return lnuma.topology().allowed.cpus[1] end

describe("lnuma.experiment's order", function()
  local function order(seed, reps)
    local res = lnuma.experiment { factors = { x = { "a", "b", "c", "d" } },
                                   repetitions = reps or 6, warmup = 1, seed = seed,
                                   run = function() return 1 end }
    return res.order, res
  end

  it("is the same for the same seed and differs for another seed", function()
    assert.same(order(42), order(42))
    assert.are_not.same(order(42), order(43))
  end)

  it("runs each combination `repetitions` times after one warm-up round, recorded", function()
    local o, res = order(7, 6)
    assert.equal(4 * 7, #o)
    local count = {}
    for i, k in ipairs(o) do
      count[k] = (count[k] or 0) + 1
      assert.equal(k, res.runs[i].combination)
      assert.equal(i <= 4, res.runs[i].warmup)
    end
    assert.same({ 7, 7, 7, 7 }, count)
    for _, c in ipairs(res.combinations) do assert.equal(6, #c.runs) end
    assert.equal(7, res.seed)
    assert.equal(1, res.warmup)
  end)

  it("interleaves: every round of 4 runs holds each combination once", function()
    local o = order(11, 10)
    for start = 1, #o, 4 do
      local seen = {}
      for i = start, start + 3 do seen[o[i]] = true end
      assert.same({ true, true, true, true }, seen)
    end
    -- and the rounds are shuffled, not all in one order (blocked)
    local firsts = {}
    for start = 1, #o, 4 do firsts[o[start]] = true end
    local n = 0
    for _ in pairs(firsts) do n = n + 1 end
    assert.is_true(n > 1)
  end)

  it("calls run in the order it records, discarding the warm-up runs", function()
    local calls = {}
    local res = lnuma.experiment { factors = { x = { "a", "b" } }, repetitions = 3, warmup = 2,
      seed = 5, run = function(_, _, info)
        calls[#calls + 1] = info.combination
        return info.warmup and 1e9 or 1
      end }
    assert.same(res.order, calls)
    assert.equal(10, #calls)
    for _, c in ipairs(res.combinations) do
      assert.same({ 1, 1, 1 }, c.runs)
      assert.equal(1, c.median)
    end
  end)

  it("records a seed from the clock when none is given", function()
    local res = lnuma.experiment { factors = { x = { 1, 2 } }, repetitions = 2,
                                   run = function() return 1 end }
    assert.equal("integer", math.type(res.seed))
  end)
end)

describe("lnuma.experiment's runner", function()
  it("gives run the levels and setup's state, and tears down each run", function()
    local log = {}
    local res = lnuma.experiment {
      factors = { { "x", { "a", "b" } }, { "n", { 1, 2 } } }, repetitions = 2, warmup = 0,
      seed = 1,
      setup = function(lv) log[#log + 1] = "setup " .. lv.x; return { v = lv.n } end,
      run = function(lv, st) return st.v * 10 + (lv.x == "b" and 1 or 0) end,
      teardown = function(st, lv) log[#log + 1] = "teardown " .. lv.x .. st.v end,
    }
    assert.equal(16, #log)
    local by = {}
    for _, c in ipairs(res.combinations) do by[c.label] = c.median end
    assert.same({ ["x=a n=1"] = 10, ["x=a n=2"] = 20, ["x=b n=1"] = 11, ["x=b n=2"] = 21 }, by)
  end)

  it("sets up each combination once with setup_per = 'combination'", function()
    local setups, teardowns = 0, 0
    lnuma.experiment { factors = { x = { 1, 2, 3 } }, repetitions = 4, seed = 1,
      setup_per = "combination",
      setup = function(lv) setups = setups + 1; return lv.x end,
      run = function(_, st) return st end,
      teardown = function() teardowns = teardowns + 1 end }
    assert.equal(3, setups)
    assert.equal(3, teardowns)
  end)

  it("runs only the combinations chosen", function()
    local calls = {}
    local res = lnuma.experiment {
      factors = { x = { "a", "b" }, y = { 1, 2 } },
      combinations = { { x = "a", y = 1 }, { x = "b", y = 2 } },
      repetitions = 2, warmup = 0, seed = 3, run = counting_run(calls) }
    assert.equal(2, #res.combinations)
    assert.equal(4, #calls)
    assert.equal("x=b y=2", res.combinations[2].label)
    assert.equal(1, #res.comparisons)
  end)

  it("analyses a named metric of a table and records the others", function()
    local res = lnuma.experiment { factors = { x = { 1, 2 } }, repetitions = 3, seed = 1,
      metric = "gbps",
      run = function(lv) return { gbps = lv.x * 10, latency_ns = 5 } end }
    assert.equal("gbps", res.metric)
    assert.equal("GB/s", res.unit)
    assert.equal("higher", res.better)
    assert.same({ gbps = 20, latency_ns = 5 }, res.combinations[2].metrics)
    assert.equal(2, res.ranking[1].combination)
  end)

  it("asks which metric when run returns several", function()
    assert.has_error(function()
      lnuma.experiment { factors = { x = { 1 } }, repetitions = 1, seed = 1,
                         run = function() return { a = 1, b = 2 } end }
    end, "bad argument #1 to 'experiment' (metric: run returned several numbers: a, b; "
      .. "name the one to analyse with 'metric')")
  end)

  it("times run when it returns nothing", function()
    local res = lnuma.experiment { factors = { x = { 1 } }, repetitions = 2, seed = 1,
                                   run = function() end }
    assert.equal("elapsed_ns", res.metric)
    assert.equal("ns", res.unit)
    assert.is_true(res.combinations[1].median > 0)
  end)

  it("counts a run that returns nil, message as failed and warns", function()
    local res = lnuma.experiment { factors = { x = { 1, 2 } }, repetitions = 3, warmup = 0,
      seed = 1, run = function(lv, _, info)
        if lv.x == 2 and info.repetition == 2 then return nil, "device busy" end
        return 1
      end }
    local c = res.combinations[2]
    assert.equal(1, c.failed)
    assert.equal(2, #c.runs)
    assert.matches("x=2: 1 of 3 runs failed", table.concat(res.warnings, "\n"), 1, true)
  end)

  it("skips a combination whose setup fails before any run, with a note", function()
    local res = lnuma.experiment { factors = { huge = { false, "1G" } }, repetitions = 2,
      seed = 1,
      setup = function(lv)
        if lv.huge == "1G" then return nil, "no 1G pages reserved" end
        return 1
      end,
      run = function(_, st) return st end }
    assert.equal("setup: no 1G pages reserved", res.combinations[2].skipped)
    assert.same({ "huge=1G skipped: setup: no 1G pages reserved" }, res.notes)
    assert.equal(0, #res.comparisons)
  end)

  it("skips levels this machine does not have, and those `skip` names", function()
    local res = lnuma.experiment { factors = { node = { 0, 4095 } }, repetitions = 2, seed = 1,
      skip = function(lv) return lv.node == 0 and "not today" end,
      run = function() return 1 end }
    assert.matches("^node 4095 is not on this machine", res.combinations[2].skipped)
    assert.equal("not today", res.combinations[1].skipped)
    assert.equal(0, #res.runs)
  end)

  it("tears down and names the combination when run raises", function()
    local torn = 0
    local ok, err = pcall(lnuma.experiment, { factors = { x = { "a" } }, repetitions = 2,
      warmup = 0, seed = 1, setup = function() return 1 end,
      teardown = function() torn = torn + 1 end,
      run = function() error("boom", 0) end })
    assert.is_false(ok)
    assert.equal("experiment: run of x=a (repetition 1): boom", err)
    assert.equal(1, torn)
  end)

  it("compares with a baseline only when asked", function()
    local res = lnuma.experiment { factors = { x = { 1, 2, 3 } }, repetitions = 3, seed = 1,
      baseline = { x = 2 }, run = function(lv) return lv.x end }
    assert.equal(2, #res.comparisons)
    for _, c in ipairs(res.comparisons) do assert.equal(2, c.a) end
    assert.is_nil(res.ranking[1].group)
  end)
end)

describe("lnuma.experiment's options", function()
  local function err(opts)
    return select(2, pcall(lnuma.experiment, opts))
  end
  local run = function() return 1 end

  it("names an unknown option", function()
    assert.equal("bad argument #1 to 'experiment' (unknown option 'repetition')",
      err { factors = { x = { 1 } }, repetition = 3, run = run })
  end)

  it("needs factors or combinations, and a run function", function()
    assert.equal("bad argument #1 to 'experiment' (factors: missing (or give 'combinations'))",
      err { run = run })
    assert.equal("bad argument #1 to 'experiment' (run: function expected, got nil)",
      err { factors = { x = { 1 } } })
  end)

  it("rejects levels that are not values and combinations not in the design", function()
    assert.equal("bad argument #1 to 'experiment' (factors.x: a level must be a string, "
      .. "number, boolean or array of integers, got function)", err { factors = { x = { run } },
      run = run })
    assert.equal("bad argument #1 to 'experiment' (combinations[1]: x = 3 is not one of its "
      .. "levels)", err { factors = { x = { 1, 2 } }, combinations = { { x = 3 } }, run = run })
    assert.equal("bad argument #1 to 'experiment' (factors.x: level 1 given twice)",
      err { factors = { x = { 1, 1 } }, run = run })
  end)

  it("checks numbers and choices", function()
    assert.equal("bad argument #1 to 'experiment' (repetitions: must be between 1 and 1000000, "
      .. "got 0)", err { factors = { x = { 1 } }, repetitions = 0, run = run })
    assert.equal("bad argument #1 to 'experiment' (seed: integer expected, got 1.5)",
      err { factors = { x = { 1 } }, seed = 1.5, run = run })
    assert.equal("bad argument #1 to 'experiment' (alpha: a number between 0 and 1 expected, "
      .. "got 2)", err { factors = { x = { 1 } }, alpha = 2, run = run })
    assert.equal("bad argument #1 to 'experiment' (setup_per: 'each' is not one of run, "
      .. "combination)", err { factors = { x = { 1 } }, setup_per = "each", run = run })
  end)
end)

describe("the placement each run got", function()
  it("reads the pages of setup's buffer against the node asked", function()
    local node = lnuma.topology().allowed.nodes[1]
    local res = lnuma.experiment { factors = { node = { node } }, repetitions = 2, seed = 1,
      setup = function(lv) return assert(lnuma.alloc(64 * 1024, { node = lv.node })) end,
      run = function(_, buf) return buf:size() end,
      teardown = function(buf) buf:free() end }
    local run = res.runs[#res.runs]
    local p = run.placement.buffer
    assert.equal(node, p.node)
    assert.equal(1, p.fraction)
    assert.same({ { node = node, pages = p.pages } }, p.pages_by_node)
    assert.is_true(#p.pages_by_size >= 1)
    assert.same({}, run.flags)
  end)

  it("flags, and on request excludes, a run whose pages were not where asked", function()
    local node = lnuma.topology().allowed.nodes[1]
    local function experiment(exclude)
      return lnuma.experiment { factors = { node = { node } }, repetitions = 4, warmup = 0,
        seed = 1, exclude_misplaced = exclude,
        run = function(_, _, info)
          local spill = info.repetition == 2 and 5 or 0
          return { ns = 100 + spill, placement = { pages_by_node = {
            { node = node, pages = 5 }, { node = node + 1, pages = spill } } } }
        end }
    end
    local res = experiment(false)
    local c = res.combinations[1]
    assert.equal(1, c.flagged)
    assert.equal(4, #c.runs)
    assert.equal(("run: only 50.0%% of the pages on the nodes asked (node %d: 5, node %d: 5)")
      :format(node, node + 1), res.runs[2].flags[1])
    assert.matches("1 run did not get the placement asked", res.warnings[1], 1, true)
    res = experiment(true)
    c = res.combinations[1]
    assert.equal(1, c.excluded)
    assert.same({ 100, 100, 100 }, c.runs)
    assert.is_true(res.runs[2].excluded)
  end)

  it("pins the thread to a cpu level, records where it ran, and unpins", function()
    local before = lnuma.binding().cpus
    local cpus = lnuma.topology().allowed.cpus
    local res = lnuma.experiment { factors = { cpu = cpus }, repetitions = 2, seed = 1,
      run = function() return (lnuma.current()) end }
    for _, c in ipairs(res.combinations) do
      assert.same({ c.levels.cpu, c.levels.cpu }, c.runs)
    end
    assert.same(cpus, res.cpus_ran)
    assert.same(before, lnuma.binding().cpus)
  end)

  it("flags a run that says it ran outside the CPUs asked", function()
    local cpu = first_cpu()
    local res = lnuma.experiment { factors = { cpus = { { cpu } } }, repetitions = 2, seed = 1,
      pin = false, run = function() return { ns = 1, cpus = { cpu + 4096 } } end }
    assert.equal(("ran on CPU %d, outside the CPUs asked (%d)"):format(cpu + 4096, cpu),
      res.runs[1].flags[1])
    assert.equal(2, res.combinations[1].flagged)
  end)
end)

describe("an experiment result", function()
  local res = lnuma.experiment { name = "demo", factors = { x = { "a", "b" }, y = { 1, 2 } },
    repetitions = 5, seed = 3, run = function(lv, _, info)
      return (lv.x == "b" and 100 or 10) + lv.y + info.repetition / 10
    end }

  it("carries what the contract promises", function()
    for _, c in ipairs(res.combinations) do
      assert.is_table(c.levels)
      assert.equal(5, #c.runs)
      assert.is_number(c.median)
      assert.is_number(c.ci.lo)
    end
    for _, c in ipairs(res.comparisons) do
      assert.is_number(c.p)
      assert.is_boolean(c.significant)
      assert.equal(res.combinations[c.a].levels, c.levels_a)
      assert.equal(res.combinations[c.b].levels, c.levels_b)
    end
    assert.equal("experiment", res.benchmark)
    assert.is_table(res.clock)
    assert.is_string(res.clock.source)
    assert.is_table(res.cpus_ran)
    assert.is_table(res.warnings)
  end)

  it("survives JSON and renders the same from the file", function()
    local back = lnuma.report.decode(lnuma.report.json(res))
    assert.is_true(lnuma.report.check(back))
    assert.equal(lnuma.report.text(res), lnuma.report.text(back))
    assert.equal(lnuma.report.svg(res), lnuma.report.svg(back))
  end)

  it("reads as a text table with effects and comparisons", function()
    local text = lnuma.report.text(res)
    assert.matches("experiment 'demo': value, lower is better", text, 1, true)
    assert.matches("4 combinations of x (2) x y (2); 5 repetitions each", text, 1, true)
    assert.matches("x (against a): b x", text, 1, true)
    assert.matches("comparisons (Mann-Whitney U, Holm-adjusted over 6, alpha 0.05)", text, 1, true)
  end)

  it("shows a time in ns in the largest unit its smallest median reaches", function()
    local function text_of(values)
      local r = lnuma.experiment { factors = { x = { "a", "b" } }, repetitions = 3, warmup = 0,
                                   seed = 1, metric = "wall_ns",
                                   run = function(lv) return { wall_ns = values[lv.x] } end }
      return lnuma.report.text(r), r
    end
    local text, r = text_of { a = 234060849, b = 1806000 }
    assert.equal("ns", r.unit)
    assert.matches("values in ms;", text, 1, true)
    assert.matches("%s1%.81%s", text)
    assert.matches("%s234%s", text)
    assert.is_nil(text:find("234060849", 1, true))
    local picture = lnuma.report.svg(r) -- the axis in the same unit
    assert.matches("wall_ns (ms), lower is better", picture, 1, true)
    assert.matches(">200</text>", picture, 1, true)
    text = text_of { a = 2500000000, b = 3100000000 }
    assert.matches("values in s;", text, 1, true)
    assert.matches("%s2%.50%s", text)
    text = text_of { a = 812, b = 4000 }
    assert.matches("values in ns;", text, 1, true)
    assert.matches("%s812%s", text)
  end)

  it("writes runs, combinations and comparisons as CSV", function()
    local csv = lnuma.report.csv(res)
    assert.matches("^run,combination,x,y,repetition,warmup,value,excluded,flags\n", csv)
    local _, lines = csv:gsub("\n", "")
    assert.equal(1 + 4 * 6, lines)
    local render = require "lnuma.experiment_render"
    assert.matches("^combination,x,y,n,median,ci_lo", render.csv(res, "combinations"))
    assert.matches("^a,b,label_a,label_b,differs_in", render.csv(res, "comparisons"))
  end)

  it("draws every run, its median and the effects as SVG", function()
    local svg = lnuma.report.svg(res)
    assert.matches("^<%?xml", svg)
    local _, dots = svg:gsub("<circle", "")
    assert.equal(4 * 5 + 2, dots) -- runs, and one dot per non-reference level
    assert.matches("Main effects", svg, 1, true)
  end)

  it("is rendered by `lnuma report FILE`", function()
    local tmp = os.tmpname()
    finally(function() os.remove(tmp) end)
    assert(lnuma.report.save(res, tmp .. ".json"))
    finally(function() os.remove(tmp .. ".json") end)
    local p = assert(io.popen("bin/lnuma report " .. tmp .. ".json 2>&1"))
    local out = p:read("a")
    assert.is_true(p:close(), out)
    assert.matches("experiment 'demo'", out, 1, true)
  end)

  it("names the field a hand-edited file broke", function()
    local back = lnuma.report.decode(lnuma.report.json(res))
    back.combinations[2].runs[3] = "x"
    assert.equal("not a whole lnuma experiment result: combinations[2].runs[3]: a number "
      .. "expected, got \"x\"", select(2, lnuma.report.check(back)))
  end)
end)

describe("experiments on several nodes #multinode", function()
  local sys = dofile("spec/support/sys.lua")
  local ONE_NODE = "needs ≥2 NUMA nodes: runs in the emulated machines (make test-vm)"
  local function memory_nodes()
    local nodes = sys.memory_nodes()
    if #nodes < 2 then pending(ONE_NODE) end
    return nodes
  end

  it("records each run's pages on the node its level asked", function()
    local nodes = memory_nodes()
    local res = lnuma.experiment { factors = { node = nodes }, repetitions = 2, seed = 1,
      setup = function(lv) return assert(lnuma.alloc(1024 * 1024, { node = lv.node })) end,
      run = function(_, buf) return buf:size() end,
      teardown = function(buf) buf:free() end }
    for _, run in ipairs(res.runs) do
      local node = res.combinations[run.combination].levels.node
      assert.same({ { node = node, pages = 256 } }, run.placement.buffer.pages_by_node)
      assert.same({}, run.flags)
    end
    for _, w in ipairs(res.warnings) do assert.is_nil(w:find("placement", 1, true), w) end
  end)

  it("flags and excludes runs whose buffer is on another node than the level says", function()
    local nodes = memory_nodes()
    local res = lnuma.experiment { factors = { node = nodes }, repetitions = 2, seed = 1,
      exclude_misplaced = true,
      -- setup ignores the level: every buffer goes to the first node
      setup = function() return assert(lnuma.alloc(1024 * 1024, { node = nodes[1] })) end,
      run = function() return 1 end,
      teardown = function(buf) buf:free() end }
    for _, c in ipairs(res.combinations) do
      if c.levels.node == nodes[1] then
        assert.equal(0, c.flagged)
        assert.equal(2, #c.runs)
      else
        assert.equal(2, c.excluded)
        assert.equal(0, #c.runs)
      end
    end
    assert.matches("^buffer: only 0.0%% of the 256 pages are on the intended node",
      res.runs[#res.runs].flags[1] or res.runs[1].flags[1])
  end)

  it("runs the first-touch example: the first-touched buffer sits on the far node", function()
    local nodes = memory_nodes()
    local cpu_nodes = 0
    for _, n in ipairs(nodes) do
      if #sys.node_cpus(n) > 0 then cpu_nodes = cpu_nodes + 1 end
    end
    if cpu_nodes < 2 then pending("needs two nodes with CPUs") end
    local p = assert(io.popen("lua5.4 examples/first_touch_vs_bind.lua --quick 2>&1"))
    local out = p:read("a")
    assert.is_true(p:close(), out)
    assert.matches("first touch on CPU %d+ +[%d.]+ ns per load from CPU %d+;   0.0%% of the pages",
      out)
    assert.matches("bound to node %d+ +[%d.]+ ns per load from CPU %d+; 100.0%% of the pages", out)
  end)
end)
