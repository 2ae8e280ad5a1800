--- Memory placement: buffers on chosen nodes with verified placement, huge
-- pages, node-local arenas and pools, the calling thread's memory policy, and
-- the kernel's per-node counters.  Everything here is also in `lnuma`.
--
-- `alloc` returns a `Buffer`, `arena` an `Arena`, `pool` a `Pool`: their
-- methods are listed in the sections of those names below.  Each is freed by
-- `:free()`, by `<close>` or by the garbage collector, whichever comes first.
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
-- @treturn[1] Buffer the buffer
-- @return[2] nil when the environment says no (no huge pages reserved, node
--   full, policy unknown to this kernel)
-- @treturn[2] string message (how to reserve huge pages, which kernel is needed)
-- @treturn[2] integer errno
memory.alloc = core.alloc

--- Creates a node-local bump arena (see `Arena`): one mapping, placed and
-- populated once, from which `arena:alloc` cuts pieces with no system call
-- (their byte offsets; `arena:alloc_buffer` gives buffer views).  Views from
-- an arena keep it alive and error once it is freed.
-- @function arena
-- @tparam table opts `size` (required) and the options of `alloc` except `populate`
-- @treturn Arena|nil the arena, or nil, message, errno
memory.arena = core.arena

--- Creates a pool of fixed-size objects on a node (see `Pool`): `pool:get()`
-- hands out an object (a `Buffer` view of its slot), `pool:put(obj)` (or
-- `obj:free()`, or `<close>`) gives it back.  get and put make no system
-- call and, once every object has been handed out once, allocate nothing.
-- @function pool
-- @tparam table opts `size` (object bytes), `count`, optional `align` and
--   the options of `alloc` except `populate`
-- @treturn Pool|nil the pool, or nil, message, errno
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

--- A buffer (`lnuma.Buffer` userdata): memory made by `alloc`, a view of
-- another buffer (`buf:view`), an allocation of an `Arena` or an object of a
-- `Pool`.  `#buf` is its size; `tostring(buf)` names its size, policy and
-- where its pages are; `local buf <close> = ...` frees it at the end of the
-- block.  Offsets and element indexes are 0-based.  Every method but `free`
-- raises "attempt to use a freed buffer" once the buffer (or the buffer,
-- arena or pool its memory belongs to) was freed, and a pool object raises
-- once it was put back.
-- @type Buffer

--- The size in bytes (also `#buf`).
-- @function Buffer:size
-- @treturn integer bytes

--- The address of the first byte (for logs and for C code that takes one).
-- @function Buffer:address
-- @treturn integer the address

--- Reads element `i` as a number of the given kind (little-endian, native
-- layout; elements are `i * width` bytes from the start, no alignment needed).
-- @function Buffer:get
-- @tparam string kind one of "u8", "u16", "u32", "u64", "i8", "i16", "i32",
--   "i64", "f32", "f64" ("u64" above `math.maxinteger` reads as negative)
-- @tparam integer i the element index, 0 .. `#buf // width - 1`
-- @treturn number an integer for the integer kinds, a float for f32/f64
-- @raise on an unknown kind, an index that is not an integer or out of range

