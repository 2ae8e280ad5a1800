--- `lnuma compare`: the experiment for a program,
-- `lnuma compare --placement P1 --placement P2 ... -- CMD ARGS...`.  Each
-- placement is run `--repetitions` times in a randomised interleaved order
-- (lnuma.experiment, seeded); wall time and any metric read from the
-- program's output by a Lua pattern get the experiment's statistics
-- (medians with confidence intervals, Mann-Whitney with Holm's correction,
-- effect sizes), and each run's pages per node are checked against its
-- placement.  Failing runs are listed with their exit status and the tail
-- of their stderr.  Exit status: 0 when every run succeeded where it was
-- asked, 1 otherwise.
-- @module lnuma.cli.compare

local cb = require "lnuma.cli.bench"
local cx = require "lnuma.cli.exec"

local cmd = {
  name = "compare",
  summary = "Run a program under several placements, interleaved; compare with statistics.",
}

-- Options without a value (see cli.lua: the program's command line starts
-- at the first other argument).
cmd.flags = { ["--json"] = true, ["--show-output"] = true, ["-h"] = true, ["--help"] = true }

function cmd.setup(parser)
  parser:summary(cmd.summary)
  parser:description(
    "Each --placement is a string of key=value items (spaces or ';' between them):\n"
    .. "node=N, nodes=LIST with policy=P, interleave=LIST|all, policy=local, cpus=LIST,\n"
    .. "huge=thp|none, or the word default.  Every placement runs --repetitions times\n"
    .. "after --warmup rounds, in an order shuffled from --seed; the program's output is\n"
    .. "kept (not shown unless --show-output) so --metric can read numbers from it: a\n"
    .. "Lua pattern with one capture, named by its leading word ('p99=(%d+) ns' is\n"
    .. "p99).  The first --metric is the one compared (else wall time); the rest and\n"
    .. "the times are recorded beside it.")
  parser:epilog("Examples:\n"
    .. "  lnuma compare --placement node=0 --placement node=1 --placement interleave=all \\\n"
    .. "      --repetitions 10 --metric 'ns_per_load=([%d.]+)' -- ./walker 256 500\n"
    .. "  lnuma compare --placement 'node=0 cpus=0-3' --placement 'node=1 cpus=0-3' \\\n"
    .. "      --json -- ./server --bench")
  parser:option("--placement", "A placement to run the program under (two or more)."):
    argname("P"):count("*")
  parser:option("--metric", "A Lua pattern whose capture is a number in its output "
                .. "(repeatable)."):argname("PATTERN"):count("*")
  parser:option("--better", "Whether lower (default) or higher values of the metric are "
                .. "better."):argname("WHICH"):choices { "lower", "higher" }
  cb.repetitions_option(parser, 5)
  parser:option("--warmup", "Warm-up rounds, not counted (default 1)."):argname("N")
    :convert(cb.integer)
  parser:option("--seed", "Seed of the order (default from the clock; in the result)."):
    argname("S"):convert(cb.integer)
  parser:option("--timeout", "Stop a run after SECONDS (SIGTERM, then SIGKILL)."):
    argname("SECONDS"):convert(function(s)
      local v = tonumber(s)
      if not v or v <= 0 then return nil, ("'%s' is not a positive number of seconds"):format(s) end
      return math.floor(v * 1e9 + 0.5)
    end)
  parser:flag("--show-output", "Pass the program's output on (to stderr with --json).")
  cb.output_options(parser)
  parser:argument("cmd", "The program and its arguments (after --)."):args("+"):argname("CMD")
end

-- Whether the program can be found as execvp would look for it (a clear
-- "command not found" before any run, rather than every run failing).
local function findable(prog)
  local function file(path)
    local f = io.open(path, "r")
    if f then f:close() end
    return f ~= nil
  end
  if prog:find("/", 1, true) then return file(prog) end
  for dir in (os.getenv("PATH") or "/usr/bin:/bin"):gmatch("[^:]+") do
    if file(dir .. "/" .. prog) then return true end
  end
  return false
end

