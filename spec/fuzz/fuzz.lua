--- The API fuzzer: seeded random calls over every function and method
-- `require "lnuma"` exposes, with adversarial arguments (spec/fuzz/gen.lua).
--
--   lua5.4 spec/fuzz/fuzz.lua --seed N --calls N --log FILE --tmp DIR --root DIR
--
-- Functions are found at run time: the `lnuma` table is walked (lnuma.bench,
-- lnuma.core, lnuma.plan, ...), and every object a call returns adds the
-- methods of its metatable (Buffer, Arena, Pool, Histogram, Topology, Plan,
-- views, ...), metamethods included.  So new API is fuzzed without edits.
-- Option keys come from the words of the sources (lua/lnuma, csrc/lua) and
-- from the error messages of earlier calls ("(size: ...)" says the function
-- takes `size`); arguments of calls that succeeded are kept and replayed
-- with one value changed, to reach past the first check.
--
-- Every call is written to the log (one line, flushed) before it runs, so a
-- crash names its call; calls run under pcall, now and then in a coroutine.
-- A crash is the process dying: the runner (spec/fuzz/run) tells.  The last
-- line on stdout is "done seed=... calls=... seconds=... skipped=...".

local here = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path
local gen = require "gen"
local costly = require "costly"
local known = require("known").api
local corpus = require "corpus"

local opts = { seed = os.time(), calls = 10000, log = "fuzz.log", tmp = "/tmp", root = ".",
               seconds = 0 }
do
  local i = 1
  while arg[i] do
    local k = arg[i]:match("^%-%-(%w+)$")
    assert(k and opts[k] ~= nil and arg[i + 1], "usage: fuzz.lua --seed N --calls N --log F")
    opts[k] = math.type(opts[k]) == "integer" and math.tointeger(tonumber(arg[i + 1]))
              or arg[i + 1]
    i = i + 2
  end
end

local lnuma = require "lnuma"
local now = lnuma.core.clock.monotonic_raw
local r = gen.rng(opts.seed)

-- ---- the run's context -----------------------------------------------------------------

local ctx = {
  objects = { list = {} }, results = {}, names = setmetatable({}, { __mode = "k" }),
  words = {}, paths = {}, plan_files = {}, callables = {}, depth = 0, trapped = {},
  collects = 0, reentries = 0,
}
local names = ctx.names
local MAX_OBJECTS, MAX_RESULTS = 40, 24
local BIG = 4 << 20 -- objects larger than this are freed at once (and kept freed)

ctx.words = corpus.words(opts.root)
ctx.paths, ctx.plan_files = corpus.files(opts.root, opts.tmp)

-- ---- functions and methods -------------------------------------------------------------

