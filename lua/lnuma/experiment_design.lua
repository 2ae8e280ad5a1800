--- The design of an experiment (private to lua/lnuma/experiment*.lua):
-- factors and their levels, the combinations that run, the seeded random
-- number generator, and the randomised interleaved order of the runs.
--
-- The order is a randomised complete block design: the warm-up rounds come
-- first, then `repetitions` rounds; every round runs each combination once,
-- in an order shuffled afresh (Fisher-Yates) from the seeded generator.  So
-- each combination runs exactly `repetitions` times, no combination's runs
-- are bunched together, and drift of the machine (thermal, neighbours,
-- frequency) falls on every level alike.  The same seed gives the same order.
-- @module lnuma.experiment_design

local D = {}

local floor = math.floor

-- Raises "bad argument #1 to 'experiment' (key: msg)" (lnuma.experiment
-- adds where the script called it).
local function argerror(key, msg)
  error(("bad argument #1 to 'experiment' (%s%s)"):format(key and (key .. ": ") or "", msg), 0)
end
D.argerror = argerror

-- ---- the random number generator ---------------------------------------------

--- A seeded generator (SplitMix64, 64-bit integer arithmetic): the same seed
-- gives the same sequence on every machine, and it leaves `math.random` alone.
-- @tparam integer seed
-- @treturn table with `next()` (a 64-bit integer), `float()` (in [0, 1)),
--   `int(n)` (an integer in 1..n) and `normal()` (a standard normal deviate)
function D.rng(seed)
  local state = seed
  local g = {}
  function g.next()
    state = state + 0x9E3779B97F4A7C15
    local z = state
    z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * 0x94D049BB133111EB
    return z ~ (z >> 31)
  end
  function g.float() return (g.next() >> 11) * 2.0 ^ -53 end
  function g.int(n) return floor(g.float() * n) + 1 end
  function g.normal() -- Box-Muller
    local u = 1 - g.float()
    return math.sqrt(-2 * math.log(u)) * math.cos(2 * math.pi * g.float())
  end
  return g
end

-- ---- levels ----------------------------------------------------------------------

local function is_int_array(v)
  if #v == 0 then return false end
  for k, x in pairs(v) do
    if math.type(k) ~= "integer" or math.type(x) ~= "integer" then return false end
  end
  return true
end

--- How a level is written in tables and pictures: strings as they are,
-- numbers and booleans with `tostring`, arrays of integers as a cpulist.
-- @param v the level
-- @treturn string
function D.label(v)
  if type(v) == "table" then return require("lnuma.core").cpulist(v) end
  return tostring(v)
end

local function check_level(key, v)
  local t = type(v)
  if t == "string" or t == "number" or t == "boolean" then
    if v ~= v then argerror(key, "a level cannot be NaN") end
    return v
  end
  if t == "table" and is_int_array(v) then
    local copy = {}
    for i, x in ipairs(v) do copy[i] = x end
    return copy
  end
  argerror(key, "a level must be a string, number, boolean or array of integers, got " ..
           (t == "table" and "another table" or t), 4)
end

local function same(a, b)
  if type(a) == "table" and type(b) == "table" then
    if #a ~= #b then return false end
    for i = 1, #a do
      if a[i] ~= b[i] then return false end
    end
    return true
  end
  return a == b
end
D.same = same

local function level_index(levels, v)
  for i, x in ipairs(levels) do
    if same(x, v) then return i end
  end
end

local function check_name(key, name)
  if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") then
    argerror(key, ("a factor name must be an identifier, got %s"):format(
      type(name) == "string" and ("'" .. name .. "'") or type(name)), 4)
  end
  return name
end

