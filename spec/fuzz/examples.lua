--- Argument lists for the API fuzzer, harvested at run time from the calls
-- written in the README, the specs and the examples: `lnuma.pool { size =
-- 64, count = 100 }` gives lnuma.pool the list `{ {size = 64, count = 100} }`,
-- `buf:get("u8", 0)` gives every method named get `{ "u8", 0 }`.  The
-- fuzzer starts from them (and mutates them), so it reaches past the first
-- argument check of functions that need a precise shape, and new API that
-- comes with a spec gets examples without an edit here.
--
-- Only arguments that are constants are kept: each text is evaluated with
-- no access to lnuma, under an instruction limit.

local M = {}

local function evaluate(text)
  local chunk = load("return " .. text, "=example", "t", { math = math })
  if not chunk then return nil end
  debug.sethook(function() error("example too long") end, "", 100000)
  local res = table.pack(pcall(chunk))
  debug.sethook()
  if not res[1] then return nil end
  return table.move(res, 2, res.n, 1, { n = res.n - 1 })
end

--- Scans the files and returns `{ calls = {name = {args...}}, methods = {...} }`
-- where name is the text before the call ("lnuma.pool", "bench.latency")
-- and methods are keyed by method name.
function M.harvest(root)
  local found = { calls = {}, methods = {} }
  local files = {}
  for _, pattern in ipairs { "README.md", "spec/*_spec.lua", "examples/*.lua" } do
    local p = io.popen("ls " .. root .. "/" .. pattern .. " 2>/dev/null")
    for file in p:lines() do files[#files + 1] = file end
    p:close()
  end
  table.sort(files)
  local function add(where, name, args)
    if args and #name < 60 then
      local list = where[name] or {}
      where[name] = list
      if #list < 24 then list[#list + 1] = args end
    end
  end
  for _, file in ipairs(files) do
    local f = io.open(file)
    local text = f:read("a")
    f:close()
    for name, body in text:gmatch("([%a_][%w_%.]*)%s*(%b())") do
      add(found.calls, name, evaluate(body:sub(2, -2)))
    end
    for name, body in text:gmatch("([%a_][%w_%.]*)%s*(%b{})") do
      add(found.calls, name, evaluate(body))
    end
    for name, body in text:gmatch(":([%a_][%w_]*)%s*(%b())") do
      add(found.methods, name, evaluate(body:sub(2, -2)))
    end
    for name, body in text:gmatch(":([%a_][%w_]*)%s*(%b{})") do
      add(found.methods, name, evaluate(body))
    end
  end
  return found
end

--- The argument lists for a function path ("lnuma.bench.latency") or a
-- method name ("buffer:get"): calls written with the full path or a tail of
-- it ("bench.latency", "latency"; not a tail that is only a common word).
function M.for_name(found, name)
  local out = {}
  local method = name:match(":([%w_]+)$")
  if method then
    for _, a in ipairs(found.methods[method] or {}) do out[#out + 1] = a end
    return out
  end
  local parts = {}
  for p in name:gmatch("[^%.]+") do parts[#parts + 1] = p end
  for i = 1, #parts do
    local tail = table.concat(parts, ".", i)
    if i < #parts or #tail > 5 then
      for _, a in ipairs(found.calls[tail] or {}) do out[#out + 1] = a end
    end
  end
  return out
end

return M
