-- The memory benchmarks of lnuma.bench: every result carries its figure,
-- where its threads ran, where its pages are, and says when either did not
-- hold.  Sizes and times are small: these specs check behaviour, not speed.
local lnuma = require "lnuma"
local H = dofile("spec/support/helpers.lua")

local MiB = 1024 * 1024
local QUICK = { repetitions = 2, min_time = 1000000 }

local function quick(t) return H.with_defaults(QUICK, t) end

local allowed_cpus = H.allowed_cpus

local function sorted_copy(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  return s
end

describe("lnuma.bench.chase_order (the pointer chase)", function()
  for _, pattern in ipairs({ "random", "uniform", "sequential" }) do
    it("visits every slot exactly once per cycle (" .. pattern .. ")", function()
      local order = lnuma.bench.chase_order(256 * 1024, { pattern = pattern })
      assert.equal(256 * 1024 / 64, #order)
      assert.equal(0, order[1])
      local s = sorted_copy(order)
      for i = 1, #s do assert.equal(i - 1, s[i]) end
    end)
  end

  it("visits every slot once with a stride, residue after residue", function()
    local order = lnuma.bench.chase_order(64 * 1024, { pattern = "stride", stride = 4096 })
    assert.equal(1024, #order)
    assert.same({ 0, 64, 128 }, { order[1], order[2], order[3] })
    local s = sorted_copy(order)
    for i = 1, #s do assert.equal(i - 1, s[i]) end
  end)

  it("keeps the random pattern's two lines of a 128-byte pair in different visits", function()
    local order = lnuma.bench.chase_order(64 * 4096, { pattern = "random", seed = 3 })
    -- 32 consecutive loads stay in one 4 KiB block; find where visits start.
    local n, offset = #order, nil
    for o = 0, 31 do
      local ok = true
      for i = 0, n - 1, 32 do
        for k = 1, 31 do
          if order[(o + i + k) % n + 1] // 64 ~= order[(o + i) % n + 1] // 64 then ok = false end
        end
      end
      if ok then offset = o; break end
    end
    assert.is_not_nil(offset)
    local visit = {}
    for i = 0, n - 1 do visit[order[(offset + i) % n + 1]] = i // 32 end
    for k = 0, n - 1, 2 do assert.are_not.equal(visit[k], visit[k + 1]) end
  end)

  it("is reproducible from its seed and differs with another", function()
    local a = lnuma.bench.chase_order(64 * 1024, { pattern = "uniform", seed = 1 })
    local b = lnuma.bench.chase_order(64 * 1024, { pattern = "uniform", seed = 1 })
    local c = lnuma.bench.chase_order(64 * 1024, { pattern = "uniform", seed = 2 })
    assert.same(a, b)
    assert.are_not.same(a, c)
  end)
end)

describe("lnuma.bench.latency", function()
  it("returns ns per load, the CPU it ran on and the verified placement", function()
    local cpu = allowed_cpus()[#allowed_cpus()]
    local r = assert(lnuma.bench.latency(quick { size = "4M", cpu = cpu }))
    assert.equal("latency", r.benchmark)
    assert.is_number(r.latency_ns)
    assert.is_true(r.latency_ns > 0 and r.latency_ns < 10000)
    assert.equal(r.stats.median, r.latency_ns)
    assert.equal(2, #r.repetitions)
    assert.same({ cpu }, r.cpus_ran)
    assert.equal(lnuma.topology():node_of_cpu(cpu), r.node)
    assert.equal(r.node, r.placement.node)
    assert.equal(1.0, r.placement.fraction)
    assert.equal(4 * MiB // 4096, r.placement.pages)
    assert.equal("ns per load", r.units.latency_ns)
    assert.is_string(r.clock.source)
    assert.is_number(r.clock.overhead_ns)
    assert.is_true(r.chunks.p50 <= r.chunks.p99 and r.chunks.p99 <= r.chunks.max)
    assert.same({}, r.warnings)
  end)

  it("takes by default 4 times the CPU's last-level cache, and says when a chase is cache's",
     function()
    local topo = lnuma.topology()
    local cpu = allowed_cpus()[1]
    local p = require("lnuma.bench.latency").params("latency", topo, { cpu = cpu })
    assert.equal(require("lnuma.llc").latency_size(topo, cpu), p.size)
    assert.is_true(p.size >= 256 * MiB)
    local r = assert(lnuma.bench.latency(quick { size = "1M", cpu = cpu }))
    local cache = require("lnuma.llc").of(topo, { cpu }).one
    assert.equal(cache, r.llc)
    if cache then -- 1 MiB is under 4 times any last-level cache
      assert.equal("cache", r.scope)
      assert.matches("scope: cache: 1M is under 4 times the " .. lnuma.report.size(cache)
        .. " of last-level cache its CPU sees", lnuma.report.text(r), 1, true)
    else
      assert.equal("unknown", r.scope)
    end
    local m = assert(lnuma.bench.matrix(quick { size = "1M" }))
    assert.equal(cache and "cache" or "unknown", m.scope)
    assert.equal(cache and "partly or wholly cache latency" or nil,
                 lnuma.report.text(m):match("partly or wholly cache latency"))
  end)

  it("measures a buffer the caller placed, without freeing it", function()
    local buf <close> = assert(lnuma.alloc("2M", { node = lnuma.topology().allowed.nodes[1] }))
    local r = assert(lnuma.bench.latency(quick { buffer = buf, size = "1M" }))
    assert.equal(1024 * 1024, r.size)
    assert.equal(1.0, r.placement.fraction)
    assert.equal(256, r.placement.pages)
    assert.equal("buffer", lnuma.type(buf))
    assert.has_error(function() lnuma.bench.latency { buffer = buf, size = "4M" } end,
      "bad argument #1 to 'latency' (size: 4194304 bytes do not fit in the buffer (2097152 "
      .. "bytes))")
    assert.has_error(function() lnuma.bench.latency { buffer = "buf" } end,
      "bad argument #1 to 'latency' (buffer: lnuma buffer expected, got string)")
    buf:free()
    assert.has_error(function() lnuma.bench.latency { buffer = buf } end,
      "bad argument #1 to 'latency' (buffer: lnuma buffer expected, got freed buffer)")
  end)

  it("sees the caches: an L1-sized chase is faster than a large one", function()
    local small = assert(lnuma.bench.latency(quick { size = "8K" }))
    local large = assert(lnuma.bench.latency(quick { size = "64M" }))
    assert.is_true(small.latency_ns < large.latency_ns)
  end)

  it("computes the placement fraction from where the pages are (move_pages)", function()
    -- Make buf:placement() report 3 of 10 pages elsewhere: the result must
    -- say 0.7, and warn, instead of assuming the pages are where asked.
    local probe <close> = lnuma.alloc(4096)
    local methods = getmetatable(probe).__index
    local real = methods.placement
    methods.placement = function()
      return { pages = 10, page_size = 4096, absent = 0, by_node = { [0] = 7, [5] = 3 } }
    end
    local ok, r = pcall(lnuma.bench.latency, quick { size = "1M", node = 0 })
    methods.placement = real
    assert.is_true(ok, r)
    assert.equal(0.7, r.placement.fraction)
    assert.same({ { node = 0, pages = 7 }, { node = 5, pages = 3 } }, r.placement.pages_by_node)
    assert.matches("only 70.0%% of the 10 pages are on the intended node 0", r.warnings[1])
  end)

  it("returns nil, a message and errno when hugetlb pages are not reserved", function()
    local f = io.open("/proc/sys/vm/nr_hugepages")
    local reserved = f and tonumber(f:read("l")) or 0
    if f then f:close() end
    if reserved > 0 then pending("this machine has huge pages reserved") end
    local r, msg, code = lnuma.bench.latency(quick { size = "2M", huge = "2M" })
    assert.is_nil(r)
    assert.is_string(msg)
    assert.is_number(code)
  end)

  describe("bad arguments", function()
    it("names an unknown option", function()
      assert.has_error(function() lnuma.bench.latency { sise = 10 } end,
        "bad argument #1 to 'latency' (unknown option 'sise')")
    end)
    it("rejects a bad size, node, CPU, pattern and huge page kind", function()
      assert.error_matches(function() lnuma.bench.latency { size = "12X" } end,
        "bad argument #1 to 'latency' (size: '12X' is not a size: unknown unit (use K, M, G or T))",
        1, true)
      assert.error_matches(function() lnuma.bench.latency { size = -1 } end,
        "bad argument #1 to 'latency' (size: size must not be negative)", 1, true)
      assert.has_error(function() lnuma.bench.latency { node = 999 } end,
        "bad argument #1 to 'latency' (node: node 999 does not exist (nodes "
        .. lnuma.cpulist(lnuma.topology().allowed.nodes) .. "))")
      assert.error_matches(function() lnuma.bench.latency { cpu = 100000 } end,
        "bad argument #1 to 'latency' (cpu: CPU 100000 does not exist)", 1, true)
      assert.error_matches(function() lnuma.bench.latency { pattern = "zigzag" } end,
        "bad argument #1 to 'latency' (pattern: 'zigzag' is not one of random, uniform, "
        .. "sequential, stride)", 1, true)
      assert.has_error(function() lnuma.bench.latency { pattern = "stride" } end,
        "bad argument #1 to 'latency' (stride: the stride pattern needs a stride (bytes))")
      assert.error_matches(function() lnuma.bench.latency { huge = "3M" } end,
        "bad argument #1 to 'latency' (huge: '3M' is not a page kind", 1, true)
      assert.error_matches(function() lnuma.bench.latency { repetitions = 1.5 } end,
        "bad argument #1 to 'latency' (repetitions: integer expected, got a fraction)", 1, true)
      assert.error_matches(function() lnuma.bench.latency "4M" end,
        "bad argument #1 to 'latency' (table expected, got string)", 1, true)
    end)
    it("rejects a chase that does not fit", function()
      assert.error_matches(function() lnuma.bench.chase_order(65 * MiB) end,
        "bad argument #1 to 'chase_order' (at most 64 MiB (a debugging aid))", 1, true)
      local r, msg = lnuma.bench.chase_order(64, { line = 64 })
      assert.is_nil(r)
      assert.matches("fewer than two", msg)
    end)
  end)
end)

describe("lnuma.bench.bandwidth", function()
  local ARRAYS = { read = 1, write = 1, write_nt = 1, copy = 2, copy_nt = 2, triad = 3 }

  for kernel, arrays in pairs(ARRAYS) do
    it("counts the bytes of " .. kernel .. " as STREAM does (" .. arrays .. " arrays)", function()
      for _, size in ipairs({ 3 * MiB + 1000, 24 * 1024 + 1000 }) do
        local r = assert(lnuma.bench.bandwidth(quick { kernel = kernel, size = size,
                                                       threads = 1 }))
        -- each array whole pages from 16 KiB (so that each starts on a page), else 512 bytes
        local per_array = size // arrays
        per_array = per_array - per_array % (per_array >= 16384 and 4096 or 512)
        assert.equal(per_array * arrays, r.thread_bytes)
        assert.equal(per_array * arrays * r.passes, r.bytes)
        assert.is_true(r.gbps > 0)
        assert.equal(kernel, r.kernel)
      end
    end)
  end

  it("starts a view off a page at its first page, and counts only what it walked", function()
    local buf <close> = assert(lnuma.alloc(4 * MiB))
    buf:fill(0)
    local view = buf:view(64, 2 * MiB + 4032 + 1000)
    local r = assert(lnuma.bench.bandwidth(quick { kernel = "write", buffer = view, threads = 1,
                                                   order = "pages" }))
    assert.equal(2 * MiB, r.thread_bytes) -- less the 4032 bytes before the page, whole pages
    assert.equal(0, buf:get("f64", 4096 // 8 - 1))
    assert.is_true(buf:get("f64", 4096 // 8) ~= 0)
    assert.is_true(buf:get("f64", (4096 + 2 * MiB) // 8 - 1) ~= 0)
    assert.equal(0, buf:get("f64", (4096 + 2 * MiB) // 8))
  end)

  it("runs its threads on the CPUs asked, and places each part where it ran", function()
    local cpus = allowed_cpus()
    local r = assert(lnuma.bench.bandwidth(quick { kernel = "read", size = "8M", cpus = cpus }))
    assert.same(cpus, r.cpus_ran)
    assert.equal(#cpus, r.threads)
    local topo, nodes = lnuma.topology(), {}
    for _, c in ipairs(cpus) do nodes[topo:node_of_cpu(c)] = true end
    local only = next(nodes)
    assert.equal(next(nodes, only) == nil and only or "local", r.placement.node)
    assert.equal(1.0, r.placement.fraction)
    assert.equal(r.stats.median, r.gbps)
  end)

  it("streams a buffer the caller placed, checked against its policy's nodes", function()
    local nodes = lnuma.topology().allowed.nodes
    local buf <close> = assert(lnuma.alloc("4M", { policy = "interleave", nodes = nodes }))
    local r = assert(lnuma.bench.bandwidth(quick { buffer = buf, kernel = "write" }))
    assert.same(nodes, r.placement.node)
    assert.equal(1.0, r.placement.fraction)
    assert.equal(4 * 1024 * 1024, r.size)
  end)

  it("gives the threads the memory node's CPUs first", function()
    local topo = lnuma.topology()
    local node = topo.allowed.nodes[1]
    local r = assert(lnuma.bench.bandwidth(quick { size = "4M", node = node, threads = 1 }))
    assert.equal(node, topo:node_of_cpu(r.cpus_ran[1]))
    assert.equal(node, r.placement.node)
    assert.equal(1.0, r.placement.fraction)
  end)

  it("runs every ISA this CPU has", function()
    for _, isa in ipairs(lnuma.bench.kernel_info().isas) do
      local r = assert(lnuma.bench.bandwidth(quick { kernel = "triad", size = "1M", isa = isa }))
      assert.equal(isa, r.isa)
    end
  end)

  it("says how it walked, how it counted and whether the figure is memory's", function()
    local r = assert(lnuma.bench.bandwidth(quick { kernel = "copy", size = "4M", threads = 1 }))
    local llc = require("lnuma.llc").of(lnuma.topology(), r.cpus_ran).all
    assert.equal(llc, r.llc)
    assert.equal(llc and "cache" or "unknown", r.scope)
    local text = lnuma.report.text(r)
    assert.matches("walk: " .. r.order .. " order, the fastest in the trials %(median GB/s: "
      .. "linear [%d.]+, pages [%d.]+, split [%d.]+%)", text)
    assert.matches("bytes counted: " .. r.counting:gsub("%p", "%%%0"), text)
    if llc then
      assert.matches("scope: cache: 4M is under 4 times the " .. lnuma.report.size(llc)
        .. " of last%-level cache its CPUs share", text)
    end
  end)

  it("warns when threads must share CPUs", function()
    local n = #allowed_cpus() + 1
    local r = assert(lnuma.bench.bandwidth(quick { size = "4M", threads = n }))
    assert.matches(n .. " threads share", table.concat(r.warnings, "\n"))
  end)

  describe("bad arguments", function()
    it("names the option that is wrong", function()
      assert.has_error(function() lnuma.bench.bandwidth { kernal = "read" } end,
        "bad argument #1 to 'bandwidth' (unknown option 'kernal')")
      assert.has_error(function() lnuma.bench.bandwidth { kernel = "scale" } end,
        "bad argument #1 to 'bandwidth' (kernel: 'scale' is not one of read, write, "
        .. "write_nt, copy, copy_nt, triad)")
      assert.error_matches(function() lnuma.bench.bandwidth { threads = 0 } end,
        "bad argument #1 to 'bandwidth' (threads: must be between 1 and 4096, got 0)", 1, true)
      assert.error_matches(function() lnuma.bench.bandwidth { cpus = "0-x" } end,
        "bad argument #1 to 'bandwidth' (cpus: '0-x': range without an end at '0-x')", 1, true)
      assert.error_matches(function() lnuma.bench.bandwidth { cpus = { 100000 } } end,
        "bad argument #1 to 'bandwidth' (cpus: element 1 is 100000, not a valid index", 1, true)
      assert.error_matches(function() lnuma.bench.bandwidth { cpus = { 0 }, threads = 2 } end,
        "bad argument #1 to 'bandwidth' (threads: 2 threads but 1 CPUs in cpus)", 1, true)
      assert.error_matches(function() lnuma.bench.bandwidth { isa = "mmx" } end,
        "bad argument #1 to 'bandwidth' (isa: 'mmx' is not one of auto, c, sse2, avx2, avx512)",
        1, true)
    end)
    it("says when the memory is too small for the threads", function()
      local r, msg = lnuma.bench.bandwidth { size = 1024, kernel = "triad", threads = 1 }
      assert.is_nil(r)
      assert.matches("too few", msg)
    end)
  end)
end)

describe("lnuma.bench.matrix", function()
  it("plans one row per node with CPUs and one column per node, memory-only included",
     function()
    local topo = lnuma.topology { xml = "spec/fixtures/memory-only-node.xml" }
    local with_cpus, all = {}, {}
    for _, n in ipairs(topo.nodes) do
      all[#all + 1] = n.os_index
      if #n.cpus > 0 then with_cpus[#with_cpus + 1] = n.os_index end
    end
    assert.is_true(#with_cpus < #all) -- the fixture has a memory-only node
    local r = assert(lnuma.bench.matrix { topology = topo, plan = true })
    assert.is_true(r.planned)
    assert.same(with_cpus, r.rows)
    assert.same(all, r.columns)
    assert.equal(#with_cpus, #r.values)
    for _, row in ipairs(r.values) do assert.equal(#all, #row) end
    assert.equal(#with_cpus * #all, #r.cells)
  end)

  it("plans on a synthetic machine with several packages", function()
    local topo = lnuma.topology { synthetic = "pack:2 numa:2 core:2 pu:1" }
    local r = lnuma.bench.matrix { topology = topo, plan = true, metric = "bandwidth" }
    assert.equal(4, #r.rows)
    assert.equal(4, #r.columns)
    assert.same(topo:cpus_of(r.rows[2]), r.cells[5].cpus)
  end)

  it("refuses to measure another machine", function()
    local topo = lnuma.topology { synthetic = "pack:2 numa:2 core:2 pu:1" }
    assert.has_error(function() lnuma.bench.matrix { topology = topo } end,
      "bad argument #1 to 'matrix' (topology: only this machine can be measured: pass "
      .. "plan = true to plan on another topology)")
  end)

  it("measures this machine: a value and a placement fraction of 1 in every cell", function()
    local r = assert(lnuma.bench.matrix(quick { metric = "latency", size = "4M" }))
    local topo = lnuma.topology()
    assert.equal(#topo.allowed.nodes, #r.columns)
    for i = 1, #r.rows do
      for j = 1, #r.columns do
        assert.is_true(r.values[i][j] > 0)
        assert.equal(1.0, r.fractions[i][j])
      end
    end
    assert.equal(1.0, r.placement.fraction)
    local b = assert(lnuma.bench.matrix(quick { metric = "bandwidth", size = "8M" }))
    assert.is_true(b.values[1][1] > 0)
    assert.equal("GB/s (1e9 bytes/s)", b.units.values)
  end)

  it("rejects an unknown metric", function()
    assert.error_matches(function() lnuma.bench.matrix { metric = "power" } end,
      "bad argument #1 to 'matrix' (metric: 'power' is not one of latency, bandwidth)", 1, true)
  end)
end)

describe("lnuma.bench.migration", function()
  it("moves pages between nodes and says so when there is only one", function()
    local nodes = lnuma.topology().allowed.nodes
    local r = assert(lnuma.bench.migration { size = "4M", repetitions = 1 })
    assert.equal(1024, r.pages)
    assert.equal(nodes[#nodes], r.to)
    assert.equal(1.0, r.placement.fraction)
    local text = lnuma.report.text(r)
    if #nodes == 1 then
      assert.equal(0, r.moved)
      assert.matches("same node", r.warnings[1])
      assert.matches("^migration: not measured, no page moved", text)
    else
      assert.equal(1024, r.moved)
      assert.is_true(r.pages_per_s > 0)
      assert.matches("^migration: [%d.]+ pages/s", text)
    end
  end)

  it("reads a rate only where pages moved", function()
    local function result(moved, rate)
      return { benchmark = "migration", size = 4194304, from = 0, to = 1, pages = 1024,
               moved = moved, pages_per_s = rate, gbps = rate * 4096 / 1e9,
               stats = lnuma.bench.stats({ rate }) }
    end
    local moved = lnuma.report.text(result(1024, 2.5e5))
    assert.matches("^migration: 250000 pages/s %(1%.02 GB/s%)  4M from node 0 to node 1", moved)
    assert.matches("median 250000 pages/s", moved, 1, true)
    local none = lnuma.report.text(result(0, 0))
    assert.matches("^migration: not measured, no page moved  %(4M from node 0 to node 1%)", none)
    assert.is_nil(none:find("pages/s", 1, true))
  end)
end)

describe("every result", function()
  it("survives lnuma.report.json and comes back the same", function()
    local r = assert(lnuma.bench.latency(quick { size = "1M" }))
    local back = lnuma.report.decode(lnuma.report.json(r))
    assert.near(r.latency_ns, back.latency_ns, r.latency_ns * 1e-12)
    assert.same(r.placement, back.placement)
    assert.same(r.parameters, back.parameters)
  end)
end)
