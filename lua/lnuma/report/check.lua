--- The shape of each kind of benchmark result, as the renderers read it
-- (used by `lnuma.report`).  A result read back from JSON may have been
-- edited by hand or cut short; before text, CSV or SVG is made of it, every
-- field a renderer reads is checked here, so that a tampered result gets one
-- message naming the field instead of an error from inside a renderer.
-- Fields the renderers do not read are not checked (results may grow).
-- @module lnuma.report.check

local M = {}

-- ------------------------------------------------------------ the schema --
-- A spec is a type name ("number", "integer", "string", "boolean", "table",
-- "any"), or a table: { opt = spec } (nil allowed), { list = spec } (an
-- array; holes are nil elements), { fields = { name = spec } } (a record),
-- { either = { spec, spec } }.

local function opt(s) return { opt = s } end
local function list(s) return { list = s } end
local function rec(f) return { fields = f } end

local NUM, INT, STR = "number", "integer", "string"

local STATS = opt(rec { median = opt(NUM), min = opt(NUM), max = opt(NUM), spread = opt(NUM),
                        n = opt(INT) })
local PLACEMENT = opt(rec {
  fraction = opt(NUM), pages = opt(INT), page_size = opt(NUM),
  pages_by_node = opt(list(rec { node = INT, pages = INT })),
  pages_by_size = opt(list(rec { page_size = NUM, pages = INT })),
  huge_fraction = opt(NUM), huge_method = opt(STR), huge_scope = opt(STR),
})
local LABEL = { either = { NUM, STR } }
local MATRIX = {
  rows = list(LABEL), columns = list(LABEL), values = list(opt(list(opt(NUM)))),
  metric = STR, size = opt(NUM),
}

local COMMON = {
  benchmark = STR, warnings = opt(list(STR)), cpus_ran = opt(list(INT)),
  clock = opt(rec { source = opt(STR), overhead_ns = opt(NUM) }),
  placement = PLACEMENT, traffic_placement = PLACEMENT,
  units = opt(rec { values = opt(STR), latency_ns = opt(STR), gbps = opt(STR) }),
  size = opt(NUM), kernel = opt(STR), traffic = opt(STR), pattern = opt(STR),
  mode = opt(STR), host = opt(STR), lnuma_version = opt(STR), stats = STATS,
}

local KINDS = {
  latency = {
    latency_ns = NUM, size = NUM, pattern = STR, node = INT, cpu = INT,
    chunks = opt(rec { p50 = opt(NUM), p90 = opt(NUM), p99 = opt(NUM), max = opt(NUM) }),
    repetitions = opt(list(NUM)),
  },
  bandwidth = {
    gbps = NUM, kernel = STR, size = NUM, isa = STR, threads = INT, passes = opt(INT),
    bytes = opt(NUM),
    repetitions = opt(list(NUM)),
  },
  migration = {
    pages_per_s = NUM, gbps = NUM, size = NUM, from = INT, to = INT, moved = INT, pages = INT,
    repetitions = opt(list(NUM)),
  },
  matrix = MATRIX,
  c2c = {
    node = opt(INT), rounds = opt(INT), samples = opt(INT), roundtrips = opt(INT),
    p99_samples = opt(INT),
    rows = list(LABEL), columns = list(LABEL), values = list(opt(list(opt(NUM)))),
    pairs = opt { either = { INT, list(rec { a = INT, b = INT, p50 = opt(NUM), p99 = opt(NUM),
                                             min = opt(NUM), max = opt(NUM),
                                             samples = opt(INT) }) } },
    repetition_stats = STATS,
    lines = opt(rec { count = opt(INT), stride = opt(INT), warmup = opt(INT) }),
  },
  latency_curve = {
    cpu = INT, node = INT, pattern = STR,
    series = opt(list(rec { points = list(rec { size = NUM, latency_ns = opt(NUM) }),
                            huge_fraction = opt(NUM), label = opt(STR) })),
    main_series = opt(INT), main_reason = opt(STR),
    points = list(rec { size = NUM, latency_ns = opt(NUM), spread = opt(NUM) }),
    levels = opt(list(rec { name = STR, size = opt(NUM), latency_ns = opt(NUM),
                            unstable = opt(STR) })),
    indistinct = opt(list(rec { reason = STR, name = opt(STR) })),
    steps = opt(list(rec { size = opt(NUM), from_ns = opt(NUM), to_ns = opt(NUM) })),
    tlb = opt(rec { departs_at = opt(NUM), ratio = opt(NUM), largest_ratio = opt(NUM),
                    largest_at = opt(NUM), compared = opt(NUM), threshold = opt(NUM),
                    rule = opt(STR) }),
    caches = opt(list(rec { level = INT, size = opt(NUM) })),
  },
  loaded_latency = {
    traffic_info = opt("table"), cpus = list(INT), threads = INT, size = opt(NUM),
    isa = opt(STR), traffic = STR, traffic_size = opt(NUM), repetitions = INT, step_time = NUM,
    points = list(rec {
      delay_ns = opt(NUM), delay_achieved_ns = opt(NUM), gbps = opt(NUM), latency_ns = opt(NUM),
      spread = opt(NUM), mean_ns = opt(NUM), chunk_p99_ns = opt(NUM),
      stats = opt(rec { min = opt(NUM), max = opt(NUM) }),
    }),
  },
  weights = {
    kernel = STR, size = NUM,
    points = list(rec { label = STR, ratio = STR, gbps = opt(NUM), latency_ns = opt(NUM),
                        placement = opt(rec { misplaced = opt(INT), deviation_pages = opt(NUM),
                                              ok = opt("boolean"),
                                              within_one_chunk = opt("boolean") }) }),
    best = opt(rec { bandwidth = opt(rec { label = STR, gbps = NUM }),
                     latency = opt(rec { label = STR, latency_ns = NUM }) }),
  },
  bandwidth_kernels = {
    kernels = opt(list(rec { gbps = opt(NUM), spread = opt(NUM) })),
  },
  exec = require("lnuma.report.exec").SHAPE,
  experiment = require("lnuma.experiment_render").SHAPE,
}

