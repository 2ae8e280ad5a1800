--- The plan fuzzer: random and mutated plan files into `lnuma plan check`
-- (the CLI's own code, run in this process) and into lnuma_plan_load (the
-- C driver spec/fuzz/plan_load.c, one process for the whole batch).
--
--   lua5.4 spec/fuzz/plans.lua --seed N --count N --dir DIR --root DIR
--                              --driver EXE --log FILE
--
-- Seeds are the plans of examples/host and every long string that looks
-- like a plan in spec/*plan*_spec.lua; they are mutated (bytes, numbers,
-- strings, lines), or a plan is generated from the format with bad values,
-- or a probe of the sandbox is added: code that tries to reach the outside
-- (write a canary file, read the environment, load bytecode, keep memory
-- past the limit, run past the instruction limit outside the limited call).
-- A probe that succeeds prints "escape: ..."; a plan that makes a check
-- fail without a message prints "finding: ...".  Each file is logged before
-- it is checked.  The last line is "done ...".

local here = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path
local gen = require "gen"
local known = require("known")

local opts = { seed = 1, count = 100, dir = "/tmp", root = ".", driver = "", log = "plans.log" }
do
  local i = 1
  while arg[i] do
    local k = arg[i]:match("^%-%-(%w+)$")
    assert(k and opts[k] ~= nil and arg[i + 1], "usage: plans.lua --seed N --count N --dir D")
    opts[k] = math.type(opts[k]) == "integer" and math.tointeger(tonumber(arg[i + 1]))
              or arg[i + 1]
    i = i + 2
  end
end
local r = gen.rng(opts.seed)
local pick, chance = r.pick, r.chance

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- ---- seeds ------------------------------------------------------------------------------

local seeds = {}
for _, p in ipairs { "examples/host/engine.lua", "examples/host/engine-node1.lua" } do
  seeds[#seeds + 1] = read(opts.root .. "/" .. p)
end
do
  local p = io.popen("ls " .. opts.root .. "/spec/*plan*_spec.lua")
  for file in p:lines() do
    for _, body in read(file):gmatch("%[(=*)%[(.-)%]%1%]") do
      if body:find("return", 1, true) and body:find("threads", 1, true) then
        seeds[#seeds + 1] = body
      end
    end
  end
  p:close()
end

-- ---- mutations --------------------------------------------------------------------------

local TOKENS = { "nil", "0/0", "-0.0", "math.huge", "-1", "1e308", "math.maxinteger",
                 "math.mininteger", "'\\0'", "{}", "(", ")", "end", "topology", "...", ",",
                 "'1M\\0x'", "\"0-100000000\"", "9223372036854775807", "0x7fffffff",
                 "2^63", "{{}}", "function() end", "setmetatable({}, {})", "#", "--[[",
                 "]]", "\n", "'", "\"", "=", "==", "local", "return", "goto x", "::x::",
                 "string.rep('x', 1 << 20)", "topology.nodes", "topology:cpus_of(0)" }
local NUMBERS = { "0", "-1", "1", "4096", "1e308", "0/0", "-0.0", "9223372036854775807",
                  "-9223372036854775808", "9223372036854775808", "2^53", "65536",
                  "4294967296", "2147483648", "1 << 40", "0x10", "1.5", "8191", "8192" }
local STRINGS = { "''", "'\\0'", "'1M\\0garbage'", "'1T'", "'16E'", "'0-100000000'",
                  "'bind'", "'interleave'", "'weighted_interleave'", "'preferred_many'",
                  "'local'", "'thp'", "'2M'", "'1G'", "'none'", "('x'):rep(70000)",
                  "'%s%n'", "'feed'", "'ring'", "'orders'", "'0-1'", "'-1'", "'64K'" }

local function mutate(text)
  for _ = 1, r.range(1, 4) do
    local n = #text
    if n == 0 then return pick(TOKENS) end
    local x = r.int(8)
    local a = r.range(1, n)
    local b = math.min(n, a + r.range(0, 40))
    if x == 1 then
      text = text:sub(1, a - 1) .. text:sub(b + 1)
    elseif x == 2 then
      text = text:sub(1, b) .. text:sub(a, b) .. text:sub(b + 1)
    elseif x == 3 then
      text = text:sub(1, a - 1) .. " " .. pick(TOKENS) .. " " .. text:sub(a)
    elseif x == 4 or x == 5 then
      local count = 0
      text = text:gsub("%f[%w]%d+%f[^%w]", function(d)
        count = count + 1
        if chance(0.3) then return pick(NUMBERS) end
        return d
      end)
    elseif x == 6 then
      text = text:gsub("(['\"])([^'\"\n]*)%1", function(q, s)
        if chance(0.3) then return pick(STRINGS) end
        return q .. s .. q
      end)
    elseif x == 7 then
      text = text:sub(1, a)
    else
      text = text:sub(1, a - 1) .. string.char(r.range(0, 255)) .. text:sub(a + 1)
    end
  end
  return text
end

-- ---- plans made from the format ----------------------------------------------------------

local function value()
  local x = r.int(6)
  if x == 1 then return pick(NUMBERS) end
  if x == 2 then return pick(STRINGS) end
  if x == 3 then return pick { "nil", "true", "false", "{}", "{0, 1}", "'0-1'" } end
  if x == 4 then return pick { "topology.allowed.cpus[1]", "topology.allowed.nodes[1]",
                               "topology:cpus_of(0)", "topology.nodes[1]", "topology" } end
  return tostring(r.range(0, 3))
end

local function record(fields)
  local parts = {}
  for _, f in ipairs(fields) do
    if chance(0.8) then parts[#parts + 1] = f .. " = " .. value() end
  end
  if chance(0.1) then parts[#parts + 1] = pick { "extra", "nod", "[1]", "['\\0']" } .. " = 1" end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

local function list(fields, max)
  local items = {}
  for i = 1, r.range(0, max) do items[i] = record(fields) end
  return "{ " .. table.concat(items, ", ") .. " }"
end

local function generated()
  local parts = {}
  if chance(0.9) then
    parts[#parts + 1] = "threads = " .. list({ "name", "cpus", "uses", "hot" }, 4)
  end
  if chance(0.8) then
    parts[#parts + 1] = "memory = " .. list({ "name", "size", "node", "nodes", "policy", "huge",
                                              "weights" }, 4)
  end
  if chance(0.6) then
    parts[#parts + 1] = "pools = " .. list({ "name", "node", "size", "count" }, 3)
  end
  if chance(0.1) then parts[#parts + 1] = "warnings = 1" end
  return "return { " .. table.concat(parts, ",\n  ") .. " }\n"
end

-- ---- probes of the sandbox --------------------------------------------------------------

-- name -> code put before a plan.  CANARY is replaced by a file that must
-- not exist after the check; "ESCAPE:" in a message means the probe got out.
local PROBES = {
  export_xml = "pcall(function() topology:export_xml(CANARY) end)",
  io = "if io then local f = io.open(CANARY, 'w') if f then f:write('x') f:close() end end",
  getenv = "if os and os.getenv then error('ESCAPE: os.getenv') end",
  os = "if os and (os.execute or os.remove or os.rename or os.exit or os.tmpname) then "
       .. "error('ESCAPE: os.execute/remove/rename/exit') end",
  globals = "for _, k in ipairs { 'require', 'dofile', 'loadfile', 'package', 'debug', "
            .. "'collectgarbage', 'print', 'rawset', 'setmetatable(getmetatable)' } do "
            .. "if _G[k] ~= nil and k ~= 'rawset' then error('ESCAPE: ' .. k) end end",
  bytecode = "local d = ('').dump if d then local ok, f = pcall(load, d(function() return 1 end)) "
             .. "if ok and type(f) == 'function' then error('ESCAPE: bytecode loaded') end end",
  memory = "local keep = {} for i = 1, 48 do keep[i] = ('x'):rep((1 << 20) + i) end "
           .. "error('ESCAPE: kept 48 MiB past the 32 MiB limit')",
  errindex = "error(setmetatable({}, { __index = function() for _ = 1, 3e8 do end end }))",
  errtostring = "error(setmetatable({}, { __tostring = function() for _ = 1, 3e8 do end "
                .. "return 'x' end }))",
  loop = "while true do end",
  recursion = "local function f(n) return f(n + 1) + 1 end f(1)",
  string_mt = "local ok = pcall(function() return getmetatable('').__index end) "
              .. "if ok then error('ESCAPE: string metatable') end",
  rep = "local s = ('x'):rep(1 << 40)",
}
local PROBE_NAMES = {}
for k in pairs(PROBES) do PROBE_NAMES[#PROBE_NAMES + 1] = k end
table.sort(PROBE_NAMES)
local skip_probe, skip_check = {}, {}
for _, k in ipairs(known.plans or {}) do
  if k.probe then skip_probe[k.probe] = k.id end
  if k.check then skip_check[k.check] = k.id end
end

-- ---- checks -----------------------------------------------------------------------------

local cli = require "lnuma.cli"
local log = assert(io.open(opts.log, "w"))
local TARGETS = { { "live" }, { "synthetic", "pack:2 numa:1 core:2 pu:2" },
                  { "synthetic", "pack:2 numa:2 core:2 pu:2" },
                  { "synthetic", "pack:1 numa:1 core:1 pu:1" },
                  { "xml", opts.root .. "/spec/fixtures/two-packages-four-nodes.xml" },
                  { "xml", opts.root .. "/spec/fixtures/memory-only-node.xml" },
                  { "xml", opts.root .. "/spec/fixtures/node-gaps.xml" } }

local escapes, findings = 0, 0
local function escape(fmt, ...)
  print(("escape: " .. fmt):format(...))
  escapes = escapes + 1
end

-- A hook over the CLI's own code: a plan must not keep it busy outside the
-- limited call (lnuma.core.run_limited replaces the hook while it runs).
local MAIN = debug.getinfo(1, "f").func
local ran_past = false
local function over_budget()
  local info = debug.getinfo(2, "f")
  if info and info.func == MAIN then debug.sethook() return end
  ran_past = true
  debug.sethook(over_budget, "", 1)
  error("fuzz: `plan check` ran past 200 million instructions outside the plan's limits", 2)
end

-- Why an XML text is not well nested, or nil when it is.
local function xml_unbalanced(text)
  text = text:gsub("<%?.-%?>", ""):gsub("<!%-%-.-%-%->", "")
  local stack = {}
  for close, name, empty in text:gmatch("<(/?)([%w:_%-]+)[^>]-(/?)>") do
    if close == "/" then
      local top = table.remove(stack)
      if top ~= name then return ("</%s> closes <%s>"):format(name, tostring(top)) end
    elseif empty ~= "/" then
      stack[#stack + 1] = name
    end
  end
  if #stack > 0 then return ("<%s> never closed"):format(stack[#stack]) end
  return nil
end

local function cli_check(path, target, i)
  local argv = { "plan", pick { "check", "check", "show" }, path }
  if argv[2] == "check" and chance(0.3) then argv[#argv + 1] = "--json" end
  if target[1] == "synthetic" then
    argv[#argv + 1] = "--synthetic"
    argv[#argv + 1] = target[2]
  elseif target[1] == "xml" then
    argv[#argv + 1] = "--xml"
    argv[#argv + 1] = target[2]
  end
  if argv[2] == "show" and chance(0.5) then
    argv[#argv + 1] = "--svg"
    argv[#argv + 1] = opts.dir .. "/show-" .. i .. ".svg"
  end
  local out, err, exit = io.stdout, io.stderr, os.exit
  local said = {}
  local sink = setmetatable({}, { __index = function(self, k)
    if k == "write" then
      return function(_, ...)
        for j = 1, select("#", ...) do said[#said + 1] = tostring((select(j, ...))) end
        return self
      end
    end
    return function() return self end
  end })
  -- luacheck: push ignore 122
  io.stdout, io.stderr = sink, sink
  os.exit = function() error("fuzz: the CLI called os.exit", 2) end
  ran_past = false
  debug.sethook(over_budget, "", 200000000)
  local ok, status = pcall(cli.main, argv)
  debug.sethook()
  io.stdout, io.stderr, os.exit = out, err, exit
  -- luacheck: pop
  local text = table.concat(said)
  if text:find("ESCAPE:", 1, true) then
    escape("plan-%d.lua: `lnuma %s`: %s", i, table.concat(argv, " "),
           text:match("ESCAPE:[^\n\"]*"))
  end
  if ran_past then
    escape("plan-%d.lua: `lnuma %s` ran past the instruction limit outside the plan's run",
           i, table.concat(argv, " "))
  elseif not ok then
    print(("finding: plan-%d.lua: `lnuma %s` raised: %s"):format(i, table.concat(argv, " "),
      tostring(status):match("^[^\n]*")))
    findings = findings + 1
  end
  local svg = not skip_check.svg and argv[#argv - 1] == "--svg" and read(argv[#argv])
  if svg then
    local bad = xml_unbalanced(svg)
    if bad then
      print(("finding: plan-%d.lua: `lnuma %s` wrote unbalanced XML (%s)"):format(i,
        table.concat(argv, " "), bad))
      findings = findings + 1
    end
  end
end

local cli_seconds = 0
local list_path = opts.dir .. "/plans.list"
local list_file = assert(io.open(list_path, "w"))
local kinds = {}
for i = 1, opts.count do
  local kind, text
  local x = r.int(10)
  if x <= 4 and #seeds > 0 then
    kind, text = "mutated", mutate(pick(seeds))
  elseif x <= 7 then
    kind, text = "generated", generated()
  else
    local probe = pick(PROBE_NAMES)
    if skip_probe[probe] then probe = "loop" end
    kind = "probe:" .. probe
    text = PROBES[probe] .. "\n" .. (#seeds > 0 and pick(seeds) or generated())
  end
  kinds[kind:match("^[^:]*")] = (kinds[kind:match("^[^:]*")] or 0) + 1
  local canary = opts.dir .. "/canary-" .. i
  text = text:gsub("CANARY", string.format("%q", canary))
  local path = opts.dir .. "/plan-" .. i .. ".lua"
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  local target = pick(TARGETS)
  log:write(i, "\t", kind, "\t", path, "\t", target[1], "\n")
  log:flush()
  local t0 = os.clock()
  cli_check(path, target, i)
  cli_seconds = cli_seconds + os.clock() - t0
  if read(canary) then
    escape("plan-%d.lua (%s) wrote %s from `lnuma plan check`", i, kind, canary)
  end
  os.remove(canary)
  -- The same plan for the C driver, with limits now and then small.
  list_file:write(table.concat({ path, target[1], target[2] or "-",
    tostring(pick { 0, 0, 100000, 5000000 }), tostring(pick { 0, 0, 1 << 20, 8 << 20 }) }, "\t"),
    "\n")
end
list_file:close()
log:write("driver\n")
log:flush()

-- The C driver over the whole list, in its own process.
local t_driver = os.time()
local clog = opts.dir .. "/plan_load.log"
local cout = opts.dir .. "/plan_load.out"
-- A plan's own limits end it within seconds; the whole list gets 60 s plus
-- 1 s a plan, so a busy machine is not taken for a hang (status 124).
local ok, _, code = os.execute(("timeout %d %s %s %s >%s 2>&1"):format(60 + opts.count,
  opts.driver, list_path, clog, cout))
local driver_says = ((read(cout) or ""):match("loaded %d+ refused %d+ applied %d+") or "")
  .. (" in %d s; plan check: %.0f s of CPU"):format(os.time() - t_driver, cli_seconds)
if not ok then
  local last
  for line in (read(clog) or ""):gmatch("[^\n]+") do if line ~= "end" then last = line end end
  local out = read(cout) or ""
  print(("finding: lnuma_plan_load died (status %s) on: %s"):format(code, last or "?"))
  for line in out:gmatch("[^\n]+") do
    if line:find("SUMMARY:", 1, true) or line:find("runtime error", 1, true)
       or line:find("^finding:") then
      print("finding:   " .. line)
    end
  end
  findings = findings + 1
end
for i = 1, opts.count do
  local canary = opts.dir .. "/canary-" .. i
  if read(canary) then escape("plan-%d.lua wrote %s from lnuma_plan_load", i, canary) end
end
for line in (read(cout) or ""):gmatch("[^\n]+") do
  if line:find("^escape:") then print(line) escapes = escapes + 1 end
end
log:write("end\n")
log:close()
local k = {}
for name, n in pairs(kinds) do k[#k + 1] = name .. " " .. n end
table.sort(k)
local skipped = {}
for _, e in ipairs(known.plans or {}) do skipped[#skipped + 1] = e.id end
print(("done %d plans (%s), C driver: %s, escapes %d, findings %d, known and skipped: %s")
  :format(opts.count, table.concat(k, ", "), driver_says, escapes, findings,
          #skipped > 0 and table.concat(skipped, " ") or "-"))
os.exit((escapes == 0 and findings == 0) and 0 or 1)
