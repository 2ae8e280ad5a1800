--- `lnuma run SCRIPT [ARGS...]`: runs a Lua script with `lnuma` preloaded.
-- The script sees `lnuma` as a variable (in its own environment, not in
-- _G), its arguments in `arg` and `...`, as `lua5.4 SCRIPT ARGS` would give.
-- @module lnuma.cli.run

local cmd = {
  name = "run",
  summary = "Run a Lua script with lnuma preloaded.",
}

function cmd.setup(parser)
  parser:summary(cmd.summary)
  parser:description(
    "Runs SCRIPT with the variable `lnuma` already set to require \"lnuma\"\n"
    .. "and its arguments in `arg` (arg[0] is the script) and `...`.")
  parser:epilog("Example:\n  lnuma run examples/thp_vs_4k.lua --quick")
  parser:argument("script", "The Lua script.")
  parser:argument("args", "Arguments for the script."):args("*")
  parser:handle_options(false)
  cmd.parser = parser
end

function cmd.run(args)
  -- Options are the script's (handle_options(false)), but help is ours.
  if args.script == "--help" or args.script == "-h" then
    io.stdout:write(cmd.parser:get_help(), "\n")
    return 0
  end
  local lnuma = require "lnuma"
  local env = setmetatable({ lnuma = lnuma }, { __index = _G })
  local chunk, err = loadfile(args.script, "t", env)
  if not chunk then error(err, 0) end
  local script_arg = { [0] = args.script }
  for i, a in ipairs(args.args or {}) do script_arg[i] = a end
  env.arg = script_arg
  local ok, status = xpcall(chunk, debug.traceback, table.unpack(script_arg))
  if not ok then error(args.script .. ": " .. tostring(status), 0) end
  return math.type(status) == "integer" and status or 0
end

return cmd
