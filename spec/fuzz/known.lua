--- Known findings the API fuzzer steps around until they are fixed.
--
-- Each entry names a finding of /work/fuzz-findings.md (issue 13) and says
-- which calls reproduce it; the fuzzer skips a call an entry matches (and
-- counts the skips), so the rest of the API stays under test.  Remove an
-- entry once its fix is merged: the fuzzer then tests that class again.
--
-- api: calls of spec/fuzz/fuzz.lua.  `match(call)` sees `call.name`
-- ("lnuma.alloc", "buffer:placement", ...), `call.args` (array, `call.n`
-- long), `call.strings` (set of every string in the arguments, two levels
-- deep) and `call.trapped` (set of trap actions the arguments carry: "free",
-- "gc", "error", ...).
--
-- plans: probes of spec/fuzz/plans.lua (`probe` names one of its PROBES)
-- that are known to get out of the sandbox: they are not generated; and
-- checks it makes (`check`: "svg", the XML `plan show --svg` writes) that
-- are known to fail: they are not made.

-- A trap that frees an object, or collects garbage, in the middle of a call.
local function frees(call)
  local t = call.trapped
  return t.free or t["free+value"] or t.gc or t.collect or t.reenter
end

-- Where a buffer's memory is, read only from a real lnuma buffer (a trap
-- table's methods are not run here).
local function span(b)
  local mt = getmetatable(b)
  if type(mt) ~= "table" or rawget(mt, "__name") ~= "lnuma.Buffer" then return nil end
  local ok, addr, size = pcall(function() return b:address(), b:size() end)
  if ok and math.type(addr) == "integer" and math.type(size) == "integer" then
    return addr, size
  end
end

local function overlap(a, b)
  local pa, sa = span(a)
  local pb, sb = span(b)
  return pa ~= nil and pb ~= nil and pa < pb + sb and pb < pa + sa
end

local function big_number(call)
  for i = 1, call.n do
    local v = call.args[i]
    if type(v) == "number" and (v ~= v or v >= 2 ^ 40 or v <= -2 ^ 40) then return true end
  end
  return false
end

return {
  api = {
    {
      id = "C1",
      what = "lnuma.core.bench_latency/bench_bandwidth: an option's metamethod frees the "
             .. "buffer; the kernel threads then run on unmapped memory (SEGV in "
             .. "kernels_chase.c:59 link_slot, kernels_dispatch.c:129 lnuma__ktouch)",
      match = function(call)
        local name = call.name
        return (name == "lnuma.core.bench_latency" or name == "lnuma.core.bench_bandwidth")
               and frees(call)
      end,
    },
    {
      id = "C2",
      what = "histogram:percentiles with a __len of 2^59 and more: n * 16 overflows, "
             .. "heap-buffer-overflow writing the array (csrc/lua/histogram.c:160-163)",
      match = function(call)
        if call.name ~= "histogram:percentiles" then return false end
        for i = 2, call.n do
          local mt = type(call.args[i]) == "table" and getmetatable(call.args[i])
          if type(mt) == "table" and rawget(mt, "__len") then return true end
        end
        return false
      end,
    },
    {
      id = "C3",
      what = "histogram:record(v, count) with a count near 2^63: the total count overflows "
             .. "(signed overflow, csrc/core/histogram.c:185-186)",
      match = function(call) return call.name == "histogram:record" and big_number(call) end,
    },
    {
      id = "C4",
      what = "lnuma.core.bench_loaded with a traffic buffer that shares memory with the chase "
             .. "buffer (the same buffer, or a view of it): the traffic threads overwrite the "
             .. "chase links and the chaser follows them (SEGV in kernels_chase.c:224)",
      match = function(call)
        return call.name == "lnuma.core.bench_loaded" and overlap(call.args[1], call.args[2])
      end,
    },
    {
      id = "R2",
      what = "a path to an endless file (/dev/zero) is read to its end: lnuma.report.load "
             .. "fills memory until the process dies, topology{xml=} probes for 30 s "
             .. "(issue 13, class 4; fuzz-findings R2)",
      match = function(call) return call.strings["/dev/zero"] end,
    },
  },
  plans = {
    { id = "S1", probe = "export_xml",
      what = "topology:export_xml(path) writes any file from a plan (plan check and "
             .. "lnuma_plan_load)" },
    { id = "S2", probe = "getenv", what = "os.getenv is reachable from a plan" },
    { id = "S3", probe = "memory",
      what = "the plan memory limit counts memory freed during the run (garbage made before "
             .. "it) as credit: in a state with garbage, a plan keeps 48 MiB under a 32 MiB "
             .. "limit (csrc/lua/sandbox.c limited_alloc)" },
    { id = "X1", check = "svg",
      what = "lnuma plan show --svg writes unbalanced XML (groups never closed)" },
  },
}
