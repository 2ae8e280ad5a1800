--- The one reading of every option the Lua face takes, and the one way it
-- writes sizes (issue 14: one fact in one place).
--
-- What a value means is decided once, in the core, and read here through
-- `lnuma.core`: sizes by `core.size` ("64K", "2m", "1G", any case), sets of
-- CPUs or nodes by `core.cpulist` (an array, a cpulist string "0-3,8" or an
-- integer) and page kinds by `core.huge` (`huge`: nil or "default" for the
-- system's setting; false, "none", "no" or "4K" for base pages; true or
-- "thp" for transparent huge pages; "2M" and "1G" for hugetlbfs pages; any
-- case).  `lnuma.alloc`, the benchmarks, plans and the CLI all read their
-- options here, so the same input means the same thing everywhere.
--
-- Errors read as `luaL_argerror` writes them:
-- `bad argument #1 to 'latency' (huge: 'x' is not a page kind (...))`.
-- @module lnuma.options

local core = require "lnuma.core"

local O = {}

local floor = math.floor

-- ---- errors ----------------------------------------------------------------------

--- Raises "bad argument #arg to 'fname' (key: msg)", as `luaL_argerror` words it.
-- @tparam string fname the function the caller called
-- @tparam string|nil key the option (nil: the argument itself)
-- @tparam string msg what is wrong
-- @tparam[opt=1] integer level as for `error` (0: no position), counted from the caller
-- @tparam[opt=1] integer arg the argument's position
function O.argerror(fname, key, msg, level, arg)
  error(("bad argument #%d to '%s' (%s%s)"):format(arg or 1, fname,
        key and (key .. ": ") or "", msg), level == 0 and 0 or (level or 1) + 1)
end
local argerror = O.argerror

--- The message inside an argument error a C function raised, without the
-- "bad argument #1 to 'f' (key: ...)" wrapping.
-- @tparam string msg the error
-- @treturn string
function O.inner(msg)
  msg = tostring(msg)
  local body = msg:match("^.-bad argument #%d+ to '[^']*' %((.*)%)$")
  if not body then return (msg:gsub("^[^:]*:%d+: ", "")) end
  return body:match("^[%w_]+: (.*)$") or body
end
local inner = O.inner

--- Checks that opts is a table (or nil) whose keys are all known.
-- @tparam string fname
-- @tparam table|nil opts
-- @tparam table known set of keys (`{size = true, ...}`)
-- @treturn table opts, or an empty table for nil
function O.check_opts(fname, opts, known)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    argerror(fname, nil, "table expected, got " .. type(opts), 3)
  end
  for k in pairs(opts) do
    if not known[k] then argerror(fname, nil, ("unknown option '%s'"):format(tostring(k)), 3) end
  end
  return opts
end

-- ---- the parsers: the core's, without raising -----------------------------------------