--- Writes `v` as element `i` of the given kind.
-- @function Buffer:set
-- @tparam string kind as for `get`
-- @tparam integer i the element index
-- @tparam number v an integer within the kind's range (a float for f32/f64)
-- @raise on a value of the wrong type or out of range ("value 300 out of
--   range for u8 (0..255)"), and as `get`

--- Fills elements of a kind with one value, or bytes with one byte.
-- `buf:fill(kind, value [, first [, n]])` stores `value` into `n` elements
-- of `kind` from element `first` in one C loop; `buf:fill(byte [, off [,
-- len]])` sets bytes (`memset`; a numeric string such as "7" is a byte).
-- @function Buffer:fill
-- @tparam string|integer kind_or_byte a kind as for `get`, or a byte 0..255
-- @param[opt] ... typed: `value` (as `set` takes it), `first` (default 0),
--   `n` (default: the rest); bytes: `off` (default 0), `len` (default: the
--   rest)
-- @raise on a value out of the kind's range, a range past the end, or (typed)
--   a buffer that does not start at a multiple of the kind's width

--- The exact sum of a range of elements, in one C loop.
-- @function Buffer:sum
-- @tparam string kind as for `get` (u64 elements count as unsigned)
-- @tparam[opt=0] integer first the first element
-- @tparam[opt] integer n elements (default: the rest)
-- @treturn number an integer when the sum fits in one (0 for an empty
--   range), else the nearest float; a float for f32/f64 (summed in blocks of
--   eight partial sums, so the last bits may differ from a sequential loop)
-- @raise on a range past the end, or a buffer that does not start at a
--   multiple of the kind's width

--- The smallest element of a range (NaN elements ignored), in one C loop.
-- @function Buffer:min
-- @tparam string kind as for `get`
-- @tparam[opt=0] integer first the first element
-- @tparam[opt] integer n elements (default: the rest)
-- @treturn number|nil nil for an empty range
-- @raise as `sum`

--- The largest element of a range (NaN elements ignored), in one C loop.
-- @function Buffer:max
-- @tparam string kind as for `get`
-- @tparam[opt=0] integer first the first element
-- @tparam[opt] integer n elements (default: the rest)
-- @treturn number|nil nil for an empty range
-- @raise as `sum`

--- The bytes of a range as a Lua string.
-- @function Buffer:read
-- @tparam[opt=0] integer off the first byte
-- @tparam[opt] integer len bytes (default: the rest of the buffer)
-- @treturn string
-- @raise when the range lies outside the buffer

--- Copies the bytes of a string into the buffer.
-- @function Buffer:write
-- @tparam integer off where the first byte goes
-- @tparam string str the bytes
-- @raise when the string does not fit from `off`

--- Copies from a buffer or a string (`memmove`: source and destination may
-- overlap).
-- @function Buffer:copy
-- @tparam Buffer|string src the source
-- @tparam[opt=0] integer dst_off where the first byte goes
-- @tparam[opt=0] integer src_off the first byte of the source
-- @tparam[opt] integer len bytes (default: the rest of the source)
-- @treturn integer the bytes copied
-- @raise when a range lies outside its buffer

--- A buffer sharing a range of this one's memory (no copy).  The view keeps
-- the memory mapped; it stops working when the buffer it came from is freed
-- (a view of a pool object: when the object is put back).
-- @function Buffer:view
-- @tparam[opt=0] integer off the first byte
-- @tparam[opt] integer len bytes, at least 1 (default: the rest)
-- @treturn Buffer the view
-- @raise when the range is empty or lies outside the buffer

--- Where the pages of this buffer are and what backs them, read back from
-- the kernel (also `arena:placement()` and `pool:placement()` for their whole
-- memory).  The table: `{page_size, pages, absent, bytes, by_node = {[node] =
-- pages}, pages_by_size = {{page_size, pages, bytes}, ...}, huge_bytes,
-- huge_fraction, huge_method, huge_scope}`.  `page_size` is the size the
-- nodes were counted in (the buffer's base page, 2M/1G for hugetlb);
-- `by_node` holds every online node (0 pages included); `absent` counts pages
-- not faulted in; `pages_by_size` lists the page sizes that actually back the
-- present bytes (sorted, only sizes with pages), `huge_bytes` those on pages
-- larger than the base page and `huge_fraction` their share of the present
-- bytes.  `huge_method` says how they were read: `"kpageflags"` (page frame
-- flags, root: exact, every folio size), `"pagemap_scan"` (Linux 6.7, any
-- user: exact for PMD-mapped THP and hugetlb) or `"smaps"` (totals of the
-- whole mapping, `huge_scope = "mapping"`; otherwise `"range"`).  When no
-- method works, `huge_error` says why (and `pages_by_size` and the `huge_`
-- fields are absent).
-- @function Buffer:placement
-- @tparam[opt] table opts `pages = true` adds `page_nodes` (the node of each
--   page, -1 when absent); `huge_method` (`"auto"`, `"kpageflags"`,
--   `"pagemap_scan"`, `"smaps"`) picks the method
-- @treturn[1] table the placement
-- @return[2] nil when the `huge_method` asked cannot be used by this process
--   (kpageflags without root, pagemap_scan before Linux 6.7)
-- @treturn[2] string message
-- @treturn[2] integer errno
-- @raise on unknown options or method names

--- Moves the buffer's pages to other nodes (`move_pages`; page i goes to the
-- i-th node of the set, round-robin).  The buffer's memory policy is left as
-- it was, so pages faulted in later follow the policy, not the move.
-- @function Buffer:migrate
-- @tparam integer|table|string nodes a node, or a set of nodes (array or
--   cpulist string)
-- @treturn[1] table `{pages, moved, already, failed, absent, elapsed_ns,
--   nodes, error}`: pages in the range, moved, already on a node asked,
--   refused by the kernel, not faulted in; the time `move_pages` took (ns);
--   the nodes asked; `error` (the reason of the first refusal) only when some
--   failed
-- @return[2] nil when the kernel refuses the call (EPERM, ENOSYS)
-- @treturn[2] string message
-- @treturn[2] integer errno
-- @raise on an empty set or a node that does not exist

--- The memory policy asked for this buffer and the one the kernel holds for
-- its first page.
-- @function Buffer:policy
-- @treturn table `{policy, nodes, applied, reason, kernel = {policy, nodes},
--   kernel_error}`: `applied` false when the kernel refused the policy
--   (`reason` says why: EPERM in containers, no NUMA); `kernel` is what
--   `get_mempolicy` reads back, or `kernel_error` why it could not be read

--- What was asked and what happened for the whole allocation this buffer
-- belongs to: `{size, mapped, page_size, huge, policy, nodes,
-- policy_applied, policy_note, populate, populate_ns, locked, touch_cpu,
-- address}`, plus this handle's `view` (true for views, arena allocations and
-- pool objects), `offset` (bytes from the start of the allocation) and
-- `length` (its own size).
-- @function Buffer:info
-- @treturn table

