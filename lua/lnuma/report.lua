--- Reports of lnuma results: JSON (encode and decode).
-- Every lnuma result is a plain table, so it encodes as is:
-- `print(lnuma.report.json(lnuma.topology(), {indent = true}))`.
-- @module lnuma.report

local dkjson = require "dkjson"

local report = {}

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
    error("bad argument #2 to 'json' (table expected, got " .. type(opts) .. ")", 2)
  end
  for k, v in pairs(opts) do
    local want = JSON_OPTIONS[k]
    if not want then
      error(("bad argument #2 to 'json' (unknown option '%s')"):format(tostring(k)), 2)
    elseif type(v) ~= want then
      error(("bad argument #2 to 'json' (%s: %s expected, got %s)"):format(k, want, type(v)), 2)
    end
  end
  local keys, err = check(value)
  if not keys then error("bad argument #1 to 'json' (" .. err .. ")", 2) end
  local state = { indent = opts.indent or false }
  if opts.sort ~= false then state.keyorder = keys end
  local ok, text = pcall(dkjson.encode, value, state)
  if not ok then
    error("bad argument #1 to 'json' (" .. tostring(text):gsub("^.-:%d+: ", "") .. ")", 2)
  end
  return text
end

--- Decodes JSON text.
-- @tparam string text
-- @return the value (nil for the JSON text `null`)
-- @treturn[2] nil
-- @treturn[2] string what is wrong and where ("no valid JSON value at line 1, column 2")
function report.decode(text)
  if type(text) ~= "string" then
    error("bad argument #1 to 'decode' (string expected, got " .. type(text) .. ")", 2)
  end
  local value, _, msg = dkjson.decode(text)
  if msg ~= nil then return nil, msg end
  return value
end

-- ---- benchmark results: text, CSV, SVG (report_text.lua, report_svg.lua) ----

local text = require "lnuma.report_text"
local svg = require "lnuma.report_svg"

--- A readable summary of a benchmark result (what `lnuma latency` and the
-- other commands print): the figure, how it was measured, placement,
-- pinning, its data as a table, and its warnings.
-- @function text
-- @tparam table result a result of `lnuma.bench.*`
-- @tparam[opt] table opts `color` (boolean): colour matrices
-- @treturn string
report.text = text.summary

--- The data of a benchmark result as CSV (a header line, then rows).
-- @function csv
-- @tparam table result
-- @treturn string
report.csv = text.csv

--- An aligned text table: `report.table({"size", "ns"}, {{4096, 1.2}, ...})`.
-- @function table
-- @tparam table headers
-- @tparam table rows
-- @tparam[opt] table opts `align` (array of "l"/"r"), `indent`
-- @treturn string
report.table = text.table

--- A compact heatmap of a matrix result for the terminal.
-- @function heatmap
-- @tparam table result a `matrix` or `c2c` result
-- @tparam[opt] table opts `color` (boolean)
-- @treturn string
report.heatmap = text.heatmap

--- Formats bytes with a binary unit: `report.size(1572864)` is "1.5M".
-- @function size
report.size = text.size

--- The SVG picture of a benchmark result: a heatmap for matrices (values in
-- the cells), a line chart for the latency curve (log size axis, caches
-- marked), the loaded-latency curve, or bars of the repetitions.
-- @function svg
-- @tparam table result
-- @treturn string SVG text
report.svg = svg.render

--- Writes a result to a file in the format its name ends with: ".json",
-- ".svg", ".csv", or text otherwise.
-- @tparam table result
-- @tparam string path
-- @treturn[1] true
-- @treturn[2] nil
-- @treturn[2] string message
function report.save(result, path)
  if type(path) ~= "string" then
    error("bad argument #2 to 'save' (string expected, got " .. type(path) .. ")", 2)
  end
  local body
  if path:match("%.json$") then body = report.json(result, { indent = true }) .. "\n"
  elseif path:match("%.svg$") then body = svg.render(result)
  elseif path:match("%.csv$") then body = text.csv(result)
  else body = text.summary(result) .. "\n" end
  local f, err = io.open(path, "w")
  if not f then return nil, err end
  f:write(body)
  f:close()
  return true
end

--- Reads a result saved as JSON (`lnuma report FILE.json` re-renders it).
-- @tparam string path
-- @treturn[1] table the result
-- @treturn[2] nil
-- @treturn[2] string message
function report.load(path)
  local f, err = io.open(path, "r")
  if not f then return nil, err end
  local body = f:read("a")
  f:close()
  local value, msg = report.decode(body)
  if value == nil then return nil, path .. ": " .. tostring(msg) end
  return value
end

return report