-- factors = { name = {levels} } (sorted by name) or { {name, {levels}}, ... }
-- / { {name = n, levels = {...}}, ... } (in that order).
local function parse_factors(spec)
  if type(spec) ~= "table" then argerror("factors", "table expected, got " .. type(spec)) end
  local list = {}
  if #spec > 0 then
    for i, f in ipairs(spec) do
      if type(f) ~= "table" then
        argerror(("factors[%d]"):format(i), "{name, {levels}} expected, got " .. type(f))
      end
      list[i] = { name = f.name or f[1], levels = f.levels or f[2] }
    end
  else
    local names = {}
    for k in pairs(spec) do
      if type(k) ~= "string" then
        argerror("factors", "a map of name = {levels} or a list of {name, {levels}} expected")
      end
      names[#names + 1] = k
    end
    table.sort(names)
    for i, k in ipairs(names) do list[i] = { name = k, levels = spec[k] } end
  end
  local seen = {}
  for i, f in ipairs(list) do
    local key = type(f.name) == "string" and ("factors." .. f.name) or ("factors[" .. i .. "]")
    check_name(key, f.name)
    if seen[f.name] then argerror(key, "named twice") end
    seen[f.name] = true
    if type(f.levels) ~= "table" or #f.levels == 0 then
      argerror(key, "a non-empty array of levels expected")
    end
    local levels = {}
    for j = 1, #f.levels do
      local v = f.levels[j]
      if v == nil then argerror(key, ("level %d is nil"):format(j)) end
      v = check_level(key, v)
      if level_index(levels, v) then
        argerror(key, ("level %s given twice"):format(D.label(v)))
      end
      levels[j] = v
    end
    list[i] = { name = f.name, levels = levels }
  end
  return list
end

--- The factors and the combinations of an experiment's options.
-- `factors` as a map (`{node = {0, 1}, huge = {false, "thp"}}`, factors in
-- name order) or a list (`{{"node", {0, 1}}, {"huge", {false, "thp"}}}`, in
-- that order); `combinations` (optional) a list of `{factor = level}`
-- tables choosing some of them (every factor given; without `factors` the
-- factors are read from them, levels in order of appearance).
-- @tparam table opts the experiment's options
-- @treturn table factors `{{name =, levels = {...}}, ...}`
-- @treturn table combinations `{{index =, levels = {name = level}, label =}, ...}`
--   in the order of the full factorial (first factor slowest) or as given
function D.combinations(opts)
  local factors
  if opts.factors ~= nil then factors = parse_factors(opts.factors) end
  local chosen = opts.combinations
  if chosen == nil then
    if not factors then argerror("factors", "missing (or give 'combinations')") end
    local out = { {} }
    for _, f in ipairs(factors) do
      local nxt = {}
      for _, partial in ipairs(out) do
        for _, v in ipairs(f.levels) do
          local c = {}
          for k, x in pairs(partial) do c[k] = x end
          c[f.name] = v
          nxt[#nxt + 1] = c
        end
      end
      out = nxt
    end
    chosen = out
  elseif type(chosen) ~= "table" or #chosen == 0 then
    argerror("combinations", "a non-empty list of {factor = level} tables expected")
  elseif not factors then
    -- Factors from the combinations: names sorted, levels in order of appearance.
    local by_name, names = {}, {}
    for i, c in ipairs(chosen) do
      if type(c) ~= "table" then
        argerror(("combinations[%d]"):format(i), "table expected, got " .. type(c))
      end
      for k, v in pairs(c) do
        check_name(("combinations[%d]"):format(i), k)
        if not by_name[k] then by_name[k], names[#names + 1] = {}, k end
        v = check_level(("combinations[%d].%s"):format(i, k), v)
        if not level_index(by_name[k], v) then by_name[k][#by_name[k] + 1] = v end
      end
    end
    table.sort(names)
    factors = {}
    for i, k in ipairs(names) do factors[i] = { name = k, levels = by_name[k] } end
  end
  local combos = {}
  for i, c in ipairs(chosen) do
    local key = ("combinations[%d]"):format(i)
    if type(c) ~= "table" then argerror(key, "table expected, got " .. type(c)) end
    local levels, parts = {}, {}
    for k in pairs(c) do
      local known = false
      for _, f in ipairs(factors) do known = known or f.name == k end
      if not known then argerror(key, ("'%s' is not a factor"):format(tostring(k))) end
    end
    for _, f in ipairs(factors) do
      local v = c[f.name]
      if v == nil then argerror(key, ("no level for factor '%s'"):format(f.name)) end
      local j = level_index(f.levels, v)
      if not j then
        argerror(key, ("%s = %s is not one of its levels"):format(f.name, D.label(v)))
      end
      levels[f.name] = f.levels[j]
      parts[#parts + 1] = f.name .. "=" .. D.label(f.levels[j])
    end
    local label = table.concat(parts, " ")
    for j = 1, i - 1 do
      if combos[j].label == label then argerror(key, "the same as combinations[" .. j .. "]") end
    end
    combos[i] = { index = i, levels = levels, label = label }
  end
  return factors, combos
end

--- The randomised interleaved order of the runs.
-- @tparam integer n combinations
-- @tparam integer repetitions measured runs of each
-- @tparam integer warmup warm-up rounds (each runs every combination once)
-- @tparam table rng a generator from `rng`
-- @treturn table `{{combination = k, repetition = r, warmup = true|nil}, ...}`;
--   warm-up runs come first, their `repetition` counts the warm-up rounds
function D.order(n, repetitions, warmup, rng)
  local out = {}
  local function round(r, is_warmup)
    local perm = {}
    for i = 1, n do perm[i] = i end
    for i = n, 2, -1 do
      local j = rng.int(i)
      perm[i], perm[j] = perm[j], perm[i]
    end
    for _, k in ipairs(perm) do
      out[#out + 1] = { combination = k, repetition = r, warmup = is_warmup or nil }
    end
  end
  for r = 1, warmup do round(r, true) end
  for r = 1, repetitions do round(r, false) end
  return out
end

--- A seed when the caller gave none: from the clock, so that two
-- experiments differ; it is recorded in the result to repeat the order.
-- @treturn integer
function D.default_seed()
  local now = require("lnuma.core").clock.now()
  return (now ~ (os.time() << 20)) & 0x7fffffff
end

return D
