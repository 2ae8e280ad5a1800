--- The `lnuma report FILE.json` command: re-renders a saved result (from
-- a `--json` run or `lnuma survey`) as text, SVG or CSV.  `lnuma report A.json B.json` says
-- which conditions differ between two results, then compares their figures
-- (lnuma.report.compare).
-- @module lnuma.cli.report

local cmd = {
  name = "report",
  summary = "Re-render a saved JSON result as text, SVG or CSV, or compare two.",
}

function cmd.setup(parser)
  parser:summary(cmd.summary)
  parser:description(
    "Reads a result saved as JSON (by --json or lnuma survey) and prints its\n"
    .. "summary; --svg writes its picture (for a survey, one picture per part,\n"
    .. "FILE with the part's name before .svg), --csv its data.  With a second\n"
    .. "file, says which conditions (kernel, THP, NUMA balancing, cpufreq, SMT,\n"
    .. "cgroup, huge pages, clock, hypervisor, lnuma's build) and parameters\n"
    .. "differ, then compares the figures, B against A.")
  parser:epilog("Examples:\n"
    .. "  lnuma report lnuma-results/survey-*/survey.json\n"
    .. "  lnuma bandwidth --json > bw.json && lnuma report bw.json --svg bw.svg\n"
    .. "  lnuma report before.json after.json")
  parser:argument("file", "The JSON file.")
  parser:argument("other", "A second JSON file, to compare with the first."):args("?")
  parser:option("--svg", "Write the picture to FILE."):argname("FILE")
  parser:option("--csv", "Write the data as CSV to FILE."):argname("FILE")
end

-- A saved result, or an error naming the file.
local function load(lnuma, file)
  local result, err = lnuma.report.load(file)
  if not result then error(err, 0) end
  if type(result) ~= "table" or type(result.benchmark) ~= "string" then
    error(file .. ": not an lnuma result (no 'benchmark' field)", 0)
  end
  return result
end

-- The parts of a result to show or compare: itself, or a survey's parts.
local function parts_of(result, file)
  if result.benchmark ~= "survey" then return { { name = nil, result = result } } end
  local parts = {}
  for _, name in ipairs(require("lnuma.cli.survey").PARTS) do
    if type(result[name]) == "table" and result[name].benchmark then
      parts[#parts + 1] = { name = name, result = result[name] }
    end
  end
  if #parts == 0 then error(file .. ": a survey without any part to show", 0) end
  return parts
end

-- Every part is checked before anything is written: a hand-edited or cut
-- short file gets one message naming the field.
local function check_parts(lnuma, parts, file)
  for _, part in ipairs(parts) do
    local ok, why = lnuma.report.check(part.result)
    if not ok then
      error(("%s: %s%s"):format(file, part.name and (part.name .. ": ") or "", why), 0)
    end
  end
end

local function compare(lnuma, args)
  if args.svg or args.csv then error("--svg and --csv: only with one file", 0) end
  local a, b = load(lnuma, args.file), load(lnuma, args.other)
  check_parts(lnuma, parts_of(a, args.file), args.file)
  check_parts(lnuma, parts_of(b, args.other), args.other)
  local rc = require "lnuma.report.compare"
  io.stdout:write(rc.text(rc.compare(a, b), args.file, args.other), "\n")
  return 0
end

function cmd.run(args)
  local lnuma = require "lnuma"
  if args.other then return compare(lnuma, args) end
  local result = load(lnuma, args.file)
  if result.failed then
    local codes = {}
    for i, d in ipairs(result.failures or {}) do codes[i] = tostring(d.code) end
    io.stdout:write(("FAILED (strict): %s\n"):format(table.concat(codes, ", ")))
  end
  local parts = parts_of(result, args.file)
  check_parts(lnuma, parts, args.file)
  for _, part in ipairs(parts) do
    local function target(path)
      if not part.name then return path end
      return (path:gsub("%.(%w+)$", "-" .. part.name .. ".%1"))
    end
    if args.svg then
      local ok, e = lnuma.report.save(part.result, target(args.svg))
      if not ok then error("--svg: " .. tostring(e), 0) end
    end
    if args.csv then
      local ok, e = lnuma.report.save(part.result, target(args.csv))
      if not ok then error("--csv: " .. tostring(e), 0) end
    end
    if part.name then io.stdout:write("== ", part.name, "\n") end
    io.stdout:write(lnuma.report.text(part.result, { color = lnuma.core.isatty(1) }), "\n")
  end
  return 0
end

return cmd
