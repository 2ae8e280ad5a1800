-- What the memattrs specs (here and in the VMs) compare lstopo's output
-- with: hwloc's integer units and its cpuset notation.
-- hwloc's integers: ns to the nearest ns; GB/s (1e9 B/s) to MiB/s (2^20 B/s).
local function ns(v) return math.floor(v + 0.5) end
local function mib(gbps) return math.floor(gbps * 1e9 / 1048576 + 0.5) end

-- A cpuset as hwloc prints it: 32-bit words, highest first ("0x0000000c").
local function hwloc_cpuset(cpus)
  local words, top = {}, 0
  for _, c in ipairs(cpus) do
    local w = c // 32
    words[w] = (words[w] or 0) | (1 << (c % 32))
    if w > top then top = w end
  end
  local out = {}
  for w = top, 0, -1 do out[#out + 1] = ("0x%08x"):format(words[w] or 0) end
  return table.concat(out, ",")
end

return { ns = ns, mib = mib, hwloc_cpuset = hwloc_cpuset }
