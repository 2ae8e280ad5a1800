-- The latency chase does what its documentation says: the numbers in
-- `describe_chase`'s sentence (block size, loads per visit, pair size) are
-- read back from it and checked against the order the C core really builds
-- (lnuma.bench.chase_order), so the words cannot drift from the code.  The
-- comparison with an independent chaser is a benchmark (make bench,
-- spec/bench/latency_agree.lua), not run here.
local lnuma = require "lnuma"

local KIB = 1024

-- The documented geometry of a "random" chase, parsed from its description.
local function documented(size, line)
  local d = lnuma.bench.describe_chase { pattern = "random", size = size, line = line }
  local l, block = d:match("^(%d+)%-byte lines in (%d+)%-byte blocks")
  local visit = d:match("a visit makes (%d+) dependent loads in its block")
  local pair = d:match("one line of each (%d+)%-byte pair")
  assert(l and block and visit and pair, "description not understood: " .. d)
  assert.matches("passes through all %d+ blocks twice", d)
  return { line = tonumber(l), block = tonumber(block), visit = tonumber(visit),
           pair = tonumber(pair), text = d }
end

-- The order cut into visits: the rotation at which every run of `visit`
-- loads stays in one block (the order starts at slot 0, maybe mid-visit).
local function visits(order, per_block, visit)
  local n = #order
  for offset = 0, visit - 1 do
    local out, ok = {}, true
    for v = 0, n // visit - 1 do
      local first = order[(offset + v * visit) % n + 1]
      local block = first // per_block
      local lines = {}
      for k = 0, visit - 1 do
        local slot = order[(offset + v * visit + k) % n + 1]
        if slot // per_block ~= block then ok = false break end
        lines[#lines + 1] = slot % per_block
      end
      if not ok then break end
      out[#out + 1] = { block = block, lines = lines }
    end
    if ok then return out end
  end
end

local function every_slot_once(order, n)
  assert.equal(n, #order)
  local seen = {}
  for _, s in ipairs(order) do
    assert.is_nil(seen[s], "slot " .. s .. " visited twice")
    assert.is_true(s >= 0 and s < n, "slot " .. s .. " out of range")
    seen[s] = true
  end
end

describe("the 'random' chase, as documented", function()
  for _, line in ipairs({ 64, 128 }) do
    local size = 16 * 4096
    it(("visits each block twice, one line of each pair per visit (%d-byte lines)")
      :format(line), function()
      local doc = documented(size, line)
      assert.equal(line, doc.line)
      assert.equal(lnuma.bench.kernel_info().chase_block, doc.block)
      assert.equal(2 * line, doc.pair)
      local per_block = doc.block // line
      assert.equal(per_block // 2, doc.visit)
      local order = assert(lnuma.bench.chase_order(size, { pattern = "random", line = line,
                                                           seed = 7 }))
      every_slot_once(order, size // line)
      local vs = visits(order, per_block, doc.visit)
      assert.is_not_nil(vs, "no rotation cuts the cycle into visits of " .. doc.visit
        .. " loads in one block")
      local nblocks = size // doc.block
      assert.equal(2 * nblocks, #vs)
      local count, by_block = {}, {}
      for _, v in ipairs(vs) do
        count[v.block] = (count[v.block] or 0) + 1
        -- one line of each pair: the pair indexes of a visit are all distinct
        local pairs_seen = {}
        for _, l in ipairs(v.lines) do
          local p = l // (doc.pair // line)
          assert.is_nil(pairs_seen[p], "two lines of one pair in a visit")
          pairs_seen[p] = true
        end
        by_block[v.block] = by_block[v.block] or {}
        table.insert(by_block[v.block], v.lines)
      end
      for b = 0, nblocks - 1 do
        assert.equal(2, count[b], "block " .. b .. " is not visited exactly twice")
        -- the second visit takes the other line of every pair
        local all = {}
        for _, lines in ipairs(by_block[b]) do
          for _, l in ipairs(lines) do all[l] = true end
        end
        for l = 0, per_block - 1 do assert.is_true(all[l], "line " .. l .. " never loaded") end
      end
    end)
  end

  it("passes through every block before any block's second visit", function()
    local size, doc = 32 * 4096, documented(32 * 4096, 64)
    local order = assert(lnuma.bench.chase_order(size, { pattern = "random", seed = 11 }))
    local vs = visits(order, doc.block // 64, doc.visit)
    local nblocks = size // doc.block
    -- some rotation of the visits is two passes, each a permutation of the blocks
    local found = false
    for start = 0, #vs - 1 do
      local ok = true
      for pass = 0, 1 do
        local seen = {}
        for i = 0, nblocks - 1 do
          local b = vs[(start + pass * nblocks + i) % #vs + 1].block
          if seen[b] then ok = false end
          seen[b] = true
        end
      end
      if ok then found = true break end
    end
    assert.is_true(found, "the visits are not two passes over the blocks")
  end)

  it("leaves the bytes past the last whole block unvisited, as the description says", function()
    local size = 4 * 4096 + 100
    local d = lnuma.bench.describe_chase { pattern = "random", size = size }
    assert.matches("the last 100 bytes %(less than a block%) are not visited", d)
    local order = assert(lnuma.bench.chase_order(size, { pattern = "random" }))
    every_slot_once(order, 4 * 4096 // 64)
  end)

  it("is described, and built, as uniform below two blocks", function()
    local d = lnuma.bench.describe_chase { pattern = "random", size = 4 * KIB }
    assert.matches("^one random cycle", d)
    local order = assert(lnuma.bench.chase_order(4 * KIB, { pattern = "random" }))
    every_slot_once(order, 64)
  end)
end)

describe("the 'uniform' chase, as documented", function()
  it("visits every line once per cycle, anywhere in the buffer", function()
    local size = 64 * KIB
    local d = lnuma.bench.describe_chase { pattern = "uniform", size = size }
    local n, line = d:match("through all (%d+) (%d+)%-byte lines")
    assert.equal(size // 64, tonumber(n))
    assert.equal(64, tonumber(line))
    local order = assert(lnuma.bench.chase_order(size, { pattern = "uniform", seed = 5 }))
    every_slot_once(order, size // 64)
    -- not grouped by page: few consecutive loads share a 4 KiB block (1 in 16
    -- expected here; grouped chases would give 31 in 32)
    local same = 0
    for i = 2, #order do
      if order[i] // 64 == order[i - 1] // 64 then same = same + 1 end
    end
    assert.is_true(same / #order < 0.2, ("%d of %d loads stay in their block"):format(same,
      #order))
  end)
end)

describe("lnuma.bench.describe_chase: the other chasers' settings", function()
  it("gives multichase the same loads for uniform: one TLB group of the whole buffer", function()
    local _, eq = lnuma.bench.describe_chase { pattern = "uniform", size = 256 * 1024 * KIB }
    local m = eq.multichase
    assert.same({ 268435456, 64, 268435456, true }, { m.m, m.s, m.T, m.exact })
    assert.equal("multichase -m 256m -s 64 -T 256m", m.command)
  end)

  it("gives multichase a 128-byte stride in 4 KiB TLB groups for random", function()
    local _, eq = lnuma.bench.describe_chase { pattern = "random", size = 1024 * KIB,
                                               huge = "thp" }
    local m = eq.multichase
    assert.same({ 1048576, 128, 4096, true, false }, { m.m, m.s, m.T, m.H, m.exact })
    assert.equal("multichase -m 1m -s 128 -T 4k -H", m.command)
    assert.matches("visits each group once", m.note)
    assert.equal("mlc --idle_latency -b1024 -r -l128 -D4096", eq.mlc.command)
    assert.is_nil(eq.lat_mem_rd.command)
  end)

  it("names hugetlb pages with multichase's -p", function()
    local _, eq = lnuma.bench.describe_chase { pattern = "uniform", size = 4 * 1024 * KIB,
                                               huge = "2M" }
    assert.equal("multichase -m 4m -s 64 -T 4m -p 2m", eq.multichase.command)
    assert.equal("lat_mem_rd -t 4 64", eq.lat_mem_rd.command)
  end)
end)

describe("lnuma.bench.describe_chase: bad arguments", function()
  it("names the option it rejects", function()
    assert.has_error(function() lnuma.bench.describe_chase { sise = 4096 } end,
      "bad argument #1 to 'describe_chase' (unknown option 'sise')")
    assert.has_error(function() lnuma.bench.describe_chase { pattern = "zigzag" } end,
      "bad argument #1 to 'describe_chase' (pattern: 'zigzag' is not one of random, "
      .. "uniform, sequential, stride)")
    assert.has_error(function() lnuma.bench.describe_chase { line = 48 } end,
      "bad argument #1 to 'describe_chase' (line: 48 is not a power of two >= 8)")
    assert.has_error(function() lnuma.bench.describe_chase { pattern = "stride" } end,
      "bad argument #1 to 'describe_chase' (stride: the stride pattern needs a stride "
      .. "(bytes), a multiple of the line)")
    assert.has_error(function() lnuma.bench.describe_chase { size = -1 } end,
      "bad argument #1 to 'describe_chase' (size: size must not be negative)")
  end)

  it("describes latency's default chase without options", function()
    local d, eq = lnuma.bench.describe_chase()
    local size = require("lnuma.llc").latency_size(lnuma.topology())
    assert.matches(("passes through all %d blocks twice"):format(size // 4096), d)
    assert.equal(size, eq.multichase.m)
    assert.matches("^multichase %-m %d+[mg] %-s 128 %-T 4k$", eq.multichase.command)
  end)
end)

describe("a latency result", function()
  it("carries pattern_description and equivalents for its pattern and size", function()
    for _, pattern in ipairs({ "random", "uniform" }) do
      local r = assert(lnuma.bench.latency { size = "64K", pattern = pattern, repetitions = 1,
                                             min_time = 100000, chunks = 2 })
      local d, eq = lnuma.bench.describe_chase { pattern = pattern, size = 64 * KIB }
      assert.equal(d, r.pattern_description)
      assert.same(eq, r.equivalents)
      assert.equal(64 * KIB, r.equivalents.multichase.m)
      -- it survives the JSON report, and the summary names the other chasers' commands
      assert.matches('"equivalents":{', lnuma.report.json(r), 1, true)
      local line = lnuma.report.text(r):match("other chasers, [^\n]*")
      assert.is_string(line)
      local kind = eq.multichase.exact and "the same loads: " or "nearest: "
      assert.matches(kind, line, 1, true)
      assert.matches(eq.multichase.command, line, 1, true)
    end
  end)

  it("leaves out of its medians the chunks during which another task ran on its CPU", function()
    local cpu = lnuma.topology().allowed.cpus[1]
    if not os.execute("command -v taskset >/dev/null && command -v timeout >/dev/null") then
      pending("needs taskset and timeout to run a competing task on the CPU")
      return
    end
    -- a busy loop on the same CPU for a second: the scheduler alternates it
    -- with the chasing thread, a few milliseconds each
    os.execute(("timeout 1 taskset -c %d sh -c 'while :; do :; done' &"):format(cpu))
    local r = assert(lnuma.bench.latency { size = "64K", cpu = cpu, repetitions = 3,
                                           min_time = 20000000 })
    assert.is_true(r.chunks.switched > 0, "no chunk was switched out")
    assert.is_true(r.chunks.switched < r.chunks.count)
    -- a switched chunk timed the busy loop too: the mean over all chunks is
    -- far above the median of the others, which is the figure
    for i, rep in ipairs(r.repetitions) do
      assert.is_true(rep <= r.chunks.max and rep >= r.chunks.min)
      assert.is_true(r.mean_ns[i] > rep)
    end
    assert.is_true(lnuma.bench.stats(r.mean_ns).median > 1.5 * r.latency_ns,
      ("mean %.2f, median %.2f"):format(lnuma.bench.stats(r.mean_ns).median, r.latency_ns))
  end)
end)