local funcs = {} -- {name, fn, costly}
do
  local seen = {}
  local function walk(t, prefix)
    if seen[t] then return end
    seen[t] = true
    local keys = {}
    for k in pairs(t) do if type(k) == "string" then keys[#keys + 1] = k end end
    table.sort(keys)
    for _, k in ipairs(keys) do
      local v, path = t[k], prefix .. "." .. k
      if type(v) == "function" and not costly.EXCLUDED[path] then
        funcs[#funcs + 1] = { name = path, fn = v }
        names[v] = path
      elseif type(v) == "table" then
        walk(v, path)
      end
    end
  end
  walk(lnuma, "lnuma")
end
local found = corpus.examples(opts.root)
local unlisted = {}
for _, f in ipairs(funcs) do
  local is_c = debug.getinfo(f.fn, "S").what == "C"
  f.template = costly.COSTLY[f.name]
  f.small = f.template ~= nil or costly.looks_costly(f.name)
  if f.small and not f.template then unlisted[#unlisted + 1] = f.name end
  f.weight = (is_c and 1 or 0.33) * (f.small and (is_c and 0.5 or 0.2) or 1)
  if not f.small then
    ctx.callables[#ctx.callables + 1] = f.fn
    f.examples = corpus.for_name(found, f.name)
  end
end

-- Methods per metatable, found the first time an object of that kind shows up.
local methods_of = setmetatable({}, { __mode = "k" })
local kind_of = setmetatable({}, { __mode = "k" })
local next_id = 0

local function methods(mt, v)
  local list = methods_of[mt]
  if list then return list end
  list = {}
  local kind = kind_of[mt]
  local seen = {}
  local function add(k, f)
    if type(f) == "function" and not seen[k] then
      seen[k] = true
      local m = { name = kind .. ":" .. k, fn = f, method = true }
      m.examples = corpus.for_name(found, m.name)
      list[#list + 1] = m
    end
  end
  local keys = {}
  for k in next, mt do if type(k) == "string" then keys[#keys + 1] = k end end
  local idx = rawget(mt, "__index")
  if type(idx) == "table" then
    for k in next, idx do if type(k) == "string" then keys[#keys + 1] = "." .. k end end
  end
  if type(v) == "table" then
    for k in next, v do if type(k) == "string" then keys[#keys + 1] = "=" .. k end end
  end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local where, key = k:sub(1, 1), k:sub(2)
    if where == "." then add(key, rawget(idx, key))
    elseif where == "=" then add(key, rawget(v, key))
    else add(k, rawget(mt, k)) end
  end
  methods_of[mt] = list
  return list
end

local function size_of(v, list)
  for _, m in ipairs(list) do
    if m.name:match(":size$") then
      local ok, n = pcall(m.fn, v)
      if ok and math.type(n) == "integer" then return n end
    end
  end
  return 0
end

local function free_now(list, v)
  for _, m in ipairs(list) do
    if m.name:match(":free$") then pcall(m.fn, v) end
  end
end

local function freed(v)
  local kind = lnuma.type(v)
  return kind ~= nil and kind:find("^freed") ~= nil
end

-- Results are copied when they are tampered with: big ones are not kept.
local function too_big(v, count)
  for _, x in next, v do
    count.n = count.n + 1
    if count.n > 4000 then return true end
    if type(x) == "table" and too_big(x, count) then return true end
  end
  return false
end

-- Keeps what a call returned: objects (values with a metatable) in the pool,
-- plain tables as results (and the objects one level inside them).
local function keep(v, creator, depth)
  local tv = type(v)
  if tv ~= "table" and tv ~= "userdata" then return end
  local mt = getmetatable(v)
  if type(mt) == "table" then
    if names[v] then return end
    if not kind_of[mt] then
      local n = rawget(mt, "__name")
      kind_of[mt] = type(n) == "string" and n:gsub("^lnuma%.", ""):lower()
                    or (creator:gsub("^lnuma%.", "") .. "()")
    end
    local list = methods(mt, v)
    if size_of(v, list) > BIG then free_now(list, v) end
    next_id = next_id + 1
    names[v] = "<" .. kind_of[mt] .. "#" .. next_id .. ">"
    local pool = ctx.objects.list
    if #pool >= MAX_OBJECTS then
      local j = r.int(#pool)
      for _ = 1, 3 do
        if freed(pool[j]) then break end
        j = r.int(#pool)
      end
      table.remove(pool, j)
    end
    pool[#pool + 1] = v
  elseif tv == "table" and mt == nil and depth == 0 and not too_big(v, { n = 0 }) then
    if #ctx.results >= MAX_RESULTS then table.remove(ctx.results, r.int(#ctx.results)) end
    ctx.results[#ctx.results + 1] = v
    local n = 0
    for _, x in next, v do
      n = n + 1
      if n > 32 then break end
      keep(x, creator, 1)
    end
  end
end

-- ---- choosing a call ---------------------------------------------------------------------

local learned = {} -- name -> {keys}, from "(key: ...)" in its error messages
local learned_set = {}
function ctx.keys_for(name)
  return name and learned[name] or {}
end
local function learn(name, msg)
  if type(msg) ~= "string" then return end
  local key = msg:match("%(([%a_][%w_]*): ")
  if not key then return end
  local set = learned_set[name] or {}
  learned_set[name] = set
  if set[key] then return end
  set[key] = true
  learned[name] = learned[name] or {}
  table.insert(learned[name], key)
end

local good = {} -- name -> array of argument lists (self left out) that returned
local function remember(name, plain)
  local list = good[name] or {}
  good[name] = list
  if #list >= 4 then table.remove(list, r.int(#list)) end
  list[#list + 1] = plain
end

local g = gen.new(r, ctx)

-- A small live buffer (or now and then a freed one, or a view).
local function small_buffer()
  if r.chance(0.85) then
    local ok, b = pcall(lnuma.alloc, r.pick { 4096, 8192, 65536 })
    if ok and b then
      keep(b, "lnuma.alloc", 0)
      if r.chance(0.1) then b:free() end
      if r.chance(0.1) then
        local okv, v = pcall(b.view, b, 0, 4096)
        if okv and v then keep(v, "buffer:view", 0) return v end
      end
      return b
    end
  end
  return g.object()
end

-- Changes one to three arguments of a template, an example or a remembered
-- call (or adds one).  With `small` (a costly function), an options table
-- keeps its keys (a missing cost knob would mean its default: a real
-- benchmark): one is changed to a small non-nil value, or one added, or
-- traps are set around them; and no argument is added.
local function mutate_one(args, n, small)
  local i = r.int(math.max(n, 1))
  if not small and r.chance(0.2) then i = n + 1 end -- one more argument
  local a = args[i]
  if type(a) == "table" and getmetatable(a) == nil and (small or r.chance(0.7)) then
    local c = {}
    local keys = {}
    for k, v in next, a do c[k] = v keys[#keys + 1] = k end
    table.sort(keys, function(x, y) return tostring(x) < tostring(y) end)
    local x = small and r.pick { 1, 1, 2, 3, 3, 4, 4, 4 } or r.int(4)
    if x == 1 and #keys > 0 then
      local v = r.chance(0.5) and g.edge(small) or g.value(1, small)
      if v == nil and small then v = -1 end
      c[r.pick(keys)] = v
    elseif x == 2 then
      c[r.pick(ctx.words)] = g.value(1, small)
    elseif x == 3 then
      g.trap(c, small)
    else
      c = g.trap({}, small)
      for k, v in next, a do rawset(c, k, v) end
    end
    args[i] = c
  else
    local v
    if math.type(a) == "integer" and not small and r.chance(0.3) then
      v = r.pick { math.maxinteger, math.mininteger, -a, a + (1 << 32), a - 1, a + 1, a << 31 }
    elseif r.chance(0.5) then
      v = g.edge(small)
    else
      v = g.value(0, small)
    end
    if v == nil and small then v = -1 end
    args[i] = v
  end
  return math.max(n, i)
end

local function mutate(args, n, small)
  n = mutate_one(args, n, small)
  if r.chance(0.35) then n = mutate_one(args, n, small) end
  if r.chance(0.15) then n = mutate_one(args, n, small) end
  return n
end

local function choose()
  local f, self
  local pool = ctx.objects.list
  if #pool > 0 and r.chance(0.45) then
    -- A kind first (so one kind does not crowd the others out), then
    -- mostly a live object of it: traps and free() leave many freed ones.
    local by_kind, kinds = {}, {}
    for _, o in ipairs(pool) do
      local k = kind_of[getmetatable(o)] or "?"
      if not by_kind[k] then by_kind[k] = {} kinds[#kinds + 1] = k end
      table.insert(by_kind[k], o)
    end
    table.sort(kinds)
    local same = by_kind[r.pick(kinds)]
    self = same[r.int(#same)]
    for _ = 1, 4 do
      if not freed(self) or r.chance(0.25) then break end
      self = same[r.int(#same)]
    end
    local mt = getmetatable(self)
    local list = type(mt) == "table" and methods_of[mt]
    if not list or #list == 0 then return choose() end
    f = list[r.int(#list)]
  else
    -- C functions (the bindings, where memory is at stake) three times as
    -- often as Lua ones, and costly functions less often (a fifth for Lua
    -- ones, which build on the bindings and are the slow part).
    repeat f = funcs[r.int(#funcs)] until r.chance(f.weight)
  end
  local args, n = {}
  local remembered = good[f.name]
  if f.template then
    args = f.template(r, g, small_buffer, ctx)
    n = #args
    if r.chance(0.5) then n = mutate(args, n, true) end
  elseif f.examples and #f.examples > 0 and r.chance(0.35) then
    local base = r.pick(f.examples)
    for i = 1, base.n do
      local v = base[i]
      if type(v) == "table" then
        v = {}
        for k, x in pairs(base[i]) do v[k] = x end
      end
      args[i] = v
    end
    n = base.n
    if r.chance(0.6) then n = mutate(args, n, false) end
  elseif remembered and r.chance(0.5) then
    local base = r.pick(remembered)
    args = table.move(base, 1, base.n, 1, {})
    n = mutate(args, base.n, f.small)
  else
    n = r.pick { 0, 1, 1, 2, 2, 2, 3, 4 }
    for i = 1, n do
      if r.chance(0.3) then
        args[i] = g.options(f.name, 0, f.small)
        if r.chance(0.2) then g.trap(args[i], f.small) end
      else
        args[i] = g.value(0, f.small)
      end
    end
    if f.small and args[1] == nil then args[1] = g.options(f.name, 0, true) n = math.max(n, 1) end
  end
  -- The arguments without self, as a later call may replay them.
  local plain = table.move(args, 1, n, 1, { n = n })
  if f.method then
    if r.chance(0.85) then table.insert(args, 1, self) else table.insert(args, 1, g.value(1)) end
    n = n + 1
  end
  return f, args, n, plain
end

-- ---- known findings ------------------------------------------------------------------------

local function strings_of(args, n)
  local set = {}
  local function scan(v, depth)
    if type(v) == "string" then set[v] = true
    elseif type(v) == "table" and depth < 2 then
      for k, x in next, v do scan(k, depth + 1) scan(x, depth + 1) end
    end
  end
  for i = 1, n do scan(args[i], 0) end
  return set
end

local skipped = {}
local function known_match(f, args, n)
  if #known == 0 then return nil end
  local call = { name = f.name, args = args, n = n, strings = strings_of(args, n),
                 trapped = ctx.trapped }
  for _, k in ipairs(known) do
    if k.match(call) then return k end
  end
end

-- ---- the run -------------------------------------------------------------------------------

local log = assert(io.open(opts.log, "w"))
local ROTATE = 50000
local function describe_call(f, args, n)
  local parts = {}
  for i = 1, n do parts[i] = gen.describe(args[i], names) end
  return f.name .. "(" .. table.concat(parts, ", ") .. ")"
end

local nex = 0
for _ in pairs(found.calls) do nex = nex + 1 end
for _ in pairs(found.methods) do nex = nex + 1 end
print(("fuzz: seed %d, %d calls, %d functions (%d costly without a template: %s), "
       .. "examples for %d names"):format(opts.seed, opts.calls, #funcs, #unlisted,
       table.concat(unlisted, " "), nex))
io.stdout:flush()

-- What a call may spend: Lua instructions (a __len of 2^60 makes a loop
-- over an array endless, by the script's own choice) and wall time (traps
-- that collect in such a loop).  Once spent, the hook raises at every
-- instruction, so a pcall inside the call cannot carry on.
local HOOK_STEP, HOOK_STEPS, CALL_NS = 10000, 2000, 3000000000
local MAIN = debug.getinfo(1, "f").func
local call_steps, call_deadline = 0, 0
local function budget()
  local info = debug.getinfo(2, "f")
  if info and info.func == MAIN then debug.sethook() return end -- the call is over
  call_steps = call_steps + 1
  if call_steps < HOOK_STEPS and now() < call_deadline then return end
  debug.sethook(budget, "", 1)
  error("fuzz: budget of one call exceeded", 2)
end
local function arm(co)
  call_steps, call_deadline = 0, now() + CALL_NS
  if co then debug.sethook(co, budget, "", HOOK_STEP) else debug.sethook(budget, "", HOOK_STEP) end
end

local spent, ncalls = {}, {}
local profile = os.getenv("FUZZ_PROFILE")
local slow, t_start, done_calls, nskipped = {}, now(), 0, 0
local deadline = opts.seconds > 0 and t_start + opts.seconds * 1000000000 or nil
for i = 1, opts.calls do
  if deadline and i % 64 == 0 and now() > deadline then break end
  if i % ROTATE == 0 then
    log:close()
    os.rename(opts.log, opts.log .. ".prev")
    log = assert(io.open(opts.log, "w"))
  end
  ctx.trapped = {}
  ctx.depth = 0
  ctx.collects, ctx.reentries = 0, 0
  -- Buffers left to the collector hold memory it does not count: collect
  -- now and then, or garbage buffers pile up (see fuzz-findings: R1).
  if i % 200 == 0 then collectgarbage("collect") end
  local f, args, n, plain = choose()
  local k = known_match(f, args, n)
  if k then
    skipped[k.id] = (skipped[k.id] or 0) + 1
    nskipped = nskipped + 1
  else
    local in_co = r.chance(0.05)
    -- What traps free first: the objects this call works on.
    local cur = {}
    for j = 1, n do
      local a = args[j]
      if names[a] and names[a]:sub(1, 1) == "<" then cur[#cur + 1] = a
      elseif type(a) == "table" then
        for _, x in next, a do
          if names[x] and names[x]:sub(1, 1) == "<" then cur[#cur + 1] = x end
        end
      end
    end
    ctx.current = cur
    log:write(i, in_co and "\tco " or "\t", describe_call(f, args, n), "\n")
    log:flush()
    local t0 = now()
    local res
    if in_co then
      local co = coroutine.create(f.fn)
      arm(co)
      res = table.pack(coroutine.resume(co, table.unpack(args, 1, n)))
      for _ = 1, 3 do
        if coroutine.status(co) ~= "suspended" then break end
        if r.chance(0.2) then coroutine.close(co) break end
        res = table.pack(coroutine.resume(co, g.value(1, f.small)))
      end
    else
      arm()
      res = table.pack(pcall(f.fn, table.unpack(args, 1, n)))
      debug.sethook()
    end
    local dt = now() - t0
    spent[f.name] = (spent[f.name] or 0) + dt
    ncalls[f.name] = (ncalls[f.name] or 0) + (res[1] and 1 or 0) * 1000000 + 1
    if dt > 1000000000 then slow[#slow + 1] = ("%d %.1fs %s"):format(i, dt / 1e9, f.name) end
    if res[1] then
      if res[2] ~= nil then remember(f.name, plain) end
      for j = 2, math.min(res.n, 4) do keep(res[j], f.name, 0) end
    else
      learn(f.name, res[2])
    end
    done_calls = done_calls + 1
  end
  if profile and i % 250 == 0 then
    local statm = io.open("/proc/self/statm")
    local pages = statm and statm:read("n") and statm:read("n")
    if statm then statm:close() end
    print(("rss at call %d: %d MiB, Lua heap %d MiB"):format(i, (pages or 0) * 4096 >> 20,
      math.floor(collectgarbage("count") / 1024)))
  end
end
log:write("end\n")
log:close()

local seconds = (now() - t_start) / 1e9
local kn = {}
for id, c in pairs(skipped) do kn[#kn + 1] = id .. ":" .. c end
table.sort(kn)
print(("done seed=%d calls=%d seconds=%.1f rate=%.0f skipped=%d known=%s slow=%d")
  :format(opts.seed, done_calls, seconds, done_calls / seconds, nskipped,
          #kn > 0 and table.concat(kn, ",") or "-", #slow))
for _, s in ipairs(slow) do print("slow call: " .. s) end
if profile then
  local list = {}
  for name, t in pairs(spent) do list[#list + 1] = { name, t } end
  table.sort(list, function(a, b) return a[2] > b[2] end)
  for j = 1, math.min(#list, 20) do
    print(("time: %-40s %.2fs"):format(list[j][1], list[j][2] / 1e9))
  end
  list = {}
  for name, c in pairs(ncalls) do list[#list + 1] = { name, c % 1000000, c // 1000000 } end
  table.sort(list, function(a, b) return a[2] > b[2] end)
  for _, e in ipairs(list) do print(("calls: %-40s %6d, %6d returned"):format(e[1], e[2], e[3])) end
end
