-- What the kernel says, read directly (for specs that cross-check lnuma):
-- /sys node lists, /proc/self/numa_maps, /proc/self/maps and smaps.
local lnuma = require "lnuma"

local sys = {}

function sys.read(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

-- The online nodes, as an array.
function sys.nodes()
  local text = sys.read("/sys/devices/system/node/online") or "0"
  return lnuma.cpulist((text:gsub("%s+$", "")))
end

-- The nodes that have memory (CPU-only nodes have none).
function sys.memory_nodes()
  local text = sys.read("/sys/devices/system/node/has_memory")
  if not text then return sys.nodes() end
  return lnuma.cpulist((text:gsub("%s+$", "")))
end

-- The CPUs of a node (empty for a memory-only node).
function sys.node_cpus(node)
  local text = sys.read(("/sys/devices/system/node/node%d/cpulist"):format(node)) or ""
  return lnuma.cpulist((text:gsub("%s+$", "")))
end

-- The line of /proc/self/numa_maps whose VMA starts at addr, parsed:
-- {by_node = {[n] = pages}, page_kb = n, line = text}, or nil.
function sys.numa_maps(addr)
  local want = ("%x"):format(addr)
  for line in io.lines("/proc/self/numa_maps") do
    if line:match("^(%x+)") == want then
      local by_node = {}
      for n, pages in line:gmatch(" N(%d+)=(%d+)") do by_node[tonumber(n)] = tonumber(pages) end
      return {by_node = by_node, page_kb = tonumber(line:match("kernelpagesize_kB=(%d+)")),
              line = line}
    end
  end
  return nil
end

-- The VMA of /proc/self/maps that contains addr: start, stop (integers).
function sys.vma(addr)
  for line in io.lines("/proc/self/maps") do
    local a, b = line:match("^(%x+)%-(%x+)")
    local start, stop = tonumber(a, 16), tonumber(b, 16)
    if start <= addr and addr < stop then return start, stop end
  end
  return nil
end

-- The fields of /proc/self/smaps for the VMA containing addr, in kB.
function sys.smaps(addr)
  local fields, inside = nil, false
  for line in io.lines("/proc/self/smaps") do
    local a, b = line:match("^(%x+)%-(%x+) ")
    if a then
      if inside then break end
      inside = tonumber(a, 16) <= addr and addr < tonumber(b, 16)
      if inside then fields = {} end
    elseif inside then
      local k, v = line:match("^(%w+):%s+(%d+) kB")
      if k then fields[k] = tonumber(v) end
    end
  end
  return fields
end

-- The THP mode: "always", "madvise" or "never" (nil without THP).
function sys.thp_mode()
  local text = sys.read("/sys/kernel/mm/transparent_hugepage/enabled")
  return text and text:match("%[(%w+)%]")
end

-- Free hugetlb pages of a size in kB (2048, 1048576), machine-wide.
function sys.hugepages_free(kb)
  local text = sys.read(("/sys/kernel/mm/hugepages/hugepages-%dkB/free_hugepages"):format(kb))
  return text and tonumber(text:match("%d+")) or 0
end

-- True when a sanitizer runs the tests (ASan reserves huge virtual ranges).
function sys.sanitized()
  return os.getenv("LNUMA_SANITIZE") == "1"
end

-- ---- for the topology, affinity and CLI specs ----------------------------

--- Parses a kernel list "0-3,8" into a sorted array (independent of lnuma).
function sys.parse_list(text)
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

--- MemTotal and MemFree of node n, in bytes.
function sys.node_meminfo(n)
  local s = sys.read(("/sys/devices/system/node/node%d/meminfo"):format(n)) or ""
  local total = s:match("MemTotal:%s*(%d+) kB")
  local free = s:match("MemFree:%s*(%d+) kB")
  return total and tonumber(total) * 1024, free and tonumber(free) * 1024
end

--- The distance row of node n (to every online node, in order).
function sys.node_distances(n)
  local s = sys.read(("/sys/devices/system/node/node%d/distance"):format(n))
  local out = {}
  for v in (s or ""):gmatch("%d+") do out[#out + 1] = tonumber(v) end
  return out
end

--- The online CPUs.
function sys.cpus()
  return sys.parse_list(sys.read("/sys/devices/system/cpu/online"))
end

--- A field of /proc/self/status (e.g. "Mems_allowed_list").
function sys.status(field)
  local s = sys.read("/proc/self/status") or ""
  return s:match(field .. ":%s*([^\n]*)")
end

--- `numactl --hardware`, parsed: {nodes = {...}, cpus = {[n] = array},
-- size_mb = {[n] = MB}, distances = {[n] = row}}, or nil when numactl is
-- missing or cannot run here.
function sys.numactl()
  local p = io.popen("numactl --hardware 2>/dev/null")
  if not p then return nil end
  local text = p:read("a")
  p:close()
  if not text:match("available:") then return nil end
  local hw = { nodes = {}, cpus = {}, size_mb = {}, distances = {} }
  local ids = text:match("available: %d+ nodes %(([^)]*)%)")
  hw.nodes = sys.parse_list(ids)
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
function sys.run(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local _, _, code = p:close()
  return out, code
end

--- A shell command that runs Lua code with this checkout's lnuma (the
-- build folder from LNUMA_BUILD, as make sanitize switches it).
function sys.lua_command(code)
  local build = os.getenv("LNUMA_BUILD") or "build"
  return ("env LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='%s/?.so;;' %s -e %q"):format(
    build, os.getenv("LUA") or "lua5.4", code)
end

return sys
