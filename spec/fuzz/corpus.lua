--- What the API fuzzer (spec/fuzz/fuzz.lua) takes from the repository at
-- run time: the words of the sources (option keys, enum values), files it
-- may name (copies of the fixtures and plans, in its own folder), and
-- argument lists harvested from the calls written in the README, the specs
-- and the examples: `lnuma.pool { size =
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

local function ls(root, pattern)
  local files = {}
  local p = io.popen("ls " .. root .. "/" .. pattern .. " 2>/dev/null")
  for file in p:lines() do files[#files + 1] = file end
  p:close()
  table.sort(files)
  return files
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

--- Words of the sources: string literals, keys of option tables, `opts.x`
-- (sorted, so a seed gives the same run).
function M.words(root)
  local seen, words = {}, {}
  local function add(w)
    if #w >= 1 and #w <= 24 and not seen[w] then seen[w] = true words[#words + 1] = w end
  end
  for _, pattern in ipairs { "lua/lnuma/*.lua", "lua/lnuma/*/*.lua", "csrc/lua/*.c" } do
    for _, file in ipairs(ls(root, pattern)) do
      local text = read(file)
      for w in text:gmatch('"([%w_%.%-]+)"') do add(w) end
      for w in text:gmatch("'([%w_%.%-]+)'") do add(w) end
      for w in text:gmatch("([%a_][%w_]*)%s*=%s*true") do add(w) end
      for w in text:gmatch("opts?%.([%a_][%w_]*)") do add(w) end
    end
  end
  table.sort(words)
  return words
end

-- Plans written for the fuzzer: endless, broken, small, greedy, odd errors.
local PLANS = {
  { "bad.lua", "return {" },
  { "big.lua", "local t = {} for i = 1, 1e7 do t[i] = ('x'):rep(i) end" },
  { "error.lua", "error(setmetatable({}, {__tostring = function() return 'boom' end}))" },
  { "loop.lua", "while true do end" },
  { "small.lua", "return { threads = { { name = 't', cpus = topology.allowed.cpus[1] } },"
                 .. " memory = { { name = 'm', size = '64K',"
                 .. " node = topology.allowed.nodes[1] } } }" },
}

--- Files a call may be given, all in tmp (a call may write to any path it
-- is given) or unwritable.  Returns the paths and the plan files (the
-- example engine's two first).
function M.files(root, tmp)
  local paths, plans = {}, {}
  local function put(name, text)
    if not text then return nil end
    local dst = tmp .. "/" .. name
    local o = assert(io.open(dst, "wb"))
    o:write(text)
    o:close()
    paths[#paths + 1] = dst
    return dst
  end
  for _, name in ipairs { "two-packages-four-nodes.xml", "memory-only-node.xml", "node-gaps.xml",
                          "crashes-hwloc.xml" } do
    put(name, read(root .. "/spec/fixtures/" .. name))
  end
  for _, name in ipairs { "engine.lua", "engine-node1.lua" } do
    plans[#plans + 1] = put(name, read(root .. "/examples/host/" .. name))
  end
  for _, p in ipairs(PLANS) do plans[#plans + 1] = put(p[1], p[2]) end
  for _, p in ipairs { "/dev/null", "/nonexistent/dir/file", tmp, tmp .. "/out.json",
                       tmp .. "/out.svg", tmp .. "/out.csv", tmp .. "/out.xml",
                       "/proc/self/status", "/dev/zero", "relative.json", "" } do
    paths[#paths + 1] = p
  end
  return paths, plans
end

--- Scans the files and returns `{ calls = {name = {args...}}, methods = {...} }`
-- where name is the text before the call ("lnuma.pool", "bench.latency")
-- and methods are keyed by method name.
function M.examples(root)
  local found = { calls = {}, methods = {} }
  local files = {}
  for _, pattern in ipairs { "README.md", "spec/*_spec.lua", "examples/*.lua" } do
    for _, file in ipairs(ls(root, pattern)) do files[#files + 1] = file end
  end
  local function add(where, name, args)
    if args and #name < 60 then
      local list = where[name] or {}
      where[name] = list
      if #list < 24 then list[#list + 1] = args end
    end
  end
  for _, file in ipairs(files) do
    local text = read(file)
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