--- Frees the memory now (also `<close>` and the garbage collector); a view
-- only lets go of it, a pool object goes back to its pool.  Calling it again
-- does nothing.
-- @function Buffer:free

--- A node-local bump arena (`lnuma.Arena` userdata, made by `arena`): one
-- placed and populated mapping from which `alloc` cuts aligned pieces with no
-- system call.  `tostring(arena)` gives its use and where its pages are;
-- `<close>` frees it.  Every method but `free` raises "attempt to use a freed
-- arena" once it was freed.
-- @type Arena

--- Cuts `n` bytes from the arena and returns their offset (an integer:
-- nothing is allocated in Lua per call); `get`, `set` and `view` reach them.
-- @function Arena:alloc
-- @tparam integer|string n bytes (positive), or a size string such as "4K"
-- @tparam[opt=16] integer align a power of two
-- @treturn[1] integer the byte offset of the piece in the arena
-- @return[2] nil when the arena is full
-- @treturn[2] string message ("arena is full: 64 bytes asked, 16 of 4096 free")
-- @treturn[2] integer ENOMEM
-- @raise on a size that is not positive or an align that is not a power of two

--- Cuts `n` bytes from the arena and returns them as a buffer view.
-- @function Arena:alloc_buffer
-- @tparam integer|string n bytes, as for `alloc`
-- @tparam[opt=16] integer align a power of two
-- @treturn[1] Buffer a view of the piece (it keeps the arena's memory mapped
--   and errors once the arena is freed)
-- @return[2] nil, message, ENOMEM when the arena is full, as `alloc`
-- @raise as `alloc`

