-- The statistics of lnuma.experiment, checked against answers known in
-- advance: p-values counted by hand for small exact cases, confidence
-- intervals from binomial tables, Holm's adjustment by hand, the rate at
-- which identical distributions are called different, and the power to find
-- a shift.
local lnuma = require "lnuma"
local S = require "lnuma.experiment_stats"
local D = require "lnuma.experiment_design"

local function near(expected, got, tol, what)
  assert.is_true(math.abs(expected - got) <= (tol or 1e-12),
    ("%s: expected %.12g, got %.12g"):format(what or "value", expected, got))
end

describe("lnuma.bench.mann_whitney, exact", function()
  -- P-values by counting orderings: with m and n values and no ties, each of
  -- the C(m+n, m) orderings is equally likely under the null hypothesis.
  it("gives 2/C(4,2) for {1,2} against {3,4}: the most extreme of 6 orderings", function()
    local u, _, p, method = lnuma.bench.mann_whitney({ 1, 2 }, { 3, 4 }, { method = "exact" })
    assert.equal(0, u)
    assert.equal("exact", method)
    near(2 / 6, p)
  end)

  it("gives 2/20 for 3 against 3 and 2/70 for 4 against 4, completely separated", function()
    near(2 / 20, (select(3, lnuma.bench.mann_whitney({ 1, 2, 3 }, { 4, 5, 6 },
                                                      { method = "exact" }))))
    near(2 / 70, (select(3, lnuma.bench.mann_whitney({ 1, 2, 3, 4 }, { 5, 6, 7, 8 },
                                                      { method = "exact" }))))
  end)

  it("counts U as the pairs where a is larger and is symmetric in direction", function()
    -- {1,3} vs {2,4}: only 3 > 2, so U = 1; the U of 2 against 2 takes
    -- 0,1,2,3,4 in 1,1,2,1,1 of the 6 orderings: p = 2 * 2/6.
    local u, _, p = lnuma.bench.mann_whitney({ 1, 3 }, { 2, 4 }, { method = "exact" })
    assert.equal(1, u)
    near(4 / 6, p)
    local u2, _, p2 = lnuma.bench.mann_whitney({ 5, 6, 7 }, { 1, 2, 3 }, { method = "exact" })
    assert.equal(9, u2)
    near(0.1, p2)
  end)

  it("gives 8/35 for U = 2 with 3 against 4 (counts 1,1,2,3,4,... of 35)", function()
    local u, _, p = lnuma.bench.mann_whitney({ 1, 2, 5 }, { 3, 4, 6, 7 }, { method = "exact" })
    assert.equal(2, u)
    near(8 / 35, p)
  end)

  it("caps p at 1 when U is the middle of its distribution", function()
    near(1, (select(3, lnuma.bench.mann_whitney({ 1, 4 }, { 2, 3 }, { method = "exact" }))))
  end)

  it("gives 2/C(20,10) for two separated samples of 10 under 'auto'", function()
    local a, b = {}, {}
    for i = 1, 10 do a[i], b[i] = i, i + 10 end
    local _, _, p, method = lnuma.bench.mann_whitney(a, b, { method = "auto" })
    assert.equal("exact", method)
    near(2 / 184756, p, 1e-15)
    -- The default stays the normal approximation: z = (50 - 0.5) / sqrt(175).
    local _, z, pn, m2 = lnuma.bench.mann_whitney(a, b)
    assert.equal("normal", m2)
    near(-49.5 / math.sqrt(175), z, 1e-9)
    near(1.8267e-4, pn, 1e-7)
  end)

  it("falls back to the normal approximation when values tie", function()
    local _, _, _, method = lnuma.bench.mann_whitney({ 1, 2, 2 }, { 2, 3, 4 }, { method = "exact" })
    assert.equal("normal", method)
  end)

  it("rejects an unknown method, naming it", function()
    assert.has_error(function() lnuma.bench.mann_whitney({ 1 }, { 2 }, { method = "t" }) end,
      "bad argument #3 to 'mann_whitney' (method: 't' is not one of normal, exact, auto)")
  end)
end)

