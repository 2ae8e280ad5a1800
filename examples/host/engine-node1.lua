-- A plan for machines with two or more nodes: feed, strategy and all their
-- memory on node 1 (examples/host/run-vm checks that pages and CPUs are
-- there).  On a machine without a node 1 with CPUs it stops with an error.
local node = 1
local ok, cpus = pcall(function() return topology:cpus_of(node) end)
if not ok or #cpus == 0 then error("this plan needs a node 1 with CPUs", 0) end

return {
  threads = {
    { name = "feed",     cpus = cpus[1],             uses = { "ring", "orders" } },
    { name = "strategy", cpus = cpus[2] or cpus[1],  uses = { "book", "ring", "orders" } },
  },
  memory = {
    { name = "book", size = "8M", node = node },
    { name = "ring", size = "1M", node = node },
  },
  pools = {
    { name = "orders", node = node, size = 64, count = 4096 },
  },
}
