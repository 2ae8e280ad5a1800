--- The statistics of an experiment (private to lua/lnuma/experiment*.lua):
-- per combination the median with a distribution-free confidence interval,
-- pairwise Mann-Whitney U tests with effect sizes and Holm's correction,
-- the main effect of each factor, and a ranking in groups that the tests
-- cannot tell apart.  The tests themselves are `lnuma.bench.mann_whitney`
-- and `lnuma.bench.stats` (bench.lua); this module only puts them together.
-- @module lnuma.experiment_stats

local bench = require "lnuma.bench"
local U = require "lnuma.bench.util"

local S = {}

local exp, log = math.exp, math.log

-- ---- one combination ------------------------------------------------------------

-- P(B <= k) for B ~ Binomial(n, 1/2), summed in log space (no underflow).
local function binom_half_cdf(n, k)
  if k < 0 then return 0 end
  if k >= n then return 1 end
  local lp, sum = n * log(0.5), 0
  for i = 0, k do
    if i > 0 then lp = lp + log(n - i + 1) - log(i) end
    sum = sum + exp(lp)
  end
  return math.min(1, sum)
end
S.binom_half_cdf = binom_half_cdf

--- The distribution-free confidence interval of a median from order
-- statistics: `[x(k), x(n-k+1)]` with the largest k whose coverage
-- `1 - 2 P(B <= k-1)`, B ~ Binomial(n, 1/2), is at least `level`.  With too
-- few values for that, the interval is `[min, max]` and its coverage is less
-- than asked: `level` in the answer always says what it really is.
-- @tparam {number,...} s the values, sorted
-- @tparam number level asked, e.g. 0.95
-- @treturn table `{lo =, hi =, level = coverage, asked =, k =, method = "order statistics"}`
--   (nil lo/hi when s is empty)
function S.median_ci(s, level)
  local n = #s
  local ci = { asked = level, method = "order statistics (binomial), distribution-free" }
  if n == 0 then return ci end
  local alpha = 1 - level
  local k = 1
  -- Widen inwards while the tail below rank k stays within alpha / 2.
  while k < n - k + 1 and binom_half_cdf(n, k) <= alpha / 2 do k = k + 1 end
  ci.k, ci.lo, ci.hi = k, s[k], s[n - k + 1]
  ci.level = 1 - 2 * binom_half_cdf(n, k - 1)
  return ci
end

--- Summary of the values of one combination: `lnuma.bench.stats` (median,
-- mean, stddev, min, max, cv, n), spread = (max - min) / median, the
-- quartiles `q1`, `q3` (nearest rank) and `ci` (see `median_ci`).
-- @tparam {number,...} values
-- @tparam number level confidence level of the interval
-- @treturn table
function S.summary(values, level)
  local st = U.stats(values)
  local s = U.sorted(values)
  st.q1, st.q3 = U.quantile(s, 0.25), U.quantile(s, 0.75)
  st.ci = S.median_ci(s, level)
  return st
end

-- ---- two combinations ---------------------------------------------------------------

-- Romano et al. (2006): thresholds of |Cliff's delta|.
local function magnitude(d)
  local a = math.abs(d)
  if a < 0.147 then return "negligible" end
  if a < 0.33 then return "small" end
  if a < 0.474 then return "medium" end
  return "large"
end

--- Compares two samples: Mann-Whitney U (exact for small samples without
-- ties, else normal approximation; see `lnuma.bench.mann_whitney`), Cliff's
-- delta = P(a > b) - P(a < b), the common-language effect size `cles` =
-- P(a > b) + P(a = b) / 2, and the ratio of medians b / a.
-- @tparam {number,...} a
-- @tparam {number,...} b
-- @treturn table `u`, `p`, `method`, `cliffs_delta`, `cles`, `magnitude`,
--   `median_a`, `median_b`, `ratio`, `n_a`, `n_b`
function S.compare(a, b)
  local u, _, p, method = bench.mann_whitney(a, b, { method = "auto" })
  local na, nb = #a, #b
  local cles = u / (na * nb)
  local ma, mb = bench.stats(a).median, bench.stats(b).median
  local ratio
  if ma ~= 0 then ratio = mb / ma elseif mb == 0 then ratio = 1.0 end
  local delta = 2 * cles - 1
  return { u = u, p = p, method = method, cliffs_delta = delta, cles = cles,
           magnitude = magnitude(delta), median_a = ma, median_b = mb, ratio = ratio,
           n_a = na, n_b = nb }
end

--- Holm's step-down adjustment of p-values (controls the family-wise error
-- rate at alpha for any dependence between the tests).
-- @tparam {number,...} ps
-- @treturn {number,...} adjusted p-values, in the same order
function S.holm(ps)
  local m = #ps
  local idx = {}
  for i = 1, m do idx[i] = i end
  table.sort(idx, function(x, y)
    if ps[x] ~= ps[y] then return ps[x] < ps[y] end
    return x < y
  end)
  local out, running = {}, 0
  for rank, i in ipairs(idx) do
    running = math.max(running, math.min(1, (m - rank + 1) * ps[i]))
    out[i] = running
  end
  return out
end