describe("the experiment statistics", function()
  it("adjusts p-values by Holm's step-down rule", function()
    local adj = S.holm({ 0.01, 0.04, 0.03, 0.005 })
    -- sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, max(0.04*1, 0.06) = 0.06
    near(0.03, adj[1]); near(0.06, adj[2]); near(0.06, adj[3]); near(0.02, adj[4])
  end)

  it("takes the median's interval from the binomial order statistics", function()
    local function seq(n)
      local s = {}
      for i = 1, n do s[i] = i * 10 end
      return s
    end
    -- n = 10: ranks 2 and 9, coverage 1 - 2 * 11/1024
    local ci = S.median_ci(seq(10), 0.95)
    assert.same({ 20, 90 }, { ci.lo, ci.hi })
    near(1 - 2 * 11 / 1024, ci.level)
    -- n = 20: ranks 6 and 15, coverage 0.9586...
    ci = S.median_ci(seq(20), 0.95)
    assert.same({ 60, 150 }, { ci.lo, ci.hi })
    near(0.95861053466797, ci.level, 1e-12)
    -- n = 5: the whole range, and it says its coverage is only 1 - 2/32
    ci = S.median_ci(seq(5), 0.95)
    assert.same({ 10, 50 }, { ci.lo, ci.hi })
    near(0.9375, ci.level)
  end)

  it("gives Cliff's delta and the common-language effect size from the pairs", function()
    -- {1,2,3} vs {2,3,4}: of 9 pairs a > b once, a < b six times, two ties.
    local c = S.compare({ 1, 2, 3 }, { 2, 3, 4 })
    near(-5 / 9, c.cliffs_delta)
    near(2 / 9, c.cles)
    near(1.5, c.ratio)
    assert.equal("large", c.magnitude)
  end)
end)

-- Runs an experiment of k identical-or-shifted combinations whose values come
-- from the generator seeded `seed`.
local function synthetic(seed, k, shift, reps)
  local g = D.rng(seed * 7919 + 1)
  local levels = {}
  for i = 1, k do levels[i] = "c" .. i end
  return lnuma.experiment {
    factors = { which = levels }, repetitions = reps or 10, warmup = 0, seed = seed,
    run = function(lv)
      return 100 + g.normal() + (lv.which == "c" .. k and shift or 0)
    end,
  }
end

describe("the experiment's tests, over many seeds", function()
  it("call identical distributions different at about alpha, no more (200 seeds)", function()
    -- Bin(200, 0.05) exceeds 20 with probability 0.0005; the exact test at
    -- 10 against 10 is conservative, so fewer are expected (about 8).
    local hits = 0
    for seed = 1, 200 do
      local res = synthetic(seed, 2, 0)
      assert.equal(1, #res.comparisons)
      if res.comparisons[1].significant then hits = hits + 1 end
    end
    assert.is_true(hits <= 20, "false positives: " .. hits .. " of 200")
    assert.is_true(hits >= 2, "false positives: " .. hits .. " of 200 (test too timid?)")
  end)

  it("holds the family-wise rate across three identical combinations (Holm)", function()
    local hits = 0
    for seed = 1, 200 do
      local res = synthetic(seed, 3, 0)
      assert.equal(3, #res.comparisons)
      local any = false
      for _, c in ipairs(res.comparisons) do any = any or c.significant end
      if any then hits = hits + 1 end
    end
    assert.is_true(hits <= 20, "experiments with a false positive: " .. hits .. " of 200")
  end)

  it("finds a shift of two standard deviations nearly always, in its direction", function()
    local found = 0
    for seed = 1, 50 do
      local res = synthetic(seed, 2, 2)
      local c = res.comparisons[1]
      if c.significant and c.ratio > 1 and c.cliffs_delta < 0 then found = found + 1 end
    end
    assert.is_true(found >= 45, "found " .. found .. " of 50")
  end)

  it("ranks combinations and groups those it cannot tell apart", function()
    local vals = { a = 0, b = 0.001, c = 50 }
    local res = lnuma.experiment {
      factors = { x = { "c", "b", "a" } }, repetitions = 8, warmup = 0, seed = 9,
      run = function(lv, _, info) return 10 + vals[lv.x] + info.repetition end,
    }
    local order = {}
    for _, e in ipairs(res.ranking) do order[#order + 1] = res.combinations[e.combination].label end
    assert.same({ "x=a", "x=b", "x=c" }, order)
    assert.same({ 1, 1, 2 }, { res.ranking[1].group, res.ranking[2].group, res.ranking[3].group })
    -- higher is better turns it round
    local up = require("lnuma.experiment").analyse(res, { better = "higher" })
    assert.equal("x=c", up.combinations[up.ranking[1].combination].label)
  end)

  it("measures a factor's main effect over matched combinations", function()
    local g = D.rng(5)
    local res = lnuma.experiment {
      factors = { { "x", { "one", "two" } }, { "y", { 1, 3 } } }, repetitions = 9, seed = 2,
      run = function(lv)
        return 100 * (lv.x == "two" and 2 or 1) * lv.y * (1 + 0.001 * g.normal())
      end,
    }
    local by = {}
    for _, e in ipairs(res.effects) do by[e.factor] = e end
    assert.equal("one", by.x.reference)
    near(2, by.x.levels[2].ratio, 0.01, "x = two")
    near(3, by.y.levels[2].ratio, 0.01, "y = 3")
    assert.equal(2, by.x.levels[2].pairs)
    assert.is_true(by.x.levels[2].matched)
  end)
end)
