--- Running an external program under a memory policy and CPU set, as
-- numactl does, and reporting what it really got.
--
-- `lnuma.exec{"./walker", "64M", node = 1}` forks, sets the policy
-- (`set_mempolicy`) and CPU set (`sched_setaffinity`) in the child and
-- execs the program; both survive exec.  While it runs, its
-- `/proc/PID/numa_maps` is sampled (every mapping kept at its largest: they
-- vanish at exit), with the CPUs its threads run on and its THP; `wait4`
-- gives its times, faults and peak RSS.  The result says whether the
-- placement held.  A policy the kernel refuses stops the launch: the
-- program never runs without what was asked.
-- @module lnuma.exec

local core = require "lnuma.core"
local O = require "lnuma.options"
local U = require "lnuma.bench.util"

local M = {}

local FNAME = "exec"
local KNOWN = {
  cmd = true, node = true, nodes = true, policy = true, interleave = true, cpus = true,
  huge = true, stdout = true, stderr = true, capture = true, sample_ns = true,
  timeout_ns = true, mappings = true,
}
local POLICIES = { "bind", "interleave", "preferred", "preferred_many", "weighted_interleave",
                   "local", "default" }
-- Bytes of output kept with capture = true (the last ones).
M.CAPTURE_STDOUT = 1024 * 1024
M.CAPTURE_STDERR = 64 * 1024

local SIGNALS = { [1] = "SIGHUP", [2] = "SIGINT", [3] = "SIGQUIT", [4] = "SIGILL",
                  [6] = "SIGABRT", [7] = "SIGBUS", [8] = "SIGFPE", [9] = "SIGKILL",
                  [11] = "SIGSEGV", [13] = "SIGPIPE", [14] = "SIGALRM", [15] = "SIGTERM" }

-- ---- options ---------------------------------------------------------------------

-- The command: the array part of opts, or opts.cmd (strings; numbers become strings).
local function command(opts)
  local argv = {}
  local src = opts.cmd
  if src ~= nil and opts[1] ~= nil then
    O.argerror(FNAME, "cmd", "give the command as cmd or as the array part, not both", 2)
  end
  if src == nil then src = opts end
  if type(src) ~= "table" then
    O.argerror(FNAME, "cmd", "an array of strings expected, got " .. type(src), 2)
  end
  for i, a in ipairs(src) do
    if type(a) == "number" then a = tostring(a) end
    if type(a) ~= "string" then
      O.argerror(FNAME, "cmd", ("element %d is a %s, not a string"):format(i, type(a)), 2)
    end
    argv[i] = a
  end
  if #argv == 0 or argv[1] == "" then
    O.argerror(FNAME, "cmd", "no program to run (lnuma.exec{\"prog\", \"arg\", node = 0})", 2)
  end
  return argv
end

