--- `lnuma report FILE.json`: re-renders a saved result (from --json or
-- `lnuma survey`) as text, SVG or CSV.
-- @module lnuma.cli_report

local cmd = {
  name = "report",
  summary = "Re-render a saved JSON result as text, SVG or CSV.",
}

function cmd.setup(parser)
  parser:summary(cmd.summary)
  parser:description(
    "Reads a result saved as JSON (by --json or lnuma survey) and prints its\n"
    .. "summary; --svg writes its picture (for a survey, one picture per part,\n"
    .. "FILE with the part's name before .svg), --csv its data.")
  parser:epilog("Examples:\n"
    .. "  lnuma report lnuma-results/survey-*/survey.json\n"
    .. "  lnuma bandwidth --json > bw.json && lnuma report bw.json --svg bw.svg")
  parser:argument("file", "The JSON file.")
  parser:option("--svg", "Write the picture to FILE."):argname("FILE")
  parser:option("--csv", "Write the data as CSV to FILE."):argname("FILE")
end

function cmd.run(args)
  local lnuma = require "lnuma"
  local result, err = lnuma.report.load(args.file)
  if not result then error(err, 0) end
  if type(result) ~= "table" or type(result.benchmark) ~= "string" then
    error(args.file .. ": not an lnuma result (no 'benchmark' field)", 0)
  end
  local parts = { { name = nil, result = result } }
  if result.benchmark == "survey" then
    parts = {}
    for _, name in ipairs(require("lnuma.cli_survey").PARTS) do
      if type(result[name]) == "table" and result[name].benchmark then
        parts[#parts + 1] = { name = name, result = result[name] }
      end
    end
    if #parts == 0 then error(args.file .. ": a survey without any part to show", 0) end
  end
  -- Every part is checked before anything is written: a hand-edited or cut
  -- short file gets one message naming the field.
  for _, part in ipairs(parts) do
    local ok, why = lnuma.report.check(part.result)
    if not ok then
      error(("%s: %s%s"):format(args.file, part.name and (part.name .. ": ") or "", why), 0)
    end
  end
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