--- Reads the element of a kind at a byte offset.
-- @function Arena:get
-- @tparam string kind as for `Buffer:get`
-- @tparam integer off a byte offset; the element must lie within the bytes
--   handed out since the last reset (`used()`)
-- @treturn number
-- @raise on an unknown kind or an offset out of that range

--- Writes a value as the element of a kind at a byte offset.
-- @function Arena:set
-- @tparam string kind as for `Buffer:get`
-- @tparam integer off a byte offset, as for `get`
-- @tparam number v as `Buffer:set` takes it
-- @raise as `get`, and on a value out of the kind's range

--- A buffer view of bytes handed out.
-- @function Arena:view
-- @tparam integer off a byte offset (as `alloc` returned)
-- @tparam[opt] integer len bytes, at least 1 (default: the rest of the bytes
--   handed out)
-- @treturn Buffer the view (it errors once the arena is freed)
-- @raise when the range lies outside the bytes handed out

--- Makes the whole capacity free again.  Earlier pieces are not invalidated:
-- their memory is handed out again by later `alloc` calls.
-- @function Arena:reset

--- Bytes handed out since the arena was made or reset (alignment padding
-- included).
-- @function Arena:used
-- @treturn integer bytes

--- The arena's size in bytes.
-- @function Arena:capacity
-- @treturn integer bytes

--- Bytes not yet handed out (`capacity() - used()`; an aligned `alloc` may
-- fit fewer).
-- @function Arena:available
-- @treturn integer bytes

--- Where the arena's pages are, as `Buffer:placement` (over its whole
-- capacity).
-- @function Arena:placement
-- @tparam[opt] table opts as for `Buffer:placement`
-- @treturn[1] table the placement
-- @return[2] nil, message, errno as for `Buffer:placement`

--- What was asked and what happened for the arena's mapping, as
-- `Buffer:info` (without `view`, `offset`, `length`).
-- @function Arena:info
-- @treturn table

--- Unmaps the arena now (also `<close>` and the garbage collector); its
-- pieces then raise when used.  Calling it again does nothing.
-- @function Arena:free

--- A pool of fixed-size objects on a node (`lnuma.Pool` userdata, made by
-- `pool`).  Objects are `Buffer` views of their slots: the same view is
-- handed out again for the same slot, so get and put allocate nothing after
-- the first round.  `tostring(pool)` gives the free count and where its
-- pages are; `<close>` frees it.  Every method but `free` raises "attempt to
-- use a freed pool" once it was freed.
-- @type Pool

--- Hands out a free object.
-- @function Pool:get
-- @treturn Buffer|nil the object (`object_size()` bytes), or nil when every
--   object is handed out

--- Gives an object back (also `obj:free()` or `<close>` on the object).
-- The object, and every view taken of it, then raises when used.
-- @function Pool:put
-- @tparam Buffer obj an object of this pool
-- @raise "not an object of this pool", "object is already in the pool
--   (double put)"

--- Objects free now.
-- @function Pool:available
-- @treturn integer

--- Objects in the pool.
-- @function Pool:count
-- @treturn integer

--- The object size asked, in bytes.
-- @function Pool:object_size
-- @treturn integer bytes

--- The distance between objects in bytes (the object size rounded up to the
-- alignment).
-- @function Pool:stride
-- @treturn integer bytes

--- Where the pool's pages are, as `Buffer:placement` (over all its memory).
-- @function Pool:placement
-- @tparam[opt] table opts as for `Buffer:placement`
-- @treturn[1] table the placement
-- @return[2] nil, message, errno as for `Buffer:placement`

--- What was asked and what happened for the pool's mapping, as `Buffer:info`
-- (without `view`, `offset`, `length`).
-- @function Pool:info
-- @treturn table

--- Unmaps the pool now (also `<close>` and the garbage collector); its
-- objects then raise when used.  Calling it again does nothing.
-- @function Pool:free

return memory
