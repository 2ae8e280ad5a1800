--- lnuma: NUMA topology, placement and memory benchmarks for Lua 5.4.
--
-- `require "lnuma"` returns this table; it writes nothing into `_G`.
-- Nodes and CPUs are OS indexes; sets are arrays or cpulist strings ("0-3,8");
-- sizes are bytes or strings such as "64M"; times are integer nanoseconds.
-- Programming errors raise; failures of the environment return
-- `nil, message, errno`.
-- @module lnuma

local core = require "lnuma.core"

local lnuma = {
  --- The version, "MAJOR.MINOR.PATCH" (the same string as `lnuma_version()` in C).
  _VERSION = core._VERSION,
  --- The C module, for the rare caller who needs a binding the face does not wrap.
  core = core,
}

--- Converts between cpulist strings and arrays.
-- `lnuma.cpulist({0, 1, 2, 8})` gives `"0-2,8"` (the kernel's format);
-- `lnuma.cpulist("0-2,8")` gives `{0, 1, 2, 8}`.
-- @function cpulist
-- @tparam table|string|integer list
-- @treturn string|table the other form
lnuma.cpulist = core.cpulist

--- Parses a size: `lnuma.size("2M")` is 2097152; integers pass through.
-- @function size
-- @tparam integer|string size
-- @treturn integer bytes
lnuma.size = core.size

--- Placement plans: `lnuma.plan.load(path [, opts])` (see `lnuma.plan`).
lnuma.plan = require "lnuma.plan"

--- The kind of an lnuma value, like `io.type`: `"buffer"`, `"freed buffer"`,
-- `"arena"`, `"freed arena"`, `"pool"`, `"freed pool"`, ... or nil for
-- anything that is not an lnuma object (see `lnuma.options`).
-- @function type
-- @param x any value
-- @treturn string|nil
lnuma.type = require("lnuma.options").type

-- Memory placement (lua/lnuma/memory.lua).
local memory = require "lnuma.memory"
lnuma.alloc = memory.alloc
lnuma.arena = memory.arena
lnuma.pool = memory.pool
lnuma.set_policy = memory.set_policy
lnuma.get_policy = memory.get_policy
lnuma.numastat = memory.numastat
lnuma.meminfo = memory.meminfo
lnuma.thp = memory.thp
lnuma.set_thp = memory.set_thp

--- Per-buffer weights (`policy = "weighted"`): the chunk pattern, the
-- page-by-page check of a weighted buffer, the `"0:3,1:1"` notation (see
-- `lnuma.weights`).
lnuma.weights = require "lnuma.weights"

--- Topology of this machine (cached), of an hwloc XML file or of a synthetic
-- description: see `lnuma.topology`.
-- @function topology
lnuma.topology = require("lnuma.topology").topology

--- Pins the calling thread: `lnuma.bind{cpus = "0-3"}` or `lnuma.bind{node = 1}`
-- (to the CPUs of node 1; memory policy is left alone).
-- @function bind
-- @tparam table opts `cpus` (array, cpulist or integer) or `node` (integer)
-- @treturn[1] boolean true
-- @return[2] nil when the kernel refuses (CPUs outside this process's cpuset)
-- @treturn[2] string message
-- @treturn[2] integer errno
-- @raise on unknown options, CPUs or nodes that do not exist, a memory-only node
lnuma.bind = core.bind

--- The calling thread's binding: `{cpus = array, nodes = array, policy = name}`,
-- where `policy` is the memory policy ("default", "bind", "interleave",
-- "preferred", "local", ...) and `nodes` the nodes memory may come from.
-- @function binding
lnuma.binding = core.binding

--- Where the calling thread runs now.
-- @function current
-- @treturn integer cpu
-- @treturn integer node
lnuma.current = core.current

--- Reports: `lnuma.report.json(value [, {indent = true}])`, `lnuma.report.decode(text)`.
lnuma.report = require "lnuma.report"

--- The calibrated nanosecond clock (see `lnuma.clock`).
lnuma.clock = require "lnuma.clock"

--- A log-linear histogram of integer values (usually ns):
-- `lnuma.histogram{lowest = 1, highest = 3600e9, precision = 3, unit = "ns"}`
-- (those are the defaults; see `Histogram` for its methods).  It holds at
-- most `math.maxinteger` values: a `record` or `merge` past that raises and
-- changes nothing.
-- @function histogram
-- @tparam[opt] table opts `lowest` (>= 1) and `highest` (the range tracked
--   exactly), `precision` (significant decimal digits, 1..5), `unit` (a label)
-- @treturn Histogram
-- @raise on unknown options or values out of range, naming the option
lnuma.histogram = core.histogram

-- System facts and capabilities (lua/lnuma/sysinfo.lua).
local sysinfo = require "lnuma.sysinfo"

--- What this machine and kernel can do, read by the C core when lnuma is
-- loaded: `numa`, `nodes`, `thp`, `thp_mode`, `thp_defrag`, `thp_pmd_size`,
-- `hugetlb` (pages reserved per node and size), `hugetlb_2m`, `hugetlb_1g`,
-- `weighted_interleave`, `move_pages`, `avx2`, `avx512`, `best_isa`,
-- `rdtscp`, `invariant_tsc`, `numa_balancing`, `smt`, `hypervisor`,
-- `cgroup` (see `lnuma.sysinfo.has`; `lnuma.sysinfo.has()` reads afresh).
lnuma.has = sysinfo.has()

--- The raw system facts, read afresh (see `lnuma.sysinfo.sysinfo`).
-- @function sysinfo
lnuma.sysinfo = sysinfo.sysinfo

--- Creates a directory and the missing ones above it, like `mkdir -p`.
-- @function mkdir
-- @tparam string path
-- @treturn[1] boolean true
-- @return[2] nil, message, errno
lnuma.mkdir = sysinfo.mkdir

--- The conditions of this process's measurements (what every result records
-- as `provenance`; see `lnuma.provenance`).
-- @function provenance
-- @treturn table
lnuma.provenance = require("lnuma.provenance").get

--- Benchmarks: the harness `lnuma.bench.run(fn, opts)` and
-- `lnuma.bench.compare(a, b)` (see `lnuma.bench`).
lnuma.bench = require "lnuma.bench"

-- The memory benchmarks of lua/lnuma/bench/memory.lua (`latency`,
-- `latency_curve`, `bandwidth`, `matrix`, `loaded_latency`, `c2c`,
-- `migration`, ...) are merged into `lnuma.bench`.
for name, fn in pairs(require "lnuma.bench.memory") do lnuma.bench[name] = fn end

--- Placement experiments: `lnuma.experiment{factors = ..., repetitions = n,
-- seed = s, run = fn}` runs every combination in a randomised interleaved
-- order and returns its statistics (see `lnuma.experiment`).
lnuma.experiment = require "lnuma.experiment"

--- Runs an external program under a memory policy and CPU set and reports
-- what it got: `lnuma.exec{"./walker", "64", node = 1}` (see `lnuma.exec`).
lnuma.exec = require "lnuma.exec"

--- A log-linear histogram (`lnuma.Histogram` userdata, made by
-- `lnuma.histogram`; HdrHistogram's idea).  Every value from `lowest` to
-- `highest` is kept in a bucket no wider than value / 10^precision, so a
-- percentile is within that relative error; values outside the range are
-- counted as underflow / overflow, and the exact min, max, mean and stddev
-- include them.  Recording allocates nothing.  `tostring(h)` gives the count,
-- min, p50, p99, p99.9 and max.
-- @type Histogram

--- Records a value (`count` times).
-- @function Histogram:record
-- @tparam integer value
-- @tparam[opt=1] integer count at least 1
-- @raise when a value is not an integer, a count is below 1, or the count
--   would take the histogram past `math.maxinteger` values (nothing recorded)

--- Records a value corrected for coordinated omission, as HdrHistogram's
-- `recordCorrectedValue`: where a loop meant to take a sample every
-- `expected_interval` was stalled by this one, the samples it missed
-- (`value - expected_interval`, `value - 2 * expected_interval`, ... while
-- at least `expected_interval`) are recorded too, `count` times each.  Costs
-- at most one pass over the buckets, however many values that adds.
-- @function Histogram:record_corrected
-- @tparam integer value
-- @tparam integer expected_interval the loop's period, in the value's unit
--   (0: no correction, as `record`)
-- @tparam[opt=1] integer count at least 1
-- @raise as `record`; when `expected_interval` is negative
-- @usage h:record_corrected(latency_ns, 1000000) -- a sample meant every 1 ms

--- Records the integer elements of a buffer range, in one C loop, as
-- `h:record(buf:get(kind, i))` would one by one: all of them, or on error
-- none.
-- @function Histogram:record_many
-- @tparam Buffer buf
-- @tparam string kind an integer kind, "u8" .. "i64" (u64 elements as their
--   64-bit pattern, as `buf:get` reads them)
-- @tparam[opt=0] integer first the first element
-- @tparam[opt] integer n elements (default: the rest)
-- @raise on a float kind, a range past the end, a misaligned buffer, or a
--   count that would pass `math.maxinteger` values

--- Number of values recorded, out-of-range ones included.
-- @function Histogram:count
-- @treturn integer

--- Number of values recorded below `lowest`.
-- @function Histogram:underflow
-- @treturn integer

--- Number of values recorded above `highest`.
-- @function Histogram:overflow
-- @treturn integer

--- The exact smallest value recorded.
-- @function Histogram:min
-- @treturn integer|nil nil when empty

--- The exact largest value recorded.
-- @function Histogram:max
-- @treturn integer|nil nil when empty

--- The mean of every value recorded (exact up to double rounding).
-- @function Histogram:mean
-- @treturn number|nil nil when empty

--- The population standard deviation of every value recorded.
-- @function Histogram:stddev
-- @treturn number|nil nil when empty

--- The value at a percentile: the highest value of the bucket holding that
-- rank (HdrHistogram's convention: an upper bound within the precision,
-- never above the exact maximum); 0 gives the exact minimum, 100 the exact
-- maximum.
-- @function Histogram:percentile
-- @tparam number p 0..100
-- @treturn integer|nil nil when empty
-- @raise when p is not a number or outside 0..100

--- Several percentiles in one pass.
-- @function Histogram:percentiles
-- @tparam {number,...} ps a non-empty array of percentiles, each 0..100
-- @treturn table `{[p] = value, ...}` (empty when the histogram is empty)
-- @raise as `percentile`, or on an empty array
-- @usage local q = h:percentiles{50, 99, 99.9}; print(q[50], q[99.9])

--- Adds every value of another histogram of the same shape.
-- @function Histogram:merge
-- @tparam Histogram other same `lowest`, `highest` and `precision`
-- @treturn Histogram self
-- @raise when the shapes differ or the sum would pass `math.maxinteger` values

--- Forgets every value (the shape stays).
-- @function Histogram:reset
-- @treturn Histogram self

--- Iterates over the non-empty buckets in ascending order.
-- @function Histogram:buckets
-- @treturn function an iterator giving `lowest, highest, count` per bucket
-- @usage for lo, hi, n in h:buckets() do print(lo, hi, n) end

--- The histogram as a plain table (JSON-ready): `{unit, lowest, highest,
-- precision, count, underflow, overflow, min, max, mean, stddev, percentiles
-- = {{percentile, value}, ...}, buckets = {{lowest, highest, count}, ...}}`;
-- the percentiles are 50, 90, 99, 99.9, 99.99 and 100; min, max, mean and
-- stddev are absent and percentiles empty when the histogram is empty.
-- @function Histogram:export
-- @treturn table

return lnuma
