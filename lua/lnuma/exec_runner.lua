--- The experiment side of `lnuma.exec`: placement strings ("node=0",
-- "interleave=all", "nodes=0-1 policy=preferred_many cpus=0-3 huge=thp")
-- and a `run` function that runs a program once per call, for
-- `lnuma.experiment` and `lnuma compare`.  Reached as
-- `lnuma.exec.placement` and `lnuma.exec.runner`.
-- @module lnuma.exec_runner

local M = {}

-- Keys of a placement string, and what each becomes in lnuma.exec's options.
local KEYS = {
  node = "node", nodes = "nodes", interleave = "interleave", policy = "policy",
  cpus = "cpus", huge = "huge",
}

local function perror(fname, msg)
  error(("bad argument #1 to '%s' (%s)"):format(fname, msg), 3)
end

--- Reads a placement string into options of `lnuma.exec`.
-- Items are `key=value`, separated by spaces or ';': `node=N`, `nodes=LIST`
-- (with `policy=P`), `interleave=LIST` (a list or "all"), `policy=local`,
-- `cpus=LIST`, `huge=thp|none`; the word `default` alone is no policy.
-- Values are checked when the program runs (`lnuma.exec`).
-- @tparam string text
-- @treturn table options, e.g. `{interleave = "all"}`
-- @raise on an empty string, an item without '=', an unknown key or one given twice
-- @usage lnuma.exec.placement("node=1 cpus=2-3")  --> {node = 1, cpus = "2-3"}
function M.placement(text)
  if type(text) ~= "string" then perror("placement", "string expected, got " .. type(text)) end
  local opts, any = {}, false
  for item in text:gmatch("[^%s;]+") do
    any = true
    if item ~= "default" then
      local key, value = item:match("^([%w_]+)=(.+)$")
      if not key then
        perror("placement", ("'%s' is not key=value (keys: %s)"):format(item,
               "node, nodes, interleave, policy, cpus, huge, or the word default"))
      end
      local k = KEYS[key]
      if not k then
        perror("placement", ("unknown key '%s' in '%s' (node, nodes, interleave, policy, "
               .. "cpus, huge)"):format(key, text))
      end
      if opts[k] ~= nil then perror("placement", ("'%s' given twice in '%s'"):format(key, text)) end
      opts[k] = k == "node" and (math.tointeger(tonumber(value)) or value) or value
    end
  end
  if not any then perror("placement", "empty placement (say 'default' for no policy)") end
  return opts
end

-- The name of a metric from its pattern: its leading word ("p99=(%d+) ns" ->
-- "p99"), else "metric".
local function metric_name(pattern)
  local name = pattern:match("^%a[%w_]*")
  return name or "metric"
end

-- The number of value captures of a pattern (escapes and [sets] skipped,
-- position captures "()" not counted); nil when its parentheses do not pair.
local function captures(pattern)
  local i, n, depth, count = 1, #pattern, 0, 0
  while i <= n do
    local c = pattern:sub(i, i)
    if c == "%" then
      i = i + 1
    elseif c == "[" then
      i = i + 1
      if pattern:sub(i, i) == "^" then i = i + 1 end
      if pattern:sub(i, i) == "]" then i = i + 1 end
      while i <= n and pattern:sub(i, i) ~= "]" do
        if pattern:sub(i, i) == "%" then i = i + 1 end
        i = i + 1
      end
    elseif c == "(" then
      depth = depth + 1
      if pattern:sub(i + 1, i + 1) ~= ")" then count = count + 1 end
    elseif c == ")" then
      depth = depth - 1
      if depth < 0 then return nil end
    end
    i = i + 1
  end
  return depth == 0 and count or nil
end

--- Checks a metric pattern (a Lua pattern with one capture that reads as a
-- number) and names it.
-- @tparam string pattern
-- @treturn string the metric's name
-- @raise when the pattern is malformed or has no capture
function M.metric(pattern)
  if type(pattern) ~= "string" then perror("metric", "string expected, got " .. type(pattern)) end
  local ok, err = pcall(string.find, "", pattern)
  if not ok then
    perror("metric", ("'%s' is not a Lua pattern: %s"):format(pattern,
           tostring(err):gsub("^.-:%d+: ", "")))
  end
  if captures(pattern) ~= 1 then
    perror("metric", ("'%s' needs one capture around the number, e.g. 'p99=(%%d+) ns'")
      :format(pattern))
  end
  return metric_name(pattern)
end

-- The last match of pattern in the run's stdout, then its stderr.
local function find_metric(r, pattern)
  for _, stream in ipairs { r.stdout or "", r.stderr or "" } do
    local last
    for v in stream:gmatch(pattern) do last = v end
    if last then return tonumber(last), last end
  end
