--- The `lnuma` command line: one argparse parser with a subcommand per
-- module in `COMMANDS`.  Each command module returns
-- `{ name =, summary =, setup = function(parser), run = function(args) }`;
-- `run` returns an exit status (0 when omitted).
-- @module lnuma.cli

local argparse = require "argparse"

local cli = {}

-- The subcommand modules, in the order `lnuma --help` lists them.
cli.COMMANDS = {
  "lnuma.cli.topo",
  "lnuma.cli.plan",
  "lnuma.cli.latency",
  "lnuma.cli.bandwidth",
  "lnuma.cli.matrix",
  "lnuma.cli.loaded",
  "lnuma.cli.c2c",
  "lnuma.cli.clock",
  "lnuma.cli.migration",
  "lnuma.cli.survey",
  "lnuma.cli.exec",
  "lnuma.cli.compare",
  "lnuma.cli.run",
  "lnuma.cli.report",
}

--- Builds the parser (exposed so specs can check the help text).
-- @treturn table the argparse parser and a map from command name to module
function cli.parser()
  local lnuma = require "lnuma"
  local parser = argparse("lnuma",
      "NUMA topology, placement and memory benchmarks (lnuma " .. lnuma._VERSION .. ").")
    :command_target("command")
    :require_command(true)
  parser:flag("--version", "Print the version and exit.")
    :action(function() print("lnuma " .. lnuma._VERSION); os.exit(0) end)
  local modules = {}
  for _, name in ipairs(cli.COMMANDS) do
    local mod = require(name)
    local sub = parser:command(mod.name, mod.summary)
    mod.setup(sub)
    modules[mod.name] = mod
  end
  return parser, modules
end

-- argparse reads "--size -1" as an option "-1": a negative number after a
-- long option (not after "--", and not for `run`, whose arguments belong to
-- the script) is joined to it as "--size=-1", so that the option's own
-- check names the value.
local function join_negatives(argv)
  local out = {}
  local command, rest = nil, false
  for i = 1, #(argv or {}) do
    local a = argv[i]
    local prev = out[#out]
    if not rest and command ~= "run" and type(a) == "string" and a:match("^%-%.?%d")
       and type(prev) == "string" and prev:match("^%-%-[%w][%w%-]*$") then
      out[#out] = prev .. "=" .. a
    else
      out[#out + 1] = a
      if a == "--" then rest = true end
      if command == nil and type(a) == "string" and not a:match("^%-") then command = a end
    end
  end
  return out
end

-- Commands that run a program (exec, compare) say which of their options
-- take no value (`flags`): their first argument that is neither an option
-- nor an option's value starts the program's command line, as with numactl
-- (`lnuma exec --node 0 ls -l`), so "--" is put before it.
local function program_start(argv, modules)
  local out, i, mod = {}, 1, nil
  while i <= #argv do
    local a = argv[i]
    out[#out + 1] = a
    i = i + 1
    if mod == nil and type(a) == "string" and not a:match("^%-") then
      mod = modules[a]
      if not (mod and mod.flags) then return argv end
    elseif mod then
      if a == "--" then return argv end
      if not a:match("^%-") then
        table.insert(out, #out, "--")
        for k = i, #argv do out[#out + 1] = argv[k] end
        return out
      end
      if not a:find("=", 1, true) and not mod.flags[a] and i <= #argv then
        out[#out + 1] = argv[i] -- the option's value
        i = i + 1
      end
    end
  end
  return out
end

--- Runs the command line `argv` (the global `arg` of a script).
-- @treturn integer exit status
function cli.main(argv)
  local parser, modules = cli.parser()
  local args = parser:parse(join_negatives(program_start(argv or {}, modules)))
  local mod = modules[args.command]
  local ok, status = xpcall(mod.run, debug.traceback, args)
  if not ok then
    -- Errors raised for bad input read as "lnuma: <message>", without a traceback.
    local msg = tostring(status):match("^[^\n]*")
    io.stderr:write("lnuma " .. args.command .. ": " .. msg .. "\n")
    if os.getenv("LNUMA_DEBUG") then io.stderr:write(status, "\n") end
    return 1
  end
  return status or 0
end

return cli
