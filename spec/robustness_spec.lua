-- Nothing a script passes may crash the process (issue 13), classes 1 and 2:
-- a metamethod of an argument frees the object being worked on (or runs the
-- collector), and integer overflow.  Every binding that takes an options
-- table or an array is listed once in CASES below; a new one is one entry.
-- Run it under the sanitizers too (make sanitize): a use after free or an
-- overflow there aborts the run instead of passing by luck.
local lnuma = require "lnuma"
local core = lnuma.core

local current_policy, policy_asked -- defined below; the policy set_policy was given
local function allowed_cpus() return assert(lnuma.binding()).cpus end
local function first_node() return assert(lnuma.binding()).nodes[1] end

-- The objects a call works on: how to make one, how a script frees it, and
-- the error a call on it gives once freed.  "bystander" is a buffer the
-- call does not use (for the functions that work on no object).
local KINDS = {
  buffer = {
    make = function() return assert(lnuma.alloc("64K")) end,
    free = function(o) o:free() end,
    freed = "attempt to use a freed buffer",
  },
  arena = {
    make = function() return assert(lnuma.arena { size = "64K" }) end,
    free = function(o) o:free() end,
    freed = "attempt to use a freed arena",
  },
  pool = {
    make = function() return assert(lnuma.pool { size = 64, count = 16 }) end,
    free = function(o) o:free() end,
    freed = "attempt to use a freed pool",
  },
  histogram = { -- cannot be freed: the worst a script can do is empty it
    make = function()
      local h = lnuma.histogram()
      for v = 1, 100 do h:record(v) end
      return h
    end,
    free = function(h) h:reset() end,
  },
  bystander = {
    make = function() return assert(lnuma.alloc("4K")) end,
    free = function(o) o:free() end,
  },
}

local function c2c_buffer()
  return assert(lnuma.alloc(core.c2c_memory(2, 1)))
end