end

local function tail(s, n)
  s = (s or ""):gsub("%s+$", "")
  if #s > n then s = "..." .. s:sub(-n) end
  return s
end

-- What a run returns to an experiment: the metrics, where its memory was,
-- the CPUs it ran on and its warnings; nil and why for a failed run.
local function run_record(r, metrics)
  if not r.ok then
    local err = tail(r.stderr, 400)
    return nil, ("%s%s"):format(require("lnuma.report.exec").ending(r),
                                err ~= "" and ("; stderr: " .. err) or "")
  end
  local out = { wall_ns = r.wall_ns, user_ns = r.user_ns, system_ns = r.system_ns,
                max_rss_bytes = r.max_rss_bytes, minor_faults = r.minor_faults,
                major_faults = r.major_faults }
  for _, m in ipairs(metrics) do
    local v, text = find_metric(r, m.pattern)
    if v == nil then
      return nil, text and ("metric %s: '%s' is not a number"):format(m.name, text)
        or ("metric %s: no match for '%s' in its output (last line: %s)"):format(m.name,
             m.pattern, tail((r.stdout or ""):match("([^\n]*)\n?$"), 200))
    end
    out[m.name] = v
  end
  local p = r.placement
  out.placement = { pages_by_node = p.pages_by_node, page_size = p.page_size,
                    nodes = p.nodes, policy = p.policy, held = p.held,
                    samples = p.samples, bytes = p.bytes }
  out.cpus_ran = r.cpus_ran
  if #r.warnings > 0 then out.warnings = r.warnings end
  return out
end

-- Level names an experiment may use that are lnuma.exec options too.
local LEVEL_KEYS = { "node", "nodes", "interleave", "policy", "cpus", "huge" }

--- A `run` function for `lnuma.experiment` that runs a program once per call.
-- The combination's levels say where: a `placement` level (a placement
-- string or a table of `lnuma.exec` options), and levels named `node`,
-- `nodes`, `interleave`, `policy`, `cpus` or `huge` passed as those options.
-- Each call returns `wall_ns`, `user_ns`, `system_ns`, `max_rss_bytes`,
-- `minor_faults`, `major_faults`, each metric read from the output (the last
-- match), the placement (pages by node, checked against the nodes asked) and
-- `cpus_ran`; a run that fails returns nil and its exit status with the tail
-- of its stderr.
-- @tparam table opts `cmd` (the program and its arguments), `metrics` (array
--   of Lua patterns with one capture, e.g. `{"p99=(%d+) ns"}`; each named by
--   its leading word), `show_output` (boolean: pass its output on; default
--   false, kept only), `exec` (more `lnuma.exec` options for every run,
--   e.g. `{timeout_ns = 60e9 // 1}`)
-- @treturn function run(levels) for `lnuma.experiment`
-- @treturn table the metric names, in the order of the patterns
-- @usage local run = lnuma.exec.runner{cmd = {"./walker", "256"},
--   metrics = {"ns_per_load=([%d.]+)"}}
-- local res = lnuma.experiment{factors = {placement = {"node=0", "node=1"}},
--   run = run, metric = "ns_per_load"}
function M.runner(opts)
  if type(opts) ~= "table" then perror("runner", "table expected, got " .. type(opts)) end
  for k in pairs(opts) do
    if k ~= "cmd" and k ~= "metrics" and k ~= "show_output" and k ~= "exec" then
      perror("runner", ("unknown option '%s'"):format(tostring(k)))
    end
  end
  if type(opts.cmd) ~= "table" or #opts.cmd == 0 then
    perror("runner", "cmd: the program and its arguments expected")
  end
  local cmd = {}
  for i, a in ipairs(opts.cmd) do cmd[i] = a end
  local metrics, names = {}, {}
  for i, pattern in ipairs(opts.metrics or {}) do
    local name = M.metric(pattern)
    metrics[i], names[i] = { name = name, pattern = pattern }, name
  end
  local base = opts.exec or {}
  local show = opts.show_output == true
  local lnuma = require "lnuma"
  local function run(levels)
    local o = { cmd = cmd, capture = true }
    for k, v in pairs(base) do o[k] = v end
    if not show then o.stdout, o.stderr = "null", "null" end
    local pl = levels and levels.placement
    if type(pl) == "string" then pl = M.placement(pl) end
    if type(pl) == "table" then
      for k, v in pairs(pl) do o[k] = v end
    end
    for _, k in ipairs(LEVEL_KEYS) do
      if levels and levels[k] ~= nil then o[k] = levels[k] end
    end
    local r, msg = lnuma.exec(o)
    if not r then return nil, msg end
    return run_record(r, metrics)
  end
  return run, names
end

return M
