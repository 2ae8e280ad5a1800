--- `lnuma exec`: runs a program under a memory policy and CPU set (as
-- numactl does), `lnuma exec [placement] -- CMD ARGS...`, and reports what
-- it really got: its pages per node, the CPUs it ran on, its times,
-- faults, peak RSS and exit status.  The program's output passes through
-- untouched; the report goes to stderr (or, with --json, one JSON object to
-- stdout while the program's stdout goes to stderr).  The exit status is the
-- program's (128 + N for signal N), or 127/126/125 when it could not be
-- launched.
-- @module lnuma.cli.exec

local cb = require "lnuma.cli.bench"

local cmd = {
  name = "exec",
  summary = "Run a program under a memory policy and CPU set; report where its pages went.",
}

-- Options without a value: the first other argument starts the program's
-- command line (cli.lua puts "--" before it).
cmd.flags = { ["--json"] = true, ["-h"] = true, ["--help"] = true }

local POLICIES = "bind, preferred, preferred_many, interleave, weighted_interleave, local"

-- Adds the placement options (--node, --nodes, --policy, --interleave,
-- --cpus, --huge).
function cmd.placement_options(parser)
  parser:option("--node", "Bind its memory to node N."):argname("N"):convert(cb.integer)
  parser:option("--nodes", "Its memory on these nodes (a list such as 0-1, or all), with "
                .. "--policy."):argname("LIST")
  parser:option("--policy", "Memory policy for --nodes: " .. POLICIES .. " (default bind)."):
    argname("P")
  parser:option("--interleave", "Interleave its memory over these nodes (a list, or all)."):
    argname("LIST")
  parser:option("--cpus", "Run it on these CPUs (a cpulist such as 0-3,8)."):argname("LIST")
  parser:option("--huge", "thp: THP for its malloc (glibc.malloc.hugetlb=1 and THP on for it); "
                .. "none: THP off for it."):argname("KIND"):choices { "thp", "none" }
end

function cmd.setup(parser)
  parser:summary(cmd.summary)
  parser:description(
    "Forks, sets the memory policy (set_mempolicy) and the CPU set (sched_setaffinity)\n"
    .. "in the child, then execs CMD: both survive exec, as with numactl.  While it runs,\n"
    .. "its /proc/PID/numa_maps is sampled (every --sample-ms at most, from 1 ms on) and\n"
    .. "each mapping kept at its largest; wait4 gives its times, faults and peak RSS.\n"
    .. "A policy the kernel refuses stops the launch (exit 125): CMD never runs\n"
    .. "without it.  The report goes to stderr; the program's output is untouched.")
  parser:epilog("Examples:\n"
    .. "  lnuma exec --node 1 -- ./walker 256 500\n"
    .. "  lnuma exec --interleave all --cpus 0-3 --json -- ./server --port 9000\n"
    .. "  lnuma exec --node 0 --huge thp --svg pages.svg -- ./walker 256")
  cmd.placement_options(parser)
  parser:option("--sample-ms", "Longest time between two samples of /proc (default 50)."):
    argname("MS"):convert(cb.ms)
  parser:option("--timeout", "Stop it after SECONDS (SIGTERM, then SIGKILL 1 s later)."):
    argname("SECONDS"):convert(function(s)
      local v = tonumber(s)
      if not v or v <= 0 then return nil, ("'%s' is not a positive number of seconds"):format(s) end
      return math.floor(v * 1e9 + 0.5)
    end)
  parser:option("--mappings", "How many of its largest mappings to list (default 10)."):
    argname("N"):convert(cb.integer)
  cb.output_options(parser)
  parser:argument("cmd", "The program and its arguments (after --)."):args("+"):argname("CMD")
end

-- The options of lnuma.exec from the placement options of args.
function cmd.placement_opts(args, opts)
  opts = opts or {}
  opts.node, opts.cpus, opts.huge = args.node, args.cpus, args.huge
  if args.nodes then opts.nodes = args.nodes end
  if args.interleave then opts.interleave = args.interleave end
  if args.policy then opts.policy = args.policy end
  return opts
end

-- Writes --svg and --csv files with a renderer table {svg =, csv =}.
function cmd.files(result, args, render)
  for _, kind in ipairs { "svg", "csv" } do
    if args[kind] then
      local f, err = io.open(args[kind], "w")
      if not f then error("--" .. kind .. ": " .. tostring(err), 0) end
      f:write(render[kind](result))
      f:close()
    end
  end
end

function cmd.run(args)
  local lnuma = require "lnuma"
  local opts = cmd.placement_opts(args, { cmd = args.cmd })
  opts.sample_ns, opts.timeout_ns, opts.mappings = args.sample_ms, args.timeout, args.mappings
  if args.json then opts.stdout = "stderr" end
  -- Mistakes raise through cb.call (named as options); a launch that
  -- failed comes back with its exit status.
  local got = cb.call(function(o)
    local r, m, _, i = lnuma.exec(o)
    return { result = r, msg = m, info = i }
  end, opts, { cmd = "command" })
  local result = got.result
  if not result then
    io.stderr:write("lnuma exec: ", tostring(got.msg), "\n")
    return got.info and got.info.exit_code or 125
  end
  local render = require "lnuma.report.exec"
  cmd.files(result, args, render)
  if args.json then
    io.stdout:write(lnuma.report.json(result, { indent = true }), "\n")
  else
    io.stderr:write(render.text(result), "\n")
  end
  return result.exit.code
end

return cmd
