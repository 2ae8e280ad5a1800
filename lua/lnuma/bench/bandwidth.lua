--- Memory bandwidth of STREAM-like kernels on pinned threads (`lnuma.bench.bandwidth`).
-- @module lnuma.bench.bandwidth

local core = require "lnuma.core"
local U = require "lnuma.bench.util"
local O = require "lnuma.options"
local LLC = require "lnuma.llc"

local max = math.max

local M = {}

local BANDWIDTH_KEYS = { kernel = true, size = true, threads = true, cpus = true, node = true,
                         huge = true, isa = true, order = true, repetitions = true,
                         min_time = true, buffer = true }
local WALKS = { "linear", "split", "pages" }
local ORDERS = { "auto", table.unpack(WALKS) }

-- How each kernel's bytes are counted, as STREAM and likwid-bench count
-- them: every array the kernel reads or writes, once per pass.  The reads a
-- normal store causes (write-allocate) move bytes too but are not counted.
local COUNTING = {
  read = "1 array read: bytes = size of a",
  write = "1 array written: bytes = size of a (the write-allocate read is not counted)",
  write_nt = "1 array written with non-temporal stores (no write-allocate): bytes = size of a",
  copy = "a = b: bytes = size of b read + size of a written (write-allocate not counted)",
  copy_nt = "a = b, non-temporal stores: bytes = size of b read + size of a written",
  triad = "a = b + s * c: bytes = size of b and c read + size of a written "
    .. "(write-allocate not counted)",
}