-- ------------------------------------------------------------- checking --

local function show(v)
  local t = type(v)
  if t == "string" then return ("%q"):format(#v > 40 and v:sub(1, 40) .. "..." or v) end
  if t == "number" or t == "boolean" or t == "nil" then return tostring(v) end
  return "a " .. t
end

local function describe(spec)
  if type(spec) == "string" then
    return spec == "integer" and "an integer" or (spec == "any" and "a value" or "a " .. spec)
  end
  if spec.opt then return describe(spec.opt) end
  if spec.list then return "a list" end
  if spec.fields then return "a table" end
  local alts = {}
  for i, s in ipairs(spec.either) do alts[i] = describe(s) end
  return table.concat(alts, " or ")
end

local function sub(path, k)
  if math.type(k) == "integer" then return ("%s[%d]"):format(path, k) end
  return path == "" and tostring(k) or (path .. "." .. tostring(k))
end

-- Returns nil, or "path: what was expected, got what".
local function check(v, spec, path)
  if type(spec) == "table" and spec.opt then
    if v == nil then return nil end
    return check(v, spec.opt, path)
  end
  if v == nil then return path .. ": missing" end
  local bad = ("%s: %s expected, got %s"):format(path, describe(spec), show(v))
  if type(spec) == "string" then
    local ok = spec == "any" or type(v) == spec
    if spec == "integer" then
      ok = math.type(v) == "integer" or (math.type(v) == "float" and v == math.floor(v))
    end
    if ok then return nil end
    return bad
  end
  if spec.either then
    for _, s in ipairs(spec.either) do
      if check(v, s, path) == nil then return nil end
    end
    return bad
  end
  if type(v) ~= "table" then return bad end
  if spec.list then
    local count, last = 0, 0
    for k, x in pairs(v) do
      if math.type(k) ~= "integer" or k < 1 then
        return ("%s: a list expected, got a key %s"):format(path, show(k))
      end
      local err = check(x, spec.list, sub(path, k))
      if err then return err end
      count, last = count + 1, math.max(last, k)
    end
    if count < last and not (type(spec.list) == "table" and spec.list.opt) then
      for k = 1, last do -- a hole (a JSON null) where a value must be
        if v[k] == nil then return sub(path, k) .. ": missing" end
      end
    end
    return nil
  end
  local names = {} -- in order, so that the message is the same every time
  for name in pairs(spec.fields) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local err = check(v[name], spec.fields[name], sub(path, name))
    if err then return err end
  end
  return nil
end

--- Checks a result before a renderer reads it.
-- @param result what was passed
-- @tparam[opt] table kinds the benchmarks allowed (default: all)
-- @treturn[1] nil when the renderers can read it
-- @treturn[2] string what is wrong: "table expected, got number", "not an
--   lnuma benchmark result: benchmark = nil (...)" or "not a whole lnuma
--   bandwidth result: passes: an integer expected, got "x""
function M.result(result, kinds)
  if type(result) ~= "table" then return "table expected, got " .. type(result) end
  local b = result.benchmark
  local kind = type(b) == "string" and KINDS[b]
  if not kind or (kinds and not kinds[b]) then
    local names = {}
    for k in pairs(kinds or KINDS) do names[#names + 1] = k end
    table.sort(names)
    return ("not an lnuma benchmark result: benchmark = %s (expected %s)")
      :format(show(b), table.concat(names, ", "))
  end
  local err = check(result, rec(COMMON), "") or check(result, rec(kind), "")
  if err then return ("not a whole lnuma %s result: %s"):format(b, err) end
  return nil
end

--- The kinds of result the renderers know.
M.KINDS = KINDS

return M