--- The options of lnuma.experiment for a compare command line.
-- @tparam table args parsed arguments
-- @treturn table experiment options
function cmd.experiment_options(args)
  local lnuma = require "lnuma"
  local placements = args.placement or {}
  if #placements < 1 then error("--placement: give at least one (two or more to compare)", 0) end
  local seen = {}
  for _, p in ipairs(placements) do
    local ok, err = pcall(lnuma.exec.placement, p)
    if not ok then
      error("--placement: " .. tostring(err):gsub("^.-%((.*)%)$", "%1"), 0)
    end
    if seen[p] then error(("--placement: '%s' given twice"):format(p), 0) end
    seen[p] = true
  end
  local exec_opts = { timeout_ns = args.timeout }
  local ok, run, names = pcall(lnuma.exec.runner, { cmd = args.cmd, metrics = args.metric,
                                                     show_output = args.show_output,
                                                     exec = exec_opts })
  if not ok then error("--metric: " .. tostring(run):gsub("^.-%((.*)%)$", "%1"), 0) end
  if args.show_output and args.json then exec_opts.stdout = "stderr" end
  local metric = names[1] or "wall_ns"
  local others = { "wall_ns", "user_ns", "system_ns", "max_rss_bytes", "minor_faults" }
  for i = 2, #names do others[#others + 1] = names[i] end
  return {
    name = "compare: " .. table.concat(args.cmd, " "),
    factors = { { "placement", placements } },
    repetitions = args.repetitions or 5, warmup = args.warmup, seed = args.seed,
    run = run, metric = metric, metrics = others, better = args.better,
    unit = metric == "wall_ns" and "ns" or nil, pin = false,
  }
end

--- Runs the experiment: lnuma.experiment where this build has it.
-- @tparam table opts experiment options
-- @treturn table the experiment result
function cmd.run_experiment(opts)
  local lnuma = require "lnuma"
  if not lnuma.experiment then
    error("lnuma.experiment is not in this build (compare needs it)", 0)
  end
  return cb.call(lnuma.experiment, opts)
end

-- One row per placement: runs, failures, flags, medians, pages per node of
-- its last good run.
local function placements_table(res)
  local rows = {}
  for _, c in ipairs(res.combinations or {}) do
    local last, flagged, failed, errors = nil, 0, 0, {}
    for _, r in ipairs(res.runs or {}) do
      if r.combination == c.index and not r.warmup then
        if r.error then
          failed = failed + 1
          errors[#errors + 1] = r.error
        else
          last = r
          if #(r.flags or {}) > 0 then flagged = flagged + 1 end
        end
      end
    end
    local pl = last and last.placement and last.placement.run
    local where = {}
    for _, e in ipairs(pl and pl.pages_by_node or {}) do
      where[#where + 1] = { node = e.node, bytes = e.pages * (pl.page_size or 4096) }
    end
    rows[#rows + 1] = { placement = c.levels.placement, runs = c.n or 0, failed = failed,
                        flagged = flagged, median = c.median,
                        wall_ns = c.metrics and c.metrics.wall_ns, by_node = where,
                        errors = errors }
  end
  return rows
end

local function placements_text(res, rows)
  local report = require("lnuma").report
  local out, t = {}, {}
  for _, row in ipairs(rows) do
    local where = {}
    for _, e in ipairs(row.by_node) do
      where[#where + 1] = ("%d: %s"):format(e.node, report.size(e.bytes))
    end
    t[#t + 1] = { row.placement, row.runs, row.failed, row.flagged,
                  row.median or "-",
                  row.wall_ns and ("%.1f"):format(row.wall_ns / 1e6) or "-",
                  #where > 0 and table.concat(where, ", ") or "-" }
  end
  out[#out + 1] = "placements (memory of the program by node, its last good run):"
  out[#out + 1] = report.table({ "placement", "runs", "failed", "misplaced", res.metric,
                                 "wall ms", "memory by node" }, t, { indent = "  " })
  for _, row in ipairs(rows) do
    for i, e in ipairs(row.errors) do
      if i > 3 then
        out[#out + 1] = ("  %s: %d more failed runs"):format(row.placement, #row.errors - 3)
        break
      end
      out[#out + 1] = ("  failed run of %s: %s"):format(row.placement, e)
    end
  end
  return table.concat(out, "\n")
end

function cmd.run(args)
  local lnuma = require "lnuma"
  local prog = args.cmd[1]
  if not findable(prog) then
    io.stderr:write(("lnuma compare: exec: %s: %s\n"):format(prog,
      prog:find("/", 1, true) and "No such file or directory"
        or "command not found (not in PATH)"))
    return 127
  end
  local res = cmd.run_experiment(cmd.experiment_options(args))
  local rows = placements_table(res)
  res.placements = rows
  cx.files(res, args, { svg = lnuma.report.svg, csv = lnuma.report.csv })
  if args.json then
    io.stdout:write(lnuma.report.json(res, { indent = true }), "\n")
  else
    io.stdout:write(lnuma.report.text(res, { color = lnuma.core.isatty(1) }), "\n")
    io.stdout:write(placements_text(res, rows), "\n")
  end
  for _, row in ipairs(rows) do
    if row.failed > 0 or row.flagged > 0 then return 1 end
  end
  return 0
end

return cmd