-- A value as a message shows it: strings quoted, scalars as they are, the
-- type of the rest (never calls a metamethod).
local function shown(v)
  if type(v) == "string" then return ("'%s'"):format(#v > 40 and v:sub(1, 40) .. "..." or v) end
  if type(v) == "number" or type(v) == "boolean" or v == nil then return tostring(v) end
  return type(v)
end

--- Reads a size: an integer of bytes or a string such as "64K", "2m", "1G".
-- @param v the value
-- @treturn[1] integer bytes
-- @return[2] nil
-- @treturn[2] string why v is not a size
function O.parse_size(v)
  if type(v) ~= "number" and type(v) ~= "string" then
    return nil, ("a size expected (bytes or a string like \"64M\"), got %s"):format(shown(v))
  end
  local ok, n = pcall(core.size, v)
  if not ok then return nil, inner(n) end
  return n
end

--- Reads a set of CPUs or nodes: an array of integers (its order kept), a
-- cpulist string such as "0-3,8" (ascending) or one integer.
-- @param v the value
-- @treturn[1] table array of integers
-- @return[2] nil
-- @treturn[2] string why v is not a set
function O.parse_set(v)
  local t = type(v)
  if t ~= "table" and t ~= "string" and t ~= "number" then -- the core's words for the rest
    return nil, ("expected an array, a list string such as \"0-3,8\" or an integer, got %s")
      :format(t)
  end
  local ok, set = pcall(function()
    local text = core.cpulist(v) -- checks every element
    if t == "string" then return text end
    if t ~= "table" then return { v } end
    local list = {}
    for i = 1, #v do list[i] = v[i] end
    return list
  end)
  if not ok then return nil, inner(set) end
  return set
end

--- Reads a page kind (`huge`): nil or "default"; false, "none", "no" or "4K";
-- true or "thp"; "2M"; "1G"; strings in any case.
-- @param v the value
-- @treturn[1] string "default", "none", "thp", "2M" or "1G"
-- @return[2] nil
-- @treturn[2] string why v is not a page kind
function O.parse_huge(v)
  if v == nil then return "default" end
  local ok, name = pcall(core.huge, v)
  if not ok then return nil, inner(name) end
  return name
end

-- ---- the checkers of a benchmark's options table ----------------------------------------

--- opts[key] as a positive size, or default when absent.
-- @tparam string fname
-- @tparam table opts
-- @tparam string key
-- @param default
-- @treturn integer bytes
function O.opt_size(fname, opts, key, default)
  local v = opts[key]
  if v == nil then return default end
  local n, msg = O.parse_size(v)
  if not n then argerror(fname, key, msg, 3) end
  if n <= 0 then argerror(fname, key, ("must be positive, got %s"):format(tostring(v)), 3) end
  return n
end

--- opts[key] as an integer in lo..hi, or default when absent.
-- @tparam string fname
-- @tparam table opts
-- @tparam string key
-- @param default
-- @tparam[opt] integer lo
-- @tparam[opt] integer hi
-- @treturn integer
function O.opt_int(fname, opts, key, default, lo, hi)
  local v = opts[key]
  if v == nil then return default end
  if math.type(v) ~= "integer" then
    argerror(fname, key, "integer expected, got " .. (type(v) == "number" and "a fraction"
      or type(v)), 3)
  end
  if (lo and v < lo) or (hi and v > hi) then
    argerror(fname, key, ("must be between %s and %s, got %d")
      :format(lo or "-inf", hi or "inf", v), 3)
  end
  return v
end

--- opts[key] as one of choices, or default when absent.
-- @tparam string fname
-- @tparam table opts
-- @tparam string key
-- @param default
-- @tparam table choices array of the values allowed
-- @return the value
function O.opt_choice(fname, opts, key, default, choices)
  local v = opts[key]
  if v == nil then return default end
  for _, c in ipairs(choices) do
    if v == c then return v end
  end
  argerror(fname, key, ("'%s' is not one of %s"):format(tostring(v),
           table.concat(choices, ", ")), 3)
end

--- opts[key] as a boolean, or default when absent.
-- @tparam string fname
-- @tparam table opts
-- @tparam string key
-- @param default
-- @treturn boolean
function O.opt_bool(fname, opts, key, default)
  local v = opts[key]
  if v == nil then return default end
  if type(v) ~= "boolean" then argerror(fname, key, "boolean expected, got " .. type(v), 3) end
  return v
end

--- opts.huge (or opts[key]) as the benchmarks keep it: nil (the system's
-- setting), false (base pages), "thp", "2M" or "1G".
-- @tparam string fname
-- @tparam table opts
-- @tparam[opt="huge"] string key
-- @treturn nil|false|string
function O.opt_huge(fname, opts, key)
  key = key or "huge"
  local name, msg = O.parse_huge(opts[key])
  if not name then argerror(fname, key, msg, 3) end
  if name == "default" then return nil end
  if name == "none" then return false end
  return name
end

--- opts[key] as a set of CPUs that exist in topo, or nil when absent.
-- @tparam string fname
-- @tparam table topo a topology (`lnuma.topology()`)
-- @tparam table opts
-- @tparam string key
-- @treturn table|nil array of CPUs (an array keeps its order)
function O.opt_cpus(fname, topo, opts, key)
  local v = opts[key]
  if v == nil then return nil end
  local list, msg = O.parse_set(v)
  if not list then argerror(fname, key, msg, 3) end
  if #list == 0 then argerror(fname, key, "no CPUs", 3) end
  local exists = {}
  for _, c in ipairs(topo.cpus) do exists[c.os_index] = true end
  for _, c in ipairs(list) do
    if not exists[c] then
      local all = {}
      for _, x in ipairs(topo.cpus) do all[#all + 1] = x.os_index end
      argerror(fname, key, ("CPU %d does not exist (CPUs %s)"):format(c, core.cpulist(all)), 3)
    end
  end
  return list
end

--- The kind of an lnuma value, like `io.type`: `"buffer"`, `"freed buffer"`,
-- `"arena"`, `"pool"`, ... or nil for anything that is not an lnuma object.
-- @param x any value
-- @treturn string|nil
function O.type(x)
  local mt = getmetatable(x)
  if type(mt) ~= "table" then return nil end
  local kind = rawget(mt, "__lnuma_type")
  if kind ~= nil then return kind(x) end
  local name = rawget(mt, "__name")
  if type(name) == "string" and name:match("^lnuma%.%a+$") then return name:sub(7):lower() end
  return nil
end

--- opts.buffer as an lnuma buffer the caller placed, or nil when absent.
-- @tparam string fname
-- @tparam table opts
-- @treturn userdata|nil
function O.opt_buffer(fname, opts)
  local b = opts.buffer
  if b == nil then return nil end
  local kind = O.type(b)
  if kind ~= "buffer" then
    argerror(fname, "buffer", "lnuma buffer expected, got " .. (kind or type(b)), 3)
  end
  return b
end

-- ---- writing ------------------------------------------------------------------------

--- Formats a byte count the way sizes are written as input: 64 -> "64B",
-- 4096 -> "4K", 1572864 -> "1.5M", 2^30 -> "1G" (binary units).
-- @tparam integer n bytes
-- @treturn string
function O.size_text(n)
  if type(n) ~= "number" then return tostring(n) end
  local units = { "B", "K", "M", "G", "T" }
  local u, v = 1, n
  while v >= 1024 and u < #units do v, u = v / 1024, u + 1 end
  if v == floor(v) then return ("%d%s"):format(floor(v), units[u]) end
  return (("%.1f"):format(v):gsub("%.0$", "")) .. units[u]
end

--- Formats a number for a table cell: integers as they are, others with
-- three significant digits or one decimal, whichever says more.
-- @tparam number|nil v
-- @treturn string
function O.number(v)
  if v == nil or v ~= v then return "-" end
  if type(v) ~= "number" then return tostring(v) end
  if math.type(v) == "integer" then return tostring(v) end
  local a = math.abs(v)
  if a >= 100 then return ("%.0f"):format(v) end
  if a >= 10 then return ("%.1f"):format(v) end
  return ("%.2f"):format(v)
end

--- The page sizes of a placement, largest first: `{{page_size = 4096,
-- pages = 3}, {page_size = 2097152, pages = 512}}` -> "512 x 2M, 3 x 4K".
-- @tparam table list `pages_by_size` of a placement
-- @treturn string
function O.page_sizes(list)
  local out = {}
  for i = #list, 1, -1 do
    out[#out + 1] = ("%d x %s"):format(list[i].pages, O.size_text(list[i].page_size))
  end
  return table.concat(out, ", ")
end

return O
