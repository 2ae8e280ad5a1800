--- Memory placement: buffers on chosen nodes with verified placement, huge
-- pages, node-local arenas and pools, the calling thread's memory policy, and
-- the kernel's per-node counters.  Everything here is also in `lnuma`.
--
-- Buffers are `lnuma.Buffer` userdata: `buf:size()` / `#buf`,
-- `buf:placement([{pages = true}])`, `buf:migrate(nodes)`, `buf:policy()`,
-- `buf:info()`, `buf:get(kind, i)` / `buf:set(kind, i, v)` (kind one of u8 u16
-- u32 u64 i8 i16 i32 i64 f32 f64, i a 0-based element index),
-- `buf:fill(byte [, off [, len]])`, `buf:copy(src [, dst_off [, src_off [, len]]])`,
-- `buf:read([off [, len]])`, `buf:write(off, str)`, `buf:view([off [, len]])`,
-- `buf:address()`, `buf:free()`; they work with `<close>`.
--
-- `buf:placement([opts])` (also of views, arenas and pools) reads back from
-- the kernel where the pages are and what backs them:
-- `{page_size, pages, absent, bytes, by_node = {[node] = pages},
-- pages_by_size = {{page_size, pages, bytes}, ...}, huge_bytes, huge_fraction,
-- huge_method, huge_scope}`.  `page_size` is the size the nodes were counted
-- in (the buffer's base page, 2M/1G for hugetlb); `pages_by_size` lists the
-- page sizes that actually back the present bytes (sorted, only sizes with
-- pages), `huge_bytes` those on pages larger than the base page and
-- `huge_fraction` their share of the present bytes.  `huge_method` says how
-- they were read: `"kpageflags"` (page frame flags, root: exact, every folio
-- size), `"pagemap_scan"` (Linux 6.7, any user: exact for PMD-mapped THP and
-- hugetlb) or `"smaps"` (totals of the whole mapping, `huge_scope =
-- "mapping"`; otherwise `"range"`).  opts: `pages = true` adds `page_nodes`
-- (the node of each page, -1 when absent); `huge_method` picks the method
-- (`"auto"` by default; a method this process may not use returns nil,
-- message, errno).  When no method works, `huge_error` says why.
-- @module lnuma.memory

local core = require "lnuma.core"

local memory = {}

--- Allocates a buffer: an anonymous mapping with a memory policy applied
-- before the first touch, populated (every page faulted in, on the right
-- node) before it returns.
-- @function alloc
-- @tparam integer|string size bytes, or a string such as `"64M"`
-- @tparam[opt] table opts `node` or `nodes` (a set), `policy` (`"local"`,
--   `"bind"`, `"preferred"`, `"preferred_many"`, `"interleave"`,
--   `"weighted_interleave"`, `"weighted"`; `node`/`nodes` alone mean
--   `"bind"`), `weights` (`{[node] = weight, ...}`: the buffer's own weights,
--   policy `"weighted"`, see `lnuma.weights`), `huge`
--   (`false`/`"none"`, `true`/`"thp"`, `"2M"`, `"1G"`: see `lnuma.options`),
--   `populate` (default true), `lock`
--   (mlock), `touch_cpu` (populate from a thread pinned to that CPU).
-- @treturn[1] lnuma.Buffer the buffer
-- @return[2] nil when the environment says no (no huge pages reserved, node
--   full, policy unknown to this kernel)
-- @treturn[2] string message (how to reserve huge pages, which kernel is needed)
-- @treturn[2] integer errno
memory.alloc = core.alloc

--- Creates a node-local bump arena: `arena:alloc(n [, align])` returns the
-- byte offset of n fresh bytes (an integer: no Lua allocation per call; nil,
-- message, errno when full), read and written with `arena:get(kind, off)`,
-- `arena:set(kind, off, v)` and `arena:view(off [, len])` (a buffer view);
-- `arena:alloc_buffer(n [, align])` returns a view at once.  Also
-- `arena:reset()`, `arena:used()`, `arena:capacity()`, `arena:available()`,
-- `arena:placement()`, `arena:free()`.  Views from an arena keep it alive and
-- error once it is freed; get/set reach only the bytes handed out since the
-- last reset.
-- @function arena
-- @tparam table opts `size` (required) and the options of `alloc` except `populate`
-- @treturn lnuma.Arena|nil the arena, or nil, message, errno
memory.arena = core.arena

--- Creates a pool of fixed-size objects on a node: `pool:get()` returns an
-- object (a buffer view of its slot; nil when none is left), `pool:put(obj)`
-- gives it back (also `obj:free()` or `<close>`), `pool:available()`,
-- `pool:count()`, `pool:object_size()`, `pool:stride()`, `pool:placement()`,
-- `pool:free()`.  get and put make no system call and, once every object has
-- been handed out once, allocate nothing.  A double put, or an object of
-- another pool, raises an error.
-- @function pool
-- @tparam table opts `size` (object bytes), `count`, optional `align` and
--   the options of `alloc` except `populate`
-- @treturn lnuma.Pool|nil the pool, or nil, message, errno
memory.pool = core.pool

--- Sets the calling thread's memory policy (`set_mempolicy`).
-- @function set_policy
-- @tparam table opts `policy` and `nodes` (or `node`), as for `alloc`
-- @treturn[1] true
-- @return[2] nil where the kernel refuses (EPERM in containers)
-- @treturn[2] string message
-- @treturn[2] integer errno
memory.set_policy = core.set_policy

--- The transparent huge page settings that decide whether a THP request is
-- given huge pages: `{available, enabled, pmd_enabled, defrag, pmd_size,
-- process_disabled}`.  `enabled` and `defrag` are the selected words of
-- /sys/kernel/mm/transparent_hugepage/{enabled,defrag}; `pmd_enabled` the
-- mode of PMD-size pages (the per-size setting of Linux 6.8+, "inherit"
-- resolved); `pmd_size` bytes (2 MiB on x86-64); `process_disabled` true when
-- THP is off for this process (`lnuma.set_thp(false)` or a parent's prctl).
-- @function thp
-- @treturn table
memory.thp = core.thp

--- Turns transparent huge pages off (`false`) or back on (`true`) for this
-- process and the children it starts (prctl `PR_SET_THP_DISABLE`): pages
-- faulted in later are base pages even where `huge = "thp"` asks for THP;
-- pages already backed stay as they are.  For runs that compare THP with
-- base pages for the whole process (heap included).
-- @function set_thp
-- @tparam boolean enabled
-- @treturn[1] boolean true
-- @return[2] nil, message, errno where the kernel refuses
memory.set_thp = core.set_thp

--- The calling thread's memory policy.
-- @function get_policy
-- @treturn table `{policy = "default", nodes = {}}`
memory.get_policy = core.get_policy

--- One node's memory: `{node, total, free, used, units = "bytes",
-- huge = {["2M"] = {page_size, total, free, surplus}, ["1G"] = {...}}}`
-- (huge page counts are pages).
-- @function meminfo
-- @tparam integer node
-- @treturn table
memory.meminfo = core.meminfo

local MiB = 1024 * 1024

--- The kernel's NUMA counters.
-- `lnuma.numastat()` gives the counters of every node from
-- /sys/devices/system/node/nodeN/numastat, in pages:
-- `{units = "pages", by_node = {[0] = {numa_hit, numa_miss, numa_foreign,
-- interleave_hit, local_node, other_node}, ...}}`.
-- `lnuma.numastat{pid = p}` gives a process's memory per node, sorted as
-- `numastat -p` sorts it: `{pid, units = "bytes", by_node = {[0] = {huge,
-- heap, stack, private, total}}, total = {...}, mb = {[0] = MB}}` (`mb` holds
-- the per-node totals in MiB, the figures `numastat -p` prints).
-- @tparam[opt] table opts `pid` (0 or absent: this process's counters as above)
-- @treturn[1] table
-- @return[2] nil, message, errno (no such process: ESRCH)
function memory.numastat(opts)
  local by_node, msg, code = core.numastat(opts)
  if not by_node then return nil, msg, code end
  if opts == nil or opts.pid == nil then
    return {units = "pages", by_node = by_node}
  end
  local total = {huge = 0, heap = 0, stack = 0, private = 0, total = 0}
  local mb = {}
  for node, use in pairs(by_node) do
    for k, v in pairs(use) do total[k] = total[k] + v end
    mb[node] = use.total / MiB
  end
  return {pid = opts.pid, units = "bytes", by_node = by_node, total = total, mb = mb}
end

return memory
