-- What the kernel and numactl say about this machine, read independently of
-- lnuma, for specs that cross-check lnuma against them.
-- Use: local sysfs = dofile("spec/support/sysfs.lua")
local sysfs = {}

local NODE = "/sys/devices/system/node"

local function read(path)
  local f = io.open(path)
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end
sysfs.read = read

--- Parses a kernel list "0-3,8" into a sorted array (independent of lnuma).
function sysfs.parse_list(text)
  local out = {}
  text = (text or ""):gsub("%s", "")
  for item in text:gmatch("[^,]+") do
    local a, b = item:match("^(%d+)%-(%d+)$")
    if a then
      for i = tonumber(a), tonumber(b) do out[#out + 1] = i end
    else
      out[#out + 1] = assert(tonumber(item), "bad list item " .. item)
    end
  end
  table.sort(out)
  return out
end

--- The online nodes, ascending ({0} on a kernel without NUMA).
function sysfs.nodes()
  local s = read(NODE .. "/online")
  if not s then return { 0 } end
  return sysfs.parse_list(s)
end

--- The CPUs of node n.
function sysfs.node_cpus(n)
  return sysfs.parse_list(read(("%s/node%d/cpulist"):format(NODE, n)))
end

--- MemTotal and MemFree of node n, in bytes.
function sysfs.node_meminfo(n)
  local s = read(("%s/node%d/meminfo"):format(NODE, n)) or ""
  local total = s:match("MemTotal:%s*(%d+) kB")
  local free = s:match("MemFree:%s*(%d+) kB")
  return total and tonumber(total) * 1024, free and tonumber(free) * 1024
end

--- The distance row of node n (to every online node, in order).
function sysfs.node_distances(n)
  local s = read(("%s/node%d/distance"):format(NODE, n))
  local out = {}
  for v in (s or ""):gmatch("%d+") do out[#out + 1] = tonumber(v) end
  return out
end

--- The online CPUs.
function sysfs.cpus()
  return sysfs.parse_list(read("/sys/devices/system/cpu/online"))
end

--- A field of /proc/self/status (e.g. "Mems_allowed_list").
function sysfs.status(field)
  local s = read("/proc/self/status") or ""
  return s:match(field .. ":%s*([^\n]*)")
end

--- `numactl --hardware`, parsed: {nodes = {...}, cpus = {[n] = array},
-- size_mb = {[n] = MB}, distances = {[n] = row}}, or nil when numactl is
-- missing or cannot run here.
function sysfs.numactl()
  local p = io.popen("numactl --hardware 2>/dev/null")
  if not p then return nil end
  local text = p:read("a")
  p:close()
  if not text:match("available:") then return nil end
  local hw = { nodes = {}, cpus = {}, size_mb = {}, distances = {} }
  local ids = text:match("available: %d+ nodes %(([^)]*)%)")
  hw.nodes = sysfs.parse_list(ids)
  for n, list in text:gmatch("node (%d+) cpus:([^\n]*)") do
    local cpus = {}
    for c in list:gmatch("%d+") do cpus[#cpus + 1] = tonumber(c) end
    hw.cpus[tonumber(n)] = cpus
  end
  for n, mb in text:gmatch("node (%d+) size: (%d+) MB") do
    hw.size_mb[tonumber(n)] = tonumber(mb)
  end
  local dist = text:match("node distances:\n[^\n]*\n(.*)$") or ""
  for n, row in dist:gmatch("%s*(%d+):([^\n]*)") do
    local r = {}
    for v in row:gmatch("%d+") do r[#r + 1] = tonumber(v) end
    hw.distances[tonumber(n)] = r
  end
  return hw
end

--- Runs a shell command; returns its output (stdout and stderr) and exit code.
function sysfs.run(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local _, _, code = p:close()
  return out, code
end

--- A shell command that runs Lua code with this checkout's lnuma (the
-- build folder from LNUMA_BUILD, as make sanitize switches it).
function sysfs.lua_command(code)
  local build = os.getenv("LNUMA_BUILD") or "build"
  return ("env LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='%s/?.so;;' %s -e %q"):format(
    build, os.getenv("LUA") or "lua5.4", code)
end

return sysfs
