-- The example engine's placement plan (examples/host/engine.c).
-- feed and strategy run on two CPUs of the node nearest the network card
-- (node 0 when there is no eth0), and their memory lives on that node.  It
-- stays valid on a small machine: CPUs are taken from those this process may
-- use, on distinct cores where there are enough, shared where there are not.
local feed_node = topology:node_of_device("eth0") or 0

local allowed, core_of = {}, {}
for _, cpu in ipairs(topology.allowed.cpus) do allowed[cpu] = true end
for _, pu in ipairs(topology.cpus) do core_of[pu.os_index] = pu.core end

-- The node's allowed CPUs, first CPU of each core first, SMT siblings after.
local firsts, siblings, seen_core = {}, {}, {}
for _, cpu in ipairs(topology:cpus_of(feed_node)) do
  if allowed[cpu] then
    local core = core_of[cpu] or cpu
    if seen_core[core] then
      siblings[#siblings + 1] = cpu
    else
      seen_core[core] = true
      firsts[#firsts + 1] = cpu
    end
  end
end
local cpus = firsts
for _, cpu in ipairs(siblings) do cpus[#cpus + 1] = cpu end
assert(#cpus > 0, "node " .. feed_node .. " has no CPU this process may use")

-- Leave the node's first CPU to the kernel and housekeeping when we can.
local feed_cpu = cpus[2] or cpus[1]
local strategy_cpu = cpus[3] or cpus[1]

return {
  threads = {
    { name = "feed",     cpus = feed_cpu,     uses = { "ring", "orders" } },
    { name = "strategy", cpus = strategy_cpu, uses = { "book", "ring", "orders" } },
  },
  memory = {
    { name = "book", size = "64M", node = feed_node, huge = "thp" },
    { name = "ring", size = "4M",  node = feed_node },
  },
  pools = {
    { name = "orders", node = feed_node, size = 256, count = 100000 },
  },
}