-- The nodes that can hold memory for this process ("all").
local function memory_nodes(topo)
  local out = {}
  for _, n in ipairs(topo.allowed.nodes) do
    local info = U.node_info(topo, n)
    if info and (info.memory or 0) > 0 then out[#out + 1] = n end
  end
  return out
end

-- A node set option: "all", a cpulist string, an array or one integer.
local function node_set(topo, key, v)
  if v == "all" then return memory_nodes(topo) end
  local list, msg = O.parse_set(v)
  if not list then O.argerror(FNAME, key, msg, 3) end
  if #list == 0 then O.argerror(FNAME, key, "no nodes (name at least one, or \"all\")", 3) end
  local out = {}
  for i, n in ipairs(list) do out[i] = U.check_node(FNAME, topo, key, n) end
  return out
end

-- The memory policy asked: {policy =, nodes =} or nil.
local function placement_asked(topo, opts)
  local given = (opts.node ~= nil and 1 or 0) + (opts.nodes ~= nil and 1 or 0)
    + (opts.interleave ~= nil and 1 or 0)
  if given > 1 then
    O.argerror(FNAME, opts.interleave ~= nil and "interleave" or "nodes",
               "give one of node, nodes and interleave", 2)
  end
  local policy = O.opt_choice(FNAME, opts, "policy", nil, POLICIES)
  if opts.interleave ~= nil then
    if policy and policy ~= "interleave" and policy ~= "weighted_interleave" then
      O.argerror(FNAME, "policy", ("'%s' does not go with interleave"):format(policy), 2)
    end
    return { policy = policy or "interleave", nodes = node_set(topo, "interleave",
                                                               opts.interleave) }
  end
  local nodes
  if opts.node ~= nil then nodes = { U.check_node(FNAME, topo, "node", opts.node) }
  elseif opts.nodes ~= nil then nodes = node_set(topo, "nodes", opts.nodes) end
  if policy == "local" or policy == "default" then
    if nodes then O.argerror(FNAME, "policy", ("'%s' takes no nodes"):format(policy), 2) end
    return { policy = policy, nodes = {} }
  end
  if not nodes then
    if policy then O.argerror(FNAME, "nodes", ("policy '%s' needs nodes"):format(policy), 2) end
    return nil
  end
  return { policy = policy or "bind", nodes = nodes }
end

-- huge: the vocabulary of lnuma.options; a program gets THP or none.
local function opt_huge(opts)
  local name, msg = O.parse_huge(opts.huge)
  if not name then O.argerror(FNAME, "huge", msg, 2) end
  if name == "2M" or name == "1G" then
    O.argerror(FNAME, "huge", ("'%s': hugetlbfs pages are the program's own doing (MAP_HUGETLB, "
               .. "libhugetlbfs); exec gives it \"thp\" or \"none\""):format(name), 2)
  end
  if name == "default" then return nil end
  return name
end

-- ---- the result -----------------------------------------------------------------------

-- {[node] = count} -> {{node =, bytes =, pages =}} in node order; pages are
-- base pages (what experiments and placements elsewhere count).
local function by_node_list(t, scale, base)
  local nodes, out = {}, {}
  for n in pairs(t) do nodes[#nodes + 1] = n end
  table.sort(nodes)
  for _, n in ipairs(nodes) do
    local bytes = t[n] * (scale or 1)
    if bytes > 0 then out[#out + 1] = { node = n, bytes = bytes, pages = bytes // base } end
  end
  return out
end

-- The base page size: the smallest of the mappings' (4096 on x86-64).
local function base_page(mappings)
  local b
  for _, m in ipairs(mappings) do
    if m.page_size > 0 and (not b or m.page_size < b) then b = m.page_size end
  end
  return b or 4096
end

-- Sums the mappings: memory the policy governs (everything but files' page
-- cache) and all of it, per node, in bytes.
local function sum_mappings(mappings)
  local anon, all, kinds = {}, {}, {}
  for _, m in ipairs(mappings) do
    for n, pages in pairs(m.by_node) do
      local b = pages * m.page_size
      all[n] = (all[n] or 0) + b
      if m.kind ~= "file" then anon[n] = (anon[n] or 0) + b end
      kinds[m.kind] = (kinds[m.kind] or 0) + b
    end
  end
  return anon, all, kinds
end

local function largest_mappings(mappings, count, base)
  local list = {}
  for _, m in ipairs(mappings) do
    if m.pages > 0 then list[#list + 1] = m end
  end
  table.sort(list, function(a, b)
    return a.pages * a.page_size > b.pages * b.page_size
  end)
  local out = {}
  for i = 1, math.min(count, #list) do
    local m = list[i]
    out[i] = { address = ("0x%x"):format(m.start), kind = m.kind, policy = m.policy,
               path = m.path, bytes = m.pages * m.page_size, page_size = m.page_size,
               by_node = by_node_list(m.by_node, m.page_size, base) }
  end
  return out
end

local function total(list)
  local s = 0
  for _, e in ipairs(list) do s = s + e.bytes end
  return s
end

local size = O.size_text

local function shown_nodes(list)
  local parts = {}
  for _, e in ipairs(list) do
    parts[#parts + 1] = ("node %d: %s"):format(e.node, size(e.bytes))
  end
  return table.concat(parts, ", ")
end

-- Whether the pages the policy governs are where it was asked.
local function check_placement(r, asked, facts)
  local p = r.placement
  if facts.samples == 0 then
    p.held = nil
    U.warn(r, "the program ended before the first sample of /proc/%d/numa_maps (after 1 ms): "
           .. "where its pages were is unknown", facts.pid)
    return
  end
  if not asked or asked.policy == "default" or asked.policy == "local" then return end
  local want, on, all = {}, 0, 0
  for _, n in ipairs(asked.nodes) do want[n] = true end
  for _, e in ipairs(p.pages_by_node) do
    all = all + e.bytes
    if want[e.node] then on = on + e.bytes end
  end
  p.fraction = all > 0 and on / all or nil
  p.held = all == 0 or on == all
  if not p.held then
    U.warn(r, "placement did not hold: %.1f%% of the program's memory (%s of %s) was on %s "
           .. "(%s)%s", on / all * 100, size(on), size(all),
           (#asked.nodes == 1 and "node " or "nodes ") .. core.cpulist(asked.nodes),
           shown_nodes(p.pages_by_node),
           asked.policy:match("^preferred") and "; a preferred node that is full spills"
             or "")
  end
  if asked.policy:match("interleave$") and #asked.nodes > 1 and all >= #asked.nodes * 4 << 20 then
    local seen = {}
    for _, e in ipairs(p.pages_by_node) do seen[e.node] = e.bytes end
    for _, n in ipairs(asked.nodes) do
      if not seen[n] then
        U.warn(r, "interleaved over nodes %s, but node %d got none of %s",
               core.cpulist(asked.nodes), n, size(all))
      end
    end
  end
end

local function check_cpus(r, cpus, facts)
  if not cpus or #facts.cpus_ran == 0 then return end
  local want = {}
  for _, c in ipairs(cpus) do want[c] = true end
  local off = {}
  for _, c in ipairs(facts.cpus_ran) do
    if not want[c] then off[#off + 1] = c end
  end
  r.cpus_held = #off == 0
  if #off > 0 then
    U.warn(r, "the program was seen on CPUs %s, outside the CPUs asked (%s)",
           core.cpulist(off), core.cpulist(cpus))
  end
end

local function check_huge(r, huge, facts)
  local t = core.thp()
  r.huge = { asked = huge or "default", method = facts.huge_note,
             anon_huge_bytes = facts.anon_huge_max,
             thp_mode = t.available and t.enabled or "unavailable" }
  if facts.anon_huge_max == nil then
    r.huge.verified = nil
    if huge then U.warn(r, "AnonHugePages of /proc/%d/smaps_rollup could not be read: the "
                        .. "THP the program got is unknown", facts.pid) end
    return
  end
  if huge == "thp" then
    r.huge.verified = facts.anon_huge_max > 0
    if not r.huge.verified and facts.samples > 0 then
      U.warn(r, "asked for THP, but no sample saw AnonHugePages (THP mode %s, defrag %s; a "
             .. "static program or another allocator ignores glibc's tunable)",
             r.huge.thp_mode, t.defrag or "?")
    end
  elseif huge == "none" then
    r.huge.verified = facts.anon_huge_max == 0
    if not r.huge.verified then
      U.warn(r, "asked for no THP, but %s of AnonHugePages was seen",
             size(facts.anon_huge_max))
    end
  end
end

local function exit_info(facts)
  local e = { code = facts.exit_code, core_dumped = facts.core_dumped,
              timed_out = facts.timed_out }
  if facts.signal then
    e.signal = SIGNALS[facts.signal] or ("signal " .. facts.signal)
    e.signal_number = facts.signal
  end
  return e
end

-- The result table of one run.
local function make_result(argv, asked, cpus, huge, opts, facts)
  local r = U.new_result("exec", {
    command = argv, policy = asked and asked.policy or "default",
    nodes = asked and asked.nodes or nil, cpus = cpus, huge = huge or "default",
    sample_ns = opts.sample_ns, timeout_ns = opts.timeout_ns,
  }, { time = "ns", memory = "bytes" })
  r.clock = { source = "CLOCK_MONOTONIC_RAW", measures = "fork to wait4",
              rusage = "wait4 (microseconds)",
              overhead_ns = facts.samples > 0 and facts.sampling_ns // facts.samples or 0 }
  r.command = argv
  r.exit = exit_info(facts)
  r.ok = facts.exit_code == 0 and not facts.signal
  r.wall_ns, r.user_ns, r.system_ns = facts.wall_ns, facts.user_ns, facts.system_ns
  r.minor_faults, r.major_faults = facts.minor_faults, facts.major_faults
  r.max_rss_bytes = facts.max_rss_bytes
  r.context_switches = { voluntary = facts.voluntary_switches,
                         involuntary = facts.involuntary_switches }
  r.cpus_allowed, r.cpus_ran, r.threads_max = facts.cpus_allowed, facts.cpus_ran,
                                               facts.threads_max
  local anon, all, kinds = sum_mappings(facts.mappings)
  local base = base_page(facts.mappings)
  r.placement = {
    policy = asked and asked.policy or "default", nodes = asked and asked.nodes or nil,
    page_size = base, pages_by_node = by_node_list(anon, 1, base),
    all_by_node = by_node_list(all, 1, base),
    peak_by_node = by_node_list(facts.peak_by_node, 1, base), bytes_by_kind = kinds,
    samples = facts.samples, sample_failures = facts.sample_failures,
    sampling_ns = facts.sampling_ns,
    mappings = largest_mappings(facts.mappings, opts.mappings or 10, base),
    mapping_count = #facts.mappings, method = "/proc/PID/numa_maps, sampled; each mapping "
      .. "at its largest sample; pages_by_node leaves out file pages (page cache)",
  }
  r.placement.bytes = total(r.placement.pages_by_node)
  r.stdout, r.stderr = facts.stdout, facts.stderr
  r.stdout_truncated, r.stderr_truncated = facts.stdout_truncated, facts.stderr_truncated
  if facts.forwarded > 0 then r.signals_forwarded = facts.forwarded end
  check_placement(r, asked, facts)
  check_cpus(r, cpus, facts)
  check_huge(r, huge, facts)
  if facts.sample_failures > 0 then
    U.warn(r, "%d sample%s of numa_maps failed: %s", facts.sample_failures,
           facts.sample_failures == 1 and "" or "s", tostring(facts.sample_error))
  end
  if facts.mappings_dropped > 0 then
    U.warn(r, "%d mappings past the first 65536 were not kept: totals miss them",
           facts.mappings_dropped)
  end
  if facts.timed_out then
    U.warn(r, "stopped after the time limit (%s ms): SIGTERM, then SIGKILL",
           tostring(opts.timeout_ns // 1000000))
  end
  return r
end

--- Runs a program under a memory policy and CPU set and reports what it got.
-- The program's stdin, stdout and stderr are the caller's, untouched, unless
-- `stdout`/`stderr`/`capture` say otherwise.
-- @tparam table opts the command as the array part (`{"./walker", "64M"}`) or
--   `cmd`; `node` (bind to one node), `nodes` (array, node list or "all") with
--   `policy` ("bind", the default, "preferred", "preferred_many",
--   "interleave", "weighted_interleave"; "local" and "default" take no nodes),
--   or `interleave` (nodes or "all"); `cpus` (array or cpulist); `huge`
--   ("thp": THP on and glibc malloc's hugetlb tunable; "none": THP off);
--   `stdout` ("inherit", "stderr", "null"), `stderr` ("inherit", "null");
--   `capture` (boolean: keep the last 1 MiB of stdout and 64 KiB of stderr in
--   the result, still passed on); `sample_ns` (longest time between samples,
--   default 50 ms); `timeout_ns`; `mappings` (how many of the largest
--   mappings the result lists, default 10)
-- @treturn[1] table the result: `exit` (`code`, `signal`), `ok`, `wall_ns`,
--   `user_ns`, `system_ns`, `minor_faults`, `major_faults`, `max_rss_bytes`,
--   `cpus_ran`, `placement` (`pages_by_node`, `held`, `fraction`, `samples`,
--   `mappings`), `huge`, `warnings`, ...
-- @return[2] nil when the program could not be launched
-- @treturn[2] string why ("exec: nosuch: command not found (not in PATH)", a
--   refused policy)
-- @treturn[2] integer errno
-- @treturn[2] table `failed_step` ("exec", "policy", "cpus", ...) and
--   `exit_code` (127 not found, 126 not executable, 125 refused)
-- @raise on unknown options, nodes or CPUs that do not exist, an empty command
-- @usage local r = lnuma.exec{"./walker", "256", node = 1}
-- print(r.wall_ns, r.placement.held)
function M.run(opts)
  opts = O.check_opts(FNAME, opts, setmetatable({}, { __index = function(_, k)
    return KNOWN[k] or math.type(k) == "integer"
  end }))
  local argv = command(opts)
  local topo, msg, code = U.machine()
  if not topo then return nil, msg, code end
  local asked = placement_asked(topo, opts)
  local cpus = O.opt_cpus(FNAME, topo, opts, "cpus")
  local huge = opt_huge(opts)
  local stdout = O.opt_choice(FNAME, opts, "stdout", "inherit", { "inherit", "stderr", "null" })
  local stderr = O.opt_choice(FNAME, opts, "stderr", "inherit", { "inherit", "null" })
  local capture = O.opt_bool(FNAME, opts, "capture", false)
  local sample_ns = O.opt_int(FNAME, opts, "sample_ns", nil, 100000, 3600000000000)
  local timeout_ns = O.opt_int(FNAME, opts, "timeout_ns", nil, 1)
  O.opt_int(FNAME, opts, "mappings", 10, 0, 100000)
  local copts = { argv = argv, cpus = cpus, huge = huge, stdout = stdout, stderr = stderr,
                  sample_ns = sample_ns, timeout_ns = timeout_ns }
  if asked and asked.policy ~= "default" then
    copts.policy = asked.policy
    if #asked.nodes > 0 then copts.nodes = asked.nodes end
  end
  if capture then
    copts.capture_stdout, copts.capture_stderr = M.CAPTURE_STDOUT, M.CAPTURE_STDERR
  end
  -- What the script printed comes before what the program prints.
  io.stdout:flush()
  io.stderr:flush()
  local facts, err, errno, info = core.exec(copts)
  if not facts then return nil, err, errno, info end
  return make_result(argv, asked, cpus, huge, opts, facts)
end

local R = require "lnuma.exec_runner"

--- Reads a placement string ("node=0", "interleave=all", "nodes=0-1
-- policy=preferred_many cpus=0-3 huge=thp") into options of `lnuma.exec`
-- (see `lnuma.exec_runner.placement`).
-- @function placement
M.placement = R.placement

--- A `run` function for `lnuma.experiment` that runs a program under each
-- combination's placement (see `lnuma.exec_runner.runner`).
-- @function runner
M.runner = R.runner

return setmetatable(M, { __call = function(_, opts) return M.run(opts) end })
