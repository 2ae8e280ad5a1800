-- Put a buffer on a node, prove where its pages are, and hand out node-local
-- objects from a pool.  Runs on any Linux machine, one node or many:
--   lua5.4 examples/memory.lua
local lnuma = require "lnuma"

local node = 0
local buf <close> = assert(lnuma.alloc("64M", {node = node, huge = "thp"}))
local pl = buf:placement()
print(("%d pages of %d bytes, %d on node %d"):format(pl.pages, pl.page_size,
  pl.by_node[node], node))
print(buf)                            -- size, policy, where the pages are
buf:set("u64", 0, 42)                 -- typed access, 0-based index
assert(buf:get("u64", 0) == 42)

local pool <close> = assert(lnuma.pool{node = node, size = 64, count = 1024})
local order = pool:get()              -- no system call, nothing allocated after warm-up
order:set("f64", 0, 101.25)
pool:put(order)
print(pool)

local big, msg = lnuma.alloc("4M", {huge = "2M"})   -- hugetlbfs pages must be reserved
if not big then print("no 2M pages: " .. msg) else big:free() end