-- The factors whose levels differ between two combinations.
local function differs(factors, ca, cb)
  local same = require("lnuma.experiment_design").same
  local out = {}
  for _, f in ipairs(factors) do
    if not same(ca.levels[f.name], cb.levels[f.name]) then out[#out + 1] = f.name end
  end
  return out
end

--- Pairwise comparisons of the combinations that have at least 2 runs: all
-- pairs, or each against a baseline; Holm-adjusted over the family.
-- @tparam table factors
-- @tparam table combos combinations with `runs`
-- @tparam number alpha
-- @tparam[opt] integer baseline index of the baseline combination
-- @treturn table comparisons `{a =, b =, label_a =, label_b =, levels_a =,
--   levels_b =, differs_in =, p =, p_adjusted =, significant =, ...}` (a and
--   b are combination indexes; see `compare` for the rest)
function S.comparisons(factors, combos, alpha, baseline)
  local out = {}
  local function add(ca, cb)
    if #ca.runs < 2 or #cb.runs < 2 then return end
    local c = S.compare(ca.runs, cb.runs)
    c.a, c.b, c.label_a, c.label_b = ca.index, cb.index, ca.label, cb.label
    c.levels_a, c.levels_b = ca.levels, cb.levels
    c.differs_in = differs(factors, ca, cb)
    out[#out + 1] = c
  end
  if baseline then
    for _, c in ipairs(combos) do
      if c.index ~= baseline then add(combos[baseline], c) end
    end
  else
    for i = 1, #combos do
      for j = i + 1, #combos do add(combos[i], combos[j]) end
    end
  end
  local ps = {}
  for i, c in ipairs(out) do ps[i] = c.p end
  local adj = S.holm(ps)
  for i, c in ipairs(out) do
    c.p_adjusted = adj[i]
    c.significant = adj[i] < alpha
  end
  return out
end

-- ---- factors and ranking ----------------------------------------------------------------

--- The main effect of each factor.  For each level: the median of all runs
-- at that level, and its effect as a ratio to the factor's first level (its
-- reference): the geometric mean, over the pairs of combinations that
-- differ only in this factor, of median(level) / median(reference), with
-- the smallest and largest such ratio.  When no such pair ran (a chosen
-- set of combinations), the ratio is that of the pooled medians
-- (`matched = false`).
-- @tparam table factors
-- @tparam table combos combinations with `runs` and `median`
-- @treturn table `{{factor =, reference =, levels = {{level =, label =, n =,
--   median =, ratio =, ratio_min =, ratio_max =, pairs =, matched =}, ...},
--   spread = largest ratio / smallest}, ...}`
function S.effects(factors, combos)
  local D = require "lnuma.experiment_design"
  local out = {}
  for _, f in ipairs(factors) do
    local ref = f.levels[1]
    local levels = {}
    for _, lv in ipairs(f.levels) do
      local pooled = {}
      for _, c in ipairs(combos) do
        if D.same(c.levels[f.name], lv) then
          for _, v in ipairs(c.runs) do pooled[#pooled + 1] = v end
        end
      end
      levels[#levels + 1] = { level = lv, label = D.label(lv), n = #pooled,
                              median = #pooled > 0 and bench.stats(pooled).median or nil }
    end
    -- Matched pairs: same levels of every other factor.
    for _, e in ipairs(levels) do
      local logs, lo, hi = {}, nil, nil
      for _, c in ipairs(combos) do
        if D.same(c.levels[f.name], e.level) and c.median then
          for _, r in ipairs(combos) do
            local d = differs(factors, c, r)
            if r.median and r.median ~= 0 and D.same(r.levels[f.name], ref)
               and (#d == 0 or (#d == 1 and d[1] == f.name)) then
              local q = c.median / r.median
              if q > 0 then
                logs[#logs + 1] = log(q)
                lo, hi = math.min(lo or q, q), math.max(hi or q, q)
              end
            end
          end
        end
      end
      if #logs > 0 then
        local sum = 0
        for _, x in ipairs(logs) do sum = sum + x end
        e.ratio, e.ratio_min, e.ratio_max, e.pairs, e.matched = exp(sum / #logs), lo, hi,
          #logs, true
      elseif e.median and levels[1].median and levels[1].median ~= 0 then
        e.ratio, e.pairs, e.matched = e.median / levels[1].median, 0, false
      end
    end
    local lo, hi
    for _, e in ipairs(levels) do
      if e.ratio then
        lo, hi = math.min(lo or e.ratio, e.ratio), math.max(hi or e.ratio, e.ratio)
      end
    end
    out[#out + 1] = { factor = f.name, reference = D.label(ref), levels = levels,
                      spread = lo and lo > 0 and hi / lo or nil }
  end
  return out
end

--- Ranks the combinations by median (best first) and groups those the tests
-- cannot tell apart: the best starts group 1; each next one joins the
-- current group when it is not significantly different from the group's
-- first member, else it starts the next group.  Groups need every pair
-- tested: with a baseline only, `group` is nil.
-- @tparam table combos with `median`
-- @tparam table comparisons from `comparisons`
-- @tparam string better "lower" or "higher"
-- @tparam boolean all_pairs whether every pair was compared
-- @treturn table `{{combination =, rank =, group =, median =, label =}, ...}`
function S.ranking(combos, comparisons, better, all_pairs)
  local list = {}
  for _, c in ipairs(combos) do
    if c.median then list[#list + 1] = c end
  end
  table.sort(list, function(x, y)
    if x.median ~= y.median then
      if better == "higher" then return x.median > y.median end
      return x.median < y.median
    end
    return x.index < y.index
  end)
  local sig = {}
  for _, c in ipairs(comparisons) do
    sig[c.a .. ":" .. c.b], sig[c.b .. ":" .. c.a] = c.significant, c.significant
  end
  local out, group, leader = {}, 0, nil
  for rank, c in ipairs(list) do
    local g
    if all_pairs then
      local s = leader and sig[leader.index .. ":" .. c.index]
      if leader == nil or s == nil or s == true then group, leader = group + 1, c end
      g = group
    end
    out[rank] = { combination = c.index, rank = rank, group = g, median = c.median,
                  label = c.label }
  end
  return out
end

return S