-- Every binding that takes an options table (opts) or an array (array).
-- call(obj, arg) makes the call with the options or the array in arg; check
-- says that a result is right; cpus: how many CPUs the call needs.
local CASES = {
  { name = "lnuma.core.alloc", kind = "bystander", opts = { policy = "default", nodes = "node" },
    call = function(_, o) return core.alloc("64K", o) end,
    check = function(r) assert.equal("buffer", lnuma.type(r)) end },
  { name = "lnuma.core.arena", kind = "bystander", opts = { size = "64K", nodes = "node" },
    call = function(_, o) return core.arena(o) end,
    check = function(r) assert.equal(65536, r:capacity()) end },
  { name = "lnuma.core.pool", kind = "bystander", opts = { size = 64, count = 4, nodes = "node" },
    call = function(_, o) return core.pool(o) end,
    check = function(r) assert.equal(4, r:count()) end },
  { name = "buf:placement", kind = "buffer", opts = { pages = true, huge_method = "auto" },
    call = function(b, o) return b:placement(o) end,
    check = function(r) assert.equal(65536, r.bytes) end },
  { name = "arena:placement", kind = "arena", opts = { pages = true },
    call = function(a, o) return a:placement(o) end,
    check = function(r) assert.equal(65536, r.bytes) end },
  { name = "pool:placement", kind = "pool", opts = { pages = true },
    call = function(p, o) return p:placement(o) end,
    check = function(r) assert.is_true(r.bytes >= 64 * 16) end },
  { name = "buf:migrate", kind = "buffer", array = function() return { first_node() } end,
    call = function(b, a) return b:migrate(a) end,
    check = function(r) assert.same({ first_node() }, r.nodes) end },
  { name = "lnuma.core.cpulist", kind = "bystander", array = { 0, 1, 2 },
    call = function(_, a) return core.cpulist(a) end,
    check = function(r) assert.equal("0-2", r) end },
  { name = "h:percentiles", kind = "histogram", array = { 50, 100 },
    call = function(h, a) return h:percentiles(a) end,
    check = function(r) assert.same({ [50] = 50, [100] = 100 }, r) end,
    check_freed = function(r) assert.same({}, r) end }, -- emptied while read
  { name = "lnuma.core.histogram", kind = "bystander",
    opts = { lowest = 1, highest = 1000, precision = 2, unit = "cycles" },
    call = function(_, o) return core.histogram(o) end,
    check = function(r) assert.equal("cycles", r:export().unit) end },
  { name = "lnuma.core.topology", kind = "bystander",
    opts = { synthetic = "pack:1 core:2 pu:1" },
    call = function(_, o) return core.topology(o) end,
    check = function(r) assert.equal(2, #r.cpus) end },
  { name = "lnuma.core.bind", kind = "bystander", opts = { cpus = "bound" },
    call = function(_, o) return core.bind(o) end,
    check = function(r) assert.is_true(r) end },
  { name = "lnuma.core.set_policy", kind = "bystander", opts = "policy",
    call = function(_, o) return core.set_policy(o) end,
    check = function(r, msg)
      if r == nil then return assert.is_string(msg) end -- policies refused here
      assert.is_true(r)
      local now = core.get_policy()
      if now then assert.equal(policy_asked.policy, now.policy) end
    end },
  { name = "lnuma.core.numastat", kind = "bystander", opts = { pid = 0 },
    call = function(_, o) return core.numastat(o) end,
    check = function(r) assert.is_table(r[first_node()]) end },
  { name = "lnuma.core.clock.calibrate", kind = "bystander", opts = { duration = 10000000 },
    call = function(_, o) return core.clock.calibrate(o) end,
    check = function(r) assert.is_number(r) end },
  { name = "lnuma.core.run_limited", kind = "bystander",
    opts = { instructions = 1000000, memory = 1000000 },
    call = function(_, o) return core.run_limited(o, function() return 42 end) end,
    check = function(ok, v) assert.is_true(ok); assert.equal(42, v) end },
  { name = "lnuma.core.chase_order", kind = "bystander", opts = { pattern = "random", seed = 7 },
    call = function(_, o) return core.chase_order(4096, o) end,
    check = function(r) assert.equal(64, #r) end },
  { name = "lnuma.core.bench_bandwidth", kind = "buffer", cpus = 1,
    opts = { kernel = "read", cpus = "cpus1", repetitions = 1, min_time = 0 },
    call = function(b, o) return core.bench_bandwidth(b, o) end,
    check = function(r) assert.equal(1, #r.rep_ns) end },
  { name = "lnuma.core.bench_latency", kind = "buffer", cpus = 1,
    opts = { cpu = "cpu", repetitions = 1, min_time = 0, chunks = 1 },
    call = function(b, o) return core.bench_latency(b, o) end,
    check = function(r) assert.equal(1, #r.rep_ns) end },
  { name = "lnuma.core.bench_loaded", kind = "buffer", cpus = 2,
    opts = { cpus = "cpus2", delays = { 0 }, step_time = 1000000 },
    call = function(b, o) return core.bench_loaded(b, assert(lnuma.alloc("64K")), o) end,
    check = function(r) assert.equal(1, #r.steps) end },
  { name = "lnuma.core.bench_c2c", kind = "buffer", cpus = 2, make = c2c_buffer,
    opts = { cpus = "cpus2", samples = 1, roundtrips = 10, warmup = 1 },
    call = function(b, o) return core.bench_c2c(b, o) end,
    check = function(r) assert.equal(1, #r.sample_ns) end },
}

-- The thread's memory policy as set_policy takes it (the case sets it
-- again, so that the specs after this one run under the same policy).
current_policy = function()
  local now = core.get_policy()
  if not now then return { policy = "default" } end
  if now.policy == "default" or now.policy == "local" then return { policy = now.policy } end
  return now
end

-- The options of a case with the placeholders filled in.
local function options(case)
  if case.opts == "policy" then
    policy_asked = current_policy()
    return current_policy()
  end
  local cpus = allowed_cpus()
  local o = {}
  for k, v in pairs(case.opts) do
    if v == "bound" then v = cpus
    elseif v == "node" then v = { first_node() }
    elseif v == "cpus1" then v = { cpus[1] }
    elseif v == "cpus2" then v = { cpus[1], cpus[2] }
    elseif v == "cpu" then v = cpus[1] end
    o[k] = v
  end
  return o
end

local function enough_cpus(case)
  return not case.cpus or #allowed_cpus() >= case.cpus
end

local function skip_unless_cpus(case)
  if not enough_cpus(case) then pending(("%s needs %d CPUs"):format(case.name, case.cpus)) end
end

-- The array of a case (a table, or a function that makes one).
local function array_of(case)
  if type(case.array) == "function" then return case.array() end
  return case.array
end

local function make(case)
  return (case.make or KINDS[case.kind].make)()
end

-- A table that gives plain's fields through __index, calling hook first
-- (it has no field of its own: every read runs the hook).
local function index_proxy(plain, hook)
  return setmetatable({}, { __index = function(_, k) hook(); return plain[k] end })
end

-- An array whose length and elements come from metamethods that call hook.
local function array_proxy(plain, hook)
  return setmetatable({}, {
    __len = function() hook(); return #plain end,
    __index = function(_, i) hook(); return plain[i] end,
  })
end

-- The argument of a case (options or array) with a hook in every read.
local function hooked(case, hook)
  if case.array then return array_proxy(array_of(case), hook) end
  return index_proxy(options(case), hook)
end

-- Asserts the outcome of pcall(case.call, obj, arg) after the metamethods
-- freed obj: the error a freed object gives, or for calls that use no
-- object (or one that cannot be freed), a right result.
local function assert_freed_outcome(case, ok, ...)
  local kind = KINDS[case.kind]
  if kind.freed then
    assert.is_false(ok, case.name .. " worked on a freed object")
    assert.matches(kind.freed, (...), 1, true)
  else
    assert(ok, ...)
    ;(case.check_freed or case.check)(...)
  end
end

describe("a metamethod of an argument frees the object being worked on (class 1)", function()
  for _, case in ipairs(CASES) do
    it(case.name .. ": __index/__len free the object: a clean error or a right result", function()
      skip_unless_cpus(case)
      local obj = make(case)
      local free = function() KINDS[case.kind].free(obj) end
      assert_freed_outcome(case, pcall(case.call, obj, hooked(case, free)))
    end)

    it(case.name .. ": __index/__len run the collector, the object otherwise unreferenced",
      function()
        skip_unless_cpus(case)
        -- The object lives only on the call's stack: the collector must keep it.
        local ok_gc = function() collectgarbage() end
        local results = table.pack(pcall(case.call, make(case), hooked(case, ok_gc)))
        assert(results[1], results[2])
        case.check(table.unpack(results, 2, results.n))
      end)

    it(case.name .. ": the same with plain arguments (the baseline)", function()
      skip_unless_cpus(case)
      local arg = array_of(case) or options(case)
      case.check(case.call(make(case), arg))
    end)
  end

  it("option values that are arrays are read through their metamethods first", function()
    for _, case in ipairs(CASES) do
      if case.opts and enough_cpus(case) then
        for key, v in pairs(options(case)) do
          if type(v) == "table" then
            local obj = make(case)
            local o = options(case)
            o[key] = array_proxy(v, function() KINDS[case.kind].free(obj) end)
            assert_freed_outcome(case, pcall(case.call, obj, o))
          end
        end
      end
    end
  end)

  it("a __len of 2^60 is refused before anything is allocated for it", function()
    local huge = setmetatable({}, { __len = function() return 1 << 60 end,
                                    __index = function() return 0 end })
    for _, case in ipairs(CASES) do
      if case.array then
        local ok, err = pcall(case.call, make(case), huge)
        assert.is_false(ok, case.name)
        assert.matches("1152921504606846976 elements, more than the %d+ allowed", err)
      end
    end
    local buf <close> = assert(lnuma.alloc("64K"))
    assert.error_matches(function() core.alloc("4K", { nodes = huge }) end,
      "nodes: 1152921504606846976 elements, more than the 1000000 allowed", 1, true)
    assert.error_matches(function()
      core.bench_bandwidth(buf, { cpus = huge, repetitions = 1, min_time = 0 })
    end, "cpus: 1152921504606846976 elements, more than the 1000000 allowed", 1, true)
  end)

  it("the reproducer of issue 13: placement whose options free the buffer", function()
    local buf = lnuma.alloc("1M")
    local opts = setmetatable({}, { __index = function() buf:free() end })
    local ok, err = pcall(buf.placement, buf, opts)
    assert.is_false(ok)
    assert.matches("attempt to use a freed buffer", err, 1, true)
  end)

  it("topology{xml = path} keeps the path when a later read runs the collector", function()
    -- The path is made afresh and held by nothing once returned: the read of
    -- 'synthetic' that follows runs the collector.
    local opts = setmetatable({}, { __index = function(_, k)
      if k == "xml" then return table.concat({ "/nonexistent", "lnuma", "topo.xml" }, "/") end
      collectgarbage()
    end })
    local ok, err = pcall(core.topology, opts)
    assert.is_false(ok)
    assert.matches("xml: .*/nonexistent/lnuma/topo%.xml", err)
  end)

  it("histogram{unit} keeps the unit when a later read runs the collector", function()
    local opts = setmetatable({}, { __index = function(_, k)
      if k == "unit" then return ("u"):rep(50) end
      collectgarbage()
    end })
    local h = core.histogram(opts)
    collectgarbage()
    assert.equal(("u"):rep(50), h:export().unit)
  end)

  -- Calls that allocate while they work on an object, with the object a
  -- finalizer frees: each returns something to check when it worked.
  local ALLOCATING = {
    { "buffer", "buf:view", function(b) return #b:view(0, 16) == 16 end },
    { "buffer", "buf:info", function(b) return b:info().size == 65536 end },
    { "buffer", "tostring(buf)", function(b) return tostring(b):find("^lnuma%.Buffer") end },
    { "buffer", "buf:placement", function(b)
      return b:placement({ pages = true }).bytes == 65536
    end },
    { "buffer", "buf:policy", function(b) return type(b:policy().policy) == "string" end },
    { "buffer", "buf:read", function(b) return #b:read(0, 100) == 100 end },
    { "buffer", "buf:write", function(b)
      for i = 0, 40 do b:write(i * 8, 10000000 + i) end -- numbers become strings: allocates
      return b:read(8, 8) == "10000001"
    end },
    { "arena", "arena:alloc_buffer", function(a) return #a:alloc_buffer(16) == 16 end },
    { "arena", "arena:view", function(a) return #a:view(a:alloc(16), 16) == 16 end },
    { "arena", "arena:info", function(a) return a:info().size == 65536 end },
    { "arena", "tostring(arena)", function(a) return tostring(a):find("^lnuma%.Arena") end },
    { "arena", "arena:placement", function(a) return a:placement().bytes == 65536 end },
    { "pool", "pool:get", function(p) return #p:get() == 64 end },
    { "pool", "pool:info", function(p) return p:info().size >= 64 * 16 end },
    { "pool", "tostring(pool)", function(p) return tostring(p):find("^lnuma%.Pool") end },
    { "buffer", "bench_latency", function(b)
      local r = core.bench_latency(b, { cpu = allowed_cpus()[1], repetitions = 1, min_time = 0,
                                        chunks = 1 })
      return #r.rep_ns == 1
    end },
  }

  -- Calls obj = make() then call(obj), with a finalizer freeing obj at the
  -- k-th finalizer run inside the call.  The collector is driven in its
  -- smallest steps until its finalizers start to run (one step runs at
  -- most 10): the rest then run in the next allocations, inside the call.
  local function free_inside(kind, call, k)
    collectgarbage()
    local obj = KINDS[kind].make()
    local st = { fired = false, armed = false, left = k }
    for _ = 1, k + 40 do
      setmetatable({}, { __gc = function()
        st.fired = true
        if st.armed then
          st.left = st.left - 1
          if st.left == 0 then KINDS[kind].free(obj) end
        end
      end })
    end
    repeat collectgarbage("step", 0) until st.fired
    st.armed = true
    local ok, res = pcall(call, obj)
    st.armed = false
    return ok, res, st.left <= 0
  end

  for _, try in ipairs(ALLOCATING) do
    local kind, name, call = try[1], try[2], try[3]
    it(name .. ": a finalizer that frees the " .. kind .. " mid-call: a clean error", function()
      collectgarbage("incremental", 200, 100, 1) -- the smallest steps: 10 finalizers each
      finally(function() collectgarbage("incremental", 200, 100, 13) end)
      local freed_during = 0
      for k = 1, 120, 7 do
        local ok, res, freed = free_inside(kind, call, k)
        if freed then freed_during = freed_during + 1 end
        if ok then
          assert.truthy(res, name .. " worked and gave a wrong answer")
        else
          assert.matches(KINDS[kind].freed, res, 1, true)
        end
      end
      assert.is_true(freed_during > 0, "no finalizer ran inside " .. name)
      collectgarbage()
    end)
  end
end)

describe("integer overflow (class 2)", function()
  it("h:record refuses a count that would pass 2^63 - 1 values, and the rest stays right",
    function()
      local h = lnuma.histogram()
      h:record(5, math.maxinteger)
      assert.error_matches(function() h:record(5, math.maxinteger) end,
        "count: 9223372036854775807 more values would take the histogram "
        .. "(9223372036854775807 values) past its limit of 9223372036854775807", 1, true)
      assert.error_matches(function() h:record(5) end, "past its limit", 1, true)
      assert.equal(math.maxinteger, h:count())
      assert.same({ [50] = 5, [99] = 5, [100] = 5 }, h:percentiles { 50, 99, 100 })
      assert.equal(5, h:percentile(0))
      assert.equal(5, h:mean())
      local other = lnuma.histogram()
      other:record(7)
      assert.error_matches(function() h:merge(other) end,
        "merging 1 values into 9223372036854775807 would pass the limit", 1, true)
      assert.error_matches(function() h:merge(h) end, "would pass the limit", 1, true)
      assert.equal(5, h:max())
    end)

  it("a histogram up to math.maxinteger reports its top bucket without overflow", function()
    local h = lnuma.histogram { lowest = 1, highest = math.maxinteger }
    h:record(math.maxinteger)
    h:record(math.maxinteger - 1)
    h:record(1)
    assert.equal(math.maxinteger, h:percentile(100))
    local p99 = h:percentile(99)
    assert.is_true(p99 >= math.maxinteger - 1 and p99 <= math.maxinteger)
    local n = 0
    for lo, hi, count in h:buckets() do
      assert.is_true(lo <= hi)
      n = n + count
    end
    assert.equal(3, n)
  end)

  it("h:percentiles with a __len of 2^60 is refused (it overflowed n * 16)", function()
    local h = lnuma.histogram()
    h:record(5)
    local t = setmetatable({}, { __len = function() return 1 << 60 end,
                                 __index = function() return 50 end })
    assert.error_matches(function() h:percentiles(t) end,
      "percentiles: 1152921504606846976 elements, more than the 100000 allowed", 1, true)
  end)

  it("lnuma.size refuses what does not fit in an integer", function()
    assert.equal(math.maxinteger, lnuma.size("9223372036854775807"))
    assert.error_matches(function() lnuma.size("9223372036854775808") end,
      "(size: '9223372036854775808' is too large (at most "
      .. "9223372036854775807 bytes))", 1, true)
    assert.error_matches(function() lnuma.size("8388608T") end,
      "'8388608T' is too large", 1, true)
    assert.error_matches(function() lnuma.size("18446744073709551616") end,
      "size '18446744073709551616' is too large", 1, true)
    assert.error_matches(function() lnuma.alloc("9223372036854775808") end,
      "'9223372036854775808' is too large", 1, true)
  end)

  it("sizes, lists, names and paths with a NUL byte are refused, naming the argument",
    function()
      local buf <close> = assert(lnuma.alloc("64K"))
      local topo = lnuma.topology { synthetic = "pack:1 core:2 pu:1" }
      local cases = {
        { function() lnuma.size("1M\0garbage") end,
          "size: the string holds a NUL byte at offset 2" },
        { function() lnuma.cpulist("0\0,1") end, "list: the string holds a NUL byte at offset 1" },
        { function() lnuma.alloc("1M\0garbage") end, "size: the string holds a NUL byte" },
        { function() core.alloc(4096, { nodes = "0\0" }) end,
          "nodes: the string holds a NUL byte" },
        { function() core.alloc(4096, { policy = "bind\0x" }) end,
          "policy: the string holds a NUL byte" },
        { function() core.alloc(4096, { huge = "2M\0x" }) end,
          "huge: the string holds a NUL byte" },
        { function() buf:migrate("0\0") end, "nodes: the string holds a NUL byte" },
        { function() buf:placement { huge_method = "auto\0x" } end,
          "huge_method: the string holds a NUL byte" },
        { function() core.histogram { unit = "ns\0x" } end, "unit: the string holds a NUL byte" },
        { function() core.topology { xml = "/tmp/x\0y" } end, "xml: the string holds a NUL byte" },
        { function() core.topology { synthetic = "pack:1\0 core:2" } end,
          "synthetic: the string holds a NUL byte" },
        { function() topo:node_of_device("eth0\0x") end, "name: the string holds a NUL byte" },
        { function() topo:export_xml("/tmp/lnuma-robustness\0.xml") end,
          "path: the string holds a NUL byte" },
        { function() core.bench_bandwidth(buf, { kernel = "read\0x", cpus = { 0 } }) end,
          "kernel: the string holds a NUL byte" },
        { function() core.arena { size = "64K\0" } end, "size: the string holds a NUL byte" },
      }
      for _, c in ipairs(cases) do
        assert.error_matches(c[1], c[2], 1, true)
      end
    end)

  it("options that are too long to copy are refused, naming the option", function()
    assert.error_matches(function() core.histogram { unit = ("u"):rep(128) } end,
      "unit: 128 bytes, more than the 127 allowed", 1, true)
    assert.error_matches(function() core.topology { xml = ("/x"):rep(3000) } end,
      "xml: 6000 bytes, more than the 4095 allowed", 1, true)
  end)

  it("clock.to_ns of the extreme integers saturates instead of overflowing", function()
    assert.is_true(core.clock.to_ns(math.mininteger) <= 0)
    assert.is_true(core.clock.to_ns(math.maxinteger) >= 0)
    assert.equal(0, core.clock.to_ns(0))
  end)
end)

describe("loaded latency's two buffers", function()
  it("are refused when they share memory (the traffic would rewrite the chase)", function()
    local buf <close> = lnuma.alloc("8M")
    local ok, msg = lnuma.core.bench_loaded(buf, buf:view(0, 4 * 1024 * 1024),
      { cpus = { 0, 0 }, delays = { 0 }, step_time = 1000000 })
    assert.is_nil(ok)
    assert.matches("overlap", msg)
  end)
end)
