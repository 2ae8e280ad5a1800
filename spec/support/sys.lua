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

return sys
