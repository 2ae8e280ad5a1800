--- Reports of lnuma results: JSON (encode and decode).
-- Every lnuma result is a plain table, so it encodes as is:
-- `print(lnuma.report.json(lnuma.topology(), {indent = true}))`.
-- @module lnuma.report

local dkjson = require "dkjson"
local argerror = require("lnuma.options").argerror

local report = {}

local too_deep

local ENCODABLE = { ["nil"] = true, boolean = true, number = true, string = true, table = true }

-- Checks that value can be written as JSON and collects every string key of
-- the tables inside it, sorted (given to dkjson as its key order, it makes
-- every object's keys come out sorted).  Returns the keys, or nil and what
-- is wrong, with the path to it ("nodes[1].f: ...").
local function check(value)
  local set, active = {}, {}
  local function walk(v, path)
    local t = type(v)
    if not ENCODABLE[t] then
      return ("%s: a %s cannot be written as JSON"):format(path, t)
    end
    if t ~= "table" then return nil end
    if active[v] then return path .. ": the table contains itself" end
    active[v] = true
    for k, x in pairs(v) do
      local sub
      if type(k) == "string" then
        set[k] = true
        sub = path == "value" and k or (path .. "." .. k)
      else
        sub = ("%s[%s]"):format(path, tostring(k))
      end
      local err = walk(x, sub)
      if err then return err end
    end
    active[v] = nil
    return nil
  end
  local err = walk(value, "value")
  if err then return nil, err end
  local keys = {}
  for k in pairs(set) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

local JSON_OPTIONS = { indent = "boolean", sort = "boolean" }

--- Encodes a value (a result table, an array, a string, a number...) as JSON.
-- Arrays become JSON arrays (an empty table is `[]`), integers stay integers,
-- NaN and infinities become `null`.
-- @param value the value to encode
-- @tparam[opt] table opts `indent` (boolean, default false): one key per line;
--   `sort` (boolean, default true): object keys in sorted order, so the same
--   value always gives the same text
-- @treturn string the JSON text
-- @raise when value holds a function, userdata or thread, or contains itself
--   (the message gives the path: "nodes[1].f: a function cannot be written as JSON")
function report.json(value, opts)
  opts = opts or {}
  if type(opts) ~= "table" then
    argerror("json", nil, "table expected, got " .. type(opts), 2, 2)
  end
  for k, v in pairs(opts) do
    local want = JSON_OPTIONS[k]
    if not want then
      argerror("json", nil, ("unknown option '%s'"):format(tostring(k)), 2, 2)
    elseif type(v) ~= want then
      argerror("json", k, ("%s expected, got %s"):format(want, type(v)), 2, 2)
    end
  end
  local keys, err = check(value)
  if not keys then argerror("json", nil, err, 2) end
  local state = { indent = opts.indent or false }
  if opts.sort ~= false then state.keyorder = keys end
  local ok, text = pcall(dkjson.encode, value, state)
  if not ok then
    argerror("json", nil, (tostring(text):gsub("^.-:%d+: ", "")), 2)
  end
  return text
end

--- How deep JSON may nest (arrays and objects): lnuma's results nest a
-- handful of levels; dkjson decodes by recursion, so a text of a million
-- "[" would overflow the stack.
report.MAX_DEPTH = 200

-- Where text nests deeper than MAX_DEPTH ("...at line 1, column 201"), or nil.
too_deep = function(text)
  local depth, line, line_start, i, n = 0, 1, 0, 1, #text
  while i <= n do
    local c = text:byte(i)
    if c == 34 then -- a string: skip it, escapes included
      i = i + 1
      while i <= n do
        local d = text:byte(i)
        if d == 92 then i = i + 1 elseif d == 34 then break end
        i = i + 1
      end
    elseif c == 91 or c == 123 then
      depth = depth + 1
      if depth > report.MAX_DEPTH then
        return ("JSON nested deeper than %d levels at line %d, column %d")
          :format(report.MAX_DEPTH, line, i - line_start)
      end
    elseif c == 93 or c == 125 then
      depth = depth - 1
    elseif c == 10 then
      line, line_start = line + 1, i
    end
    i = i + 1
  end
  return nil
end

--- Decodes JSON text.
-- @tparam string text
-- @return the value (nil for the JSON text `null`)
-- @treturn[2] nil
-- @treturn[2] string what is wrong and where ("no valid JSON value at line 1, column 2",
--   "JSON nested deeper than 200 levels at ...")
function report.decode(text)
  if type(text) ~= "string" then
    argerror("decode", nil, "string expected, got " .. type(text), 2)
  end
  local deep = too_deep(text)
  if deep then return nil, deep end
  local ok, value, _, msg = pcall(dkjson.decode, text)
  if not ok then return nil, "cannot decode: " .. tostring(value):gsub("^.-:%d+: ", "") end
  if msg ~= nil then return nil, msg end
  return value
end

-- ---- benchmark results: text, CSV, SVG (report_text.lua, report_svg.lua) ----

local text = require "lnuma.report.text"
-- The SVG renderer is loaded on first use: a C host embeds no renderer it
-- does not call (the Makefile leaves it out of liblnuma).
local function svg() return require "lnuma.report.svg" end
local shape = require "lnuma.report.check"

-- Checks the result argument of fname: every field the renderers read has
-- the type lnuma writes (a tampered or cut-short JSON file gets one message
-- naming the field, not an error from inside a renderer).
local function check_result(result, fname, kinds)
  local err = shape.result(result, kinds)
  if err then argerror(fname, nil, err, 3) end
end

local function check_opts(opts, fname, known)
  if opts == nil then return {} end
  if type(opts) ~= "table" then argerror(fname, nil, "table expected, got " .. type(opts), 3, 2) end
  for k, v in pairs(opts) do
    if known[k] == nil then
      argerror(fname, nil, ("unknown option '%s'"):format(tostring(k)), 3, 2)
    elseif type(v) ~= known[k] then
      argerror(fname, tostring(k), ("%s expected, got %s"):format(known[k], type(v)), 3, 2)
    end
  end
  return opts
end

--- A readable summary of a benchmark result (what `lnuma latency` and the
-- other commands print): the figure, how it was measured, placement,
-- pinning, its data as a table, and its warnings.
-- @tparam table result a result of `lnuma.bench.*`
-- @tparam[opt] table opts `color` (boolean): colour matrices
-- @treturn string
-- @raise when result is not a whole lnuma result (the message names the field)
function report.text(result, opts)
  check_result(result, "text")
  return text.summary(result, check_opts(opts, "text", { color = "boolean" }))
end

--- The data of a benchmark result as CSV (a header line, then rows).
-- @tparam table result
-- @treturn string
function report.csv(result)
  check_result(result, "csv")
  return text.csv(result)
end

--- An aligned text table: `report.table({"size", "ns"}, {{4096, 1.2}, ...})`.
-- @tparam table headers array of column titles
-- @tparam table rows array of arrays of cells (strings or numbers)
-- @tparam[opt] table opts `align` (array of "l"/"r"), `indent` (string)
-- @treturn string
function report.table(headers, rows, opts)
  local function cells(t, arg, what)
    if type(t) ~= "table" then
      argerror("table", what, "a list expected, got " .. type(t), 3, arg)
    end
  end
  cells(headers, 1, "headers")
  cells(rows, 2, "rows")
  for i, r in ipairs(rows) do cells(r, 2, ("rows[%d]"):format(i)) end
  opts = check_opts(opts, "table", { align = "table", indent = "string" })
  return text.table(headers, rows, opts)
end

--- A compact heatmap of a matrix result for the terminal.
-- @tparam table result a `matrix` or `c2c` result
-- @tparam[opt] table opts `color` (boolean)
-- @treturn string
function report.heatmap(result, opts)
  check_result(result, "heatmap", { matrix = true, c2c = true })
  return text.heatmap(result, check_opts(opts, "heatmap", { color = "boolean" }))
end

--- Formats bytes with a binary unit: `report.size(1572864)` is "1.5M".
-- @tparam number bytes
-- @treturn string
function report.size(bytes)
  if type(bytes) ~= "number" then
    argerror("size", nil, "number expected, got " .. type(bytes), 2)
  end
  return text.size(bytes)
end

--- The percentile distribution of a histogram (or of its export, as a
-- result's `histogram` field holds it) in HdrHistogram's `.hgrm` layout, or
-- as CSV; see `lnuma.report.distribution` for the rows and options.
-- @param h an `lnuma.histogram` or its `export()`
-- @tparam[opt] table opts `ticks` (5), `scale` (1), `format` ("hgrm" or "csv")
-- @treturn string
function report.distribution(h, opts)
  return require("lnuma.report.distribution").distribution(h, opts)
end

--- The SVG picture of a benchmark result: a heatmap for matrices (values in
-- the cells), a line chart for the latency curve (log size axis, caches
-- marked), the loaded-latency curve, or bars of the repetitions.
-- @tparam table result
-- @treturn string SVG text
function report.svg(result)
  check_result(result, "svg")
  return svg().render(result)
end

--- Writes a result to a file in the format its name ends with: ".json",
-- ".svg", ".csv", or text otherwise.
-- @tparam table result
-- @tparam string path
-- @treturn[1] true
-- @treturn[2] nil
-- @treturn[2] string message
function report.save(result, path)
  if type(path) ~= "string" then
    argerror("save", nil, "string expected, got " .. type(path), 2, 2)
  end
  local body
  if path:match("%.json$") then
    local ok, json = pcall(report.json, result, { indent = true })
    if not ok then error((tostring(json):gsub("to 'json'", "to 'save'")), 2) end
    body = json .. "\n"
  else
    check_result(result, "save")
    if path:match("%.svg$") then body = svg().render(result)
    elseif path:match("%.csv$") then body = text.csv(result)
    else body = text.summary(result) .. "\n" end
  end
  local f, err = io.open(path, "w")
  if not f then return nil, err end
  f:write(body)
  f:close()
  return true
end

--- The largest result file `load` reads (bytes).
report.MAX_FILE = 256 * 1024 * 1024

--- Reads a result saved as JSON (`lnuma report FILE.json` re-renders it).
-- The file must be a regular file of at most `report.MAX_FILE` bytes.
-- @tparam string path
-- @treturn[1] table the result
-- @treturn[2] nil
-- @treturn[2] string message
function report.load(path)
  if type(path) ~= "string" then
    argerror("load", nil, "string expected, got " .. type(path), 2)
  end
  local body, err = require("lnuma.core").read_input(path, report.MAX_FILE, "result file")
  if not body then return nil, err end
  local value, msg = report.decode(body)
  if value == nil then return nil, path .. ": " .. (msg or "the JSON text is null") end
  return value
end

--- Checks that a value is a whole lnuma benchmark result, as the renderers
-- read it.
-- @param result
-- @treturn[1] true
-- @treturn[2] nil
-- @treturn[2] string what is wrong, naming the field
function report.check(result)
  local err = shape.result(result)
  if err then return nil, err end
  return true
end

return report
