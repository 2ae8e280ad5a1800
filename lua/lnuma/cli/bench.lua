--- Shared parts of the benchmark commands of the `lnuma` CLI (latency,
-- bandwidth, matrix, loaded, c2c, migration): common options, calling a
-- benchmark with clean error messages, and writing its result as text, JSON,
-- SVG or CSV.  Not a command itself.
-- @module lnuma.cli.bench

local O = require "lnuma.options"

local M = {}

-- argparse converters: they return nil and a message for bad input.
function M.integer(s)
  local n = math.tointeger(tonumber(s))
  if n == nil then return nil, ("'%s' is not an integer"):format(s) end
  return n
end

function M.size(s)
  local n, msg = O.parse_size(s)
  if not n then return nil, msg end
  if n <= 0 then return nil, ("must be positive, got '%s'"):format(s) end
  return n
end

function M.sizes(s)
  local out = {}
  for item in s:gmatch("[^,%s]+") do
    local n, err = M.size(item)
    if not n then return nil, err end
    out[#out + 1] = n
  end
  if #out == 0 then return nil, "no sizes" end
  return out
end

function M.integers(s)
  local out = {}
  for item in s:gmatch("[^,%s]+") do
    local n, err = M.integer(item)
    if not n then return nil, err end
    out[#out + 1] = n
  end
  if #out == 0 then return nil, "empty list" end
  return out
end

-- The page kind as lnuma.options reads it everywhere (the API reads the
-- word again, the same way).
function M.huge(s) return O.parse_huge(s) end

-- Milliseconds on the command line, nanoseconds in the API.
function M.ms(s)
  local v = tonumber(s)
  if not v or v <= 0 then return nil, ("'%s' is not a positive number of ms"):format(s) end
  return math.floor(v * 1e6 + 0.5)
end

--- Adds --json, --svg FILE and --csv FILE (and --strict: every command with
-- these measures).
function M.output_options(parser)
  parser:flag("--json", "Print the result as one JSON object instead of text.")
  M.strict_option(parser)
  parser:option("--svg", "Also write the result as an SVG picture to FILE."):argname("FILE")
  parser:option("--csv", "Also write the result's data as CSV to FILE."):argname("FILE")
end

--- Exit status of a command whose --strict run found a doubtful condition.
M.STRICT_STATUS = 3

--- Adds --strict.
function M.strict_option(parser)
  parser:flag("--strict", "Fail (exit status 3) when a condition makes the figure doubtful "
              .. "(policy refused, pages off-node, huge pages not given, a thread migrated or "
              .. "sharing a CPU, NUMA balancing on, ...), instead of warning.")
end

--- The exit status for a strict failure message (0 without one); the
-- message goes to stderr.
function M.strict_exit(msg)
  if not msg then return 0 end
  io.stderr:write("lnuma: ", msg, "\n")
  return M.STRICT_STATUS
end

--- Adds --repetitions N.
function M.repetitions_option(parser, default)
  parser:option("--repetitions", ("Timed repetitions (default %d)."):format(default))
    :argname("N"):convert(M.integer)
end

--- Adds --huge KIND.
function M.huge_option(parser)
  parser:option("--huge", "Page kind: none (also no, 4K), thp (transparent huge pages), 2M "
                .. "or 1G (hugetlbfs, must be reserved), default (the system's THP setting).")
    :argname("KIND"):convert(M.huge)
end

-- A note for errors made while hwloc describes another machine than this
-- one (the benchmarks run here, on what the kernel has).
local function hwloc_note()
  for _, name in ipairs { "HWLOC_SYNTHETIC", "HWLOC_XMLFILE" } do
    if os.getenv(name) then
      return (" (%s is set: the topology lnuma sees is not this machine's; unset it to "
              .. "measure)"):format(name)
    end
  end
  return ""
end

-- "bad argument #1 to 'latency' (size: ...)" -> "--size: ...", for an
-- option the user gave (opts[key] set) or one that aliases names; the
-- message alone for the API's other keys, which the command has no option for.
local function clean(msg, opts, aliases)
  msg = tostring(msg)
  local inner = msg:match("^.-bad argument #%d to '[^']*' %((.*)%)$")
  if not inner then return (msg:gsub("^[^:]*:%d+: ", "")) end
  local key, rest = inner:match("^([%w_]+): (.*)$")
  if not key then return inner end
  if aliases and aliases[key] then return aliases[key] .. ": " .. rest end
  if opts and opts[key] ~= nil then return "--" .. key:gsub("_", "-") .. ": " .. rest end
  return rest
end

--- Calls a benchmark; programming errors come back as "--key: message"
-- errors, environment failures as their message.
-- @tparam function fn the benchmark (`lnuma.bench.latency`, ...)
-- @tparam table opts its options, from the command line
-- @tparam[opt] table aliases the option that stands for an API key the
--   command does not have as such (`{topology = "--synthetic"}`)
-- @treturn table the result (with opts.strict, from --strict, a doubtful
--   result comes back all the same, marked failed: `emit` then exits with
--   STRICT_STATUS)
function M.call(fn, opts, aliases)
  local ok, result, msg, _, failed = pcall(fn, opts)
  if not ok then error(clean(result, opts, aliases) .. hwloc_note(), 0) end
  if not result and type(failed) == "table" and failed.failed then return failed end
  if not result then error(tostring(msg) .. hwloc_note(), 0) end
  return result
end

--- Writes a result as the options ask: --svg and --csv files, then JSON or
-- the readable summary on stdout; returns the exit status (STRICT_STATUS,
-- with the reasons on stderr, for a result that failed --strict).
function M.emit(result, args)
  local lnuma = require "lnuma"
  if args.svg then
    local ok, err = lnuma.report.save(result, args.svg)
    if not ok then error("--svg: " .. tostring(err), 0) end
  end
  if args.csv then
    local f, err = io.open(args.csv, "w")
    if not f then error("--csv: " .. tostring(err), 0) end
    f:write(lnuma.report.csv(result))
    f:close()
  end
  if args.json then
    io.stdout:write(lnuma.report.json(result, { indent = true }), "\n")
  else
    io.stdout:write(lnuma.report.text(result, { color = lnuma.core.isatty(1) }), "\n")
  end
  return M.strict_exit(result.failed and
    require("lnuma.strict").message(result.failures or {}, result.benchmark) or nil)
end

--- Copies the options that are set from args into t, renaming argparse's
-- keys (traffic_size) to the API's; --strict always (every benchmark takes it).
function M.pick(args, t, keys)
  for _, k in ipairs(keys) do
    if args[k] ~= nil then t[k] = args[k] end
  end
  if args.strict then t.strict = true end
  return t
end

return M
