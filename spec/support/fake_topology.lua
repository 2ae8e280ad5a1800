-- A topology-shaped table for plan specs that must not depend on this
-- machine: two packages, one node each (0 and 1), 4 cores x 2 PUs per node
-- (CPU n and n+8 are SMT siblings), and a memory-only node 2 with 512 MiB
-- free.  This process may use CPUs 0-13.
local T = {}
T.__index = T
function T.distance(_, a, b) return a == b and 10 or 21 end
function T:cpus_of(n)
  for _, x in ipairs(self.nodes) do
    if x.os_index == n then return table.move(x.cpus, 1, #x.cpus, 1, {}) end
  end
end

return function()
  local t = setmetatable({ nodes = {}, cpus = {} }, T)
  for n = 0, 1 do
    local node = { os_index = n, cpus = {}, memory = 8 << 30, free = 4 << 30,
                   memory_only = false }
    for c = 0, 3 do
      for pu = 0, 1 do
        local id = n * 4 + c + pu * 8
        node.cpus[#node.cpus + 1] = id
        t.cpus[#t.cpus + 1] = { os_index = id, core = c, package = n, node = n }
      end
    end
    table.sort(node.cpus)
    t.nodes[#t.nodes + 1] = node
  end
  t.nodes[3] = { os_index = 2, cpus = {}, memory = 1 << 30, free = 512 << 20,
                 memory_only = true }
  table.sort(t.cpus, function(a, b) return a.os_index < b.os_index end)
  t.allowed = { cpus = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 }, nodes = { 0, 1, 2 } }
  return t
end