local function bandwidth_params(fname, topo, o)
  local buffer = O.opt_buffer(fname, o)
  local p = {
    kernel = O.opt_choice(fname, o, "kernel", "read", U.KERNELS),
    size = O.opt_size(fname, o, "size",
                    buffer and buffer:size() or U.default_bandwidth_size(topo)),
    isa = O.opt_choice(fname, o, "isa", "auto", U.ISAS),
    order = O.opt_choice(fname, o, "order", "auto", ORDERS),
    huge = O.opt_huge(fname, o),
    repetitions = O.opt_int(fname, o, "repetitions", 5, 1, 100000),
    min_time = O.opt_int(fname, o, "min_time", 50000000, 0),
  }
  if o.node ~= nil then p.node = U.check_node(fname, topo, "node", o.node) end
  local cpus = O.opt_cpus(fname, topo, o, "cpus")
  local threads = O.opt_int(fname, o, "threads", nil, 1, 4096)
  if cpus and threads and threads ~= #cpus then
    O.argerror(fname, "threads", ("%d threads but %d CPUs in cpus"):format(threads, #cpus), 3)
  end
  if not cpus then
    -- CPUs of the memory's node first, then the other allowed ones, round
    -- and round when there are more threads than CPUs.
    local pool = {}
    if p.node then pool = U.allowed_cpus_of(topo, p.node) end
    for _, c in ipairs(topo.allowed.cpus) do
      if not U.contains(pool, c) then pool[#pool + 1] = c end
    end
    cpus = {}
    for i = 1, threads or 1 do cpus[i] = pool[(i - 1) % #pool + 1] end
  end
  p.cpus, p.threads = cpus, #cpus
  if buffer then
    if p.size > buffer:size() then
      O.argerror(fname, "size", ("%d bytes do not fit in the buffer (%d bytes)")
        :format(p.size, buffer:size()), 3)
    end
    p.buffer_nodes = p.node == nil and U.policy_nodes(buffer) or nil
  end
  return p, buffer
end

-- order = "auto": the core runs TRIALS rounds of every walk order in turn
-- (about a quarter of min_time in all) on this buffer and these threads,
-- after the warm-up, and measures the one with the shortest median.  Which
-- walk a memory system streams best depends on the processor, its
-- prefetchers, the number of threads and what else runs, so it is measured
-- rather than assumed, in rounds so that drift and neighbours fall on every
-- order alike; with min_time 0, too short to tell, the vendor table of
-- kernel_info().orders decides.
local TRIALS = 3

-- The trials' GB/s, order -> {round...}, from the core's trial_ns rows.
local function trial_gbps(raw)
  if not raw.trial_ns then return nil end
  local out = {}
  for w, o in ipairs(WALKS) do
    out[o] = {}
    for t, row in ipairs(raw.trial_ns) do out[o][t] = raw.trial_bytes / max(row[w], 1) end
  end
  return out
end

local function measure_bandwidth(r, topo, p, user_buf)
  local buf, amsg, acode = U.buffer_for(p, user_buf)
  if not buf then return nil, amsg, acode end
  local raw, msg, code = core.bench_bandwidth(buf, {
    kernel = p.kernel, isa = p.isa, order = p.order, cpus = p.cpus,
    repetitions = p.repetitions, min_time = p.min_time,
    trials = (p.order == "auto" and p.min_time > 0) and TRIALS or 0,
  })
  if not raw then
    if not user_buf then buf:free() end
    return nil, msg, code
  end
  local rounds = trial_gbps(raw)
  if rounds then
    r.order_trials, r.order_trial_rounds = {}, rounds
    for o, t in pairs(rounds) do r.order_trials[o] = U.stats(t).median end
  end
  -- Bytes over the time from the first thread's start to the last one's end
  -- (the slowest thread's time when they start together); bytes/ns = GB/s.
  local reps, slowest = {}, {}
  for i, times in ipairs(raw.rep_ns) do
    slowest[i] = 0
    for _, t in ipairs(times) do slowest[i] = max(slowest[i], t) end
    reps[i] = raw.bytes / max(raw.span_ns[i], 1)
  end
  r.thread_ns = slowest
  r.cpus_ran = U.check_pinning(r, raw.threads)
  r.repetitions, r.stats = reps, U.stats(reps)
  r.gbps = r.stats.median
  r.isa, r.passes, r.bytes, r.thread_bytes = raw.isa, raw.passes, raw.bytes, raw.thread_bytes
  r.order, r.counting = raw.order, COUNTING[p.kernel]
  -- Memory's figure only beyond the caches the threads share (lnuma.llc).
  r.llc = LLC.of(topo, p.cpus).all
  r.scope = LLC.scope(p.size, r.llc)
  -- Each thread's part of the buffer belongs on the node asked, or on the
  -- thread's own node when none was asked (first touch).
  local parts = {}
  for i, t in ipairs(raw.threads) do
    parts[i] = { offset = (i - 1) * raw.thread_bytes, length = raw.thread_bytes,
                 node = p.node or p.buffer_nodes or U.cpu_node(topo, t.cpu_asked) }
  end
  r.placement = U.placement(r, buf, parts)
  if not user_buf then buf:free() end
  local distinct = {}
  for _, c in ipairs(p.cpus) do distinct[c] = true end
  local n = 0
  for _ in pairs(distinct) do n = n + 1 end
  if n < #p.cpus then
    U.doubt(r, "cpu_shared", "%d threads share %d CPUs: the figure is not what %d CPUs can do",
            #p.cpus, n, #p.cpus)
  end
  return r
end

--- Memory bandwidth of a kernel, STREAM-style: `threads` pinned threads each
-- stream their own part of the buffer, first-touched by themselves; the
-- figure is all bytes over the time from the first thread's start to the
-- last one's end (the slowest thread's time when they start together).
-- @tparam table opts `kernel` ("read" (default), "write", "write_nt",
--   "copy", "copy_nt", "triad"), `size` (bytes of all arrays together;
--   default four times the last-level cache, a power of two, at least 1 GiB),
--   `threads` (default 1) or `cpus` (array or cpulist), `node` (memory node;
--   default: each thread's own), `huge`, `isa` ("auto",
--   "avx512", "avx2", "sse2", "c"), `order` (how the kernel walks its
--   arrays: "linear", front to back as STREAM and likwid-bench do; "split",
--   the four quarters of each array side by side, four long streams; "pages",
--   four 4 KiB pages at a time, four streams that restart every 16 KiB; or
--   "auto" (default): after the warm-up, three rounds of every order in turn
--   (a quarter of `min_time` in all) on this buffer and these threads, and
--   the order with the best median is measured (`order_trials` has each
--   order's median GB/s, `order_trial_rounds` every round's; with `min_time`
--   0, the vendor's usual best, `kernel_info().orders`)), `repetitions` (5),
--   `min_time` (ns per
--   repetition, 50 ms), `buffer` (an `lnuma.alloc` buffer to stream instead of
--   a new one; its placement is then checked against `node`, or the nodes of
--   its policy, or each thread's node; a view that starts off a page is
--   streamed from its first page boundary, so that each array starts on a
--   page, and the bytes before it are not counted)
-- @treturn table result with `gbps` (median, GB/s = 1e9 bytes/s), `stats`,
--   `repetitions`, `bytes` (counted per repetition, as STREAM counts them;
--   `thread_bytes` of them per thread and pass),
--   `counting` (how, in words), `isa`, `order` (the one measured),
--   `order_trials` (order = "auto": each order's median GB/s in the trials),
--   `order_trial_rounds` (their GB/s round by round), `llc` (bytes of
--   last-level cache the threads' CPUs share, nil if unknown), `scope`
--   ("memory": `size` is at least `lnuma.llc.MULTIPLE` times `llc`; "cache":
--   less, so the figure is partly or wholly cache bandwidth; "unknown"),
--   `cpus`, `cpus_ran`,
--   `placement`, `warnings`
-- @return[2] nil when memory or pinning is refused
-- @treturn[2] string message
-- @treturn[2] integer errno
function M.bandwidth(opts)
  local o = O.check_opts("bandwidth", opts, BANDWIDTH_KEYS)
  local topo, msg, code = U.machine()
  if not topo then return nil, msg, code end
  local p, user_buf = bandwidth_params("bandwidth", topo, o)
  local r = U.new_result("bandwidth", p, {
    gbps = "GB/s (1e9 bytes/s)", size = "bytes", llc = "bytes", bytes = "bytes",
    repetitions = "GB/s", min_time = "ns",
  })
  for k, v in pairs(p) do r[k] = v end
  r.parameters.buffer = user_buf and tostring(user_buf) or nil
  local ok, rmsg, rcode = measure_bandwidth(r, topo, p, user_buf)
  if not ok then return nil, rmsg, rcode end
  U.numa_balancing_warning(r, topo)
  return r
end

return M
