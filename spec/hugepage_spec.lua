-- Huge pages, proven: placement says which page sizes back a buffer (and
-- how it knows), and a benchmark result that asked for huge pages says how
-- much of its buffer got them, with a warning when not all did.
local lnuma = require "lnuma"
local sys = dofile("spec/support/sys.lua")
local H = dofile("spec/support/helpers.lua")

local MiB = 1024 * 1024
local PAGE = 4096
local QUICK = { repetitions = 2, min_time = 1000000 }
local METHODS = { "kpageflags", "pagemap_scan", "smaps" }
local EACCES, ENOSYS = 13, 38

local function quick(t) return H.with_defaults(QUICK, t) end

local function sum_bytes(pl)
  local n = 0
  for _, e in ipairs(pl.pages_by_size) do n = n + e.bytes end
  return n
end

local function of_size(pl, size)
  for _, e in ipairs(pl.pages_by_size) do
    if e.page_size == size then return e end
  end
end

-- Pending unless a THP request can get THP in this process.
local function need_thp()
  local t = lnuma.thp()
  if not t.available then pending("this kernel has no transparent huge pages") end
  if t.pmd_enabled == "never" then
    pending("THP mode is 'never' here: a THP request gets none")
  end
  if t.process_disabled then pending("THP is off for this process (prctl)") end
  return t
end

-- Runs fn with THP off for this process, and turns it back on whatever happens.
local function without_thp(fn)
  assert(lnuma.set_thp(false))
  local ok, a, b = pcall(fn)
  assert(lnuma.set_thp(true))
  if not ok then error(a, 0) end
  return a, b
end

-- Counts with a method; nil when this process may not use it (EACCES: not
-- root, ENOSYS: a kernel before 6.7), anything else fails the test.
local function placement_by(buf, method)
  local pl, msg, code = buf:placement { huge_method = method }
  if pl then
    assert.equal(method, pl.huge_method)
    return pl
  end
  assert.is_true(code == EACCES or code == ENOSYS, tostring(msg))
  return nil
end

local has_warning = H.warning

describe("buf:placement() page sizes", function()
  it("reports a base-page buffer as all 4 KiB pages and huge_fraction 0", function()
    local buf <close> = assert(lnuma.alloc(4 * MiB, { huge = false }))
    local pl = buf:placement()
    assert.same({ { page_size = PAGE, pages = 1024, bytes = 4 * MiB } }, pl.pages_by_size)
    assert.equal(0, pl.huge_bytes)
    assert.equal(0, pl.huge_fraction)
    assert.equal(PAGE, pl.page_size)
    assert.is_truthy(({ kpageflags = 1, pagemap_scan = 1, smaps = 1 })[pl.huge_method])
    assert.equal(pl.huge_method == "smaps" and "mapping" or "range", pl.huge_scope)
  end)

  it("keeps huge = false on base pages by every method (MADV_NOHUGEPAGE)", function()
    local buf <close> = assert(lnuma.alloc(16 * MiB, { huge = false }))
    assert.equal(0, sys.smaps(buf:address()).AnonHugePages)
    for _, m in ipairs(METHODS) do
      local pl = placement_by(buf, m)
      if pl then
        assert.equal(0, pl.huge_bytes, m)
        assert.equal(1, #pl.pages_by_size, m)
        assert.equal(PAGE, pl.pages_by_size[1].page_size, m)
      end
    end
  end)

  it("reports a 64M THP buffer on huge pages, the sizes summing to the range", function()
    local t = need_thp()
    local buf <close> = assert(lnuma.alloc(64 * MiB, { huge = "thp" }))
    local pl = buf:placement()
    local pmd = assert(of_size(pl, t.pmd_size), "no " .. t.pmd_size .. "-byte pages")
    assert.is_true(pmd.pages > 0)
    assert.equal(pmd.pages * t.pmd_size, pmd.bytes)
    assert.is_true(pl.huge_bytes >= pmd.bytes)
    assert.is_true(pl.huge_fraction > 0 and pl.huge_fraction <= 1)
    assert.equal(64 * MiB, sum_bytes(pl))
    for i = 2, #pl.pages_by_size do
      assert.is_true(pl.pages_by_size[i - 1].page_size < pl.pages_by_size[i].page_size)
    end
    -- The kernel's own count of the mapping agrees.
    local anon = sys.smaps(buf:address()).AnonHugePages * 1024
    assert.is_true(anon >= pmd.bytes, ("AnonHugePages %d < %d"):format(anon, pmd.bytes))
  end)

  it("counts the same huge pages by every method this process may use", function()
    local t = need_thp()
    local buf <close> = assert(lnuma.alloc(8 * MiB, { huge = "thp" }))
    local used = 0
    for _, m in ipairs(METHODS) do
      local pl = placement_by(buf, m)
      if pl then
        used = used + 1
        assert.equal(m == "smaps" and "mapping" or "range", pl.huge_scope)
        assert.same({ page_size = t.pmd_size, pages = 4, bytes = 8 * MiB },
                    of_size(pl, t.pmd_size), m)
        assert.equal(1, pl.huge_fraction, m)
      end
    end
    assert.is_true(used >= 1) -- smaps is everywhere
  end)

  it("counts a view inside a huge page as part of that one page", function()
    local t = need_thp()
    local buf <close> = assert(lnuma.alloc(4 * MiB, { huge = "thp" }))
    local view = buf:view(t.pmd_size // 4, t.pmd_size // 2)
    local pl = view:placement()
    if pl.huge_scope ~= "range" then
      pending("only smaps is usable here, and it counts the whole mapping")
    end
    assert.same({ { page_size = t.pmd_size, pages = 1, bytes = t.pmd_size // 2 } },
                pl.pages_by_size)
    assert.equal(1, pl.huge_fraction)
  end)

  it("reports the page sizes of arenas and pools (one method body)", function()
    local arena <close> = assert(lnuma.arena { size = 4 * MiB, huge = false })
    local pool <close> = assert(lnuma.pool { size = 64, count = 1024, huge = false })
    for _, pl in ipairs { arena:placement(), pool:placement() } do
      assert.equal(PAGE, pl.pages_by_size[1].page_size)
      assert.equal(0, pl.huge_fraction)
      assert.is_string(pl.huge_method)
    end
  end)

  it("rejects a bad huge_method and unknown options", function()
    local buf <close> = assert(lnuma.alloc(PAGE))
    assert.error_matches(function() buf:placement { huge_method = "guess" } end,
      "huge_method: invalid value 'guess' %(expected one of \"auto\", \"kpageflags\"")
    assert.error_matches(function() buf:placement { huge_methods = "smaps" } end,
      "unknown option 'huge_methods'")
    assert.error_matches(function() lnuma.set_thp("off") end,
      "bad argument #1 to 'set_thp' %(boolean expected, got string%)")
  end)

  it("does not crash when reading the options frees the buffer", function()
    local buf = assert(lnuma.alloc(PAGE))
    local opts = setmetatable({}, { __index = function() buf:free() end })
    assert.error_matches(function() buf:placement(opts) end, "attempt to use a freed buffer")
    local other = assert(lnuma.alloc(PAGE))
    local nodes = setmetatable({}, { __len = function() other:free(); return 1 end,
                                     __index = function() return 0 end })
    assert.error_matches(function() other:migrate(nodes) end, "attempt to use a freed buffer")
  end)
end)

describe("lnuma.thp()", function()
  it("gives the kernel's THP modes and the PMD size", function()
    local t = lnuma.thp()
    assert.is_true(t.pmd_size >= 2 * MiB or t.pmd_size > PAGE)
    assert.equal(sys.status("THP_enabled") == "0", t.process_disabled)
    if not t.available then pending("this kernel has no transparent huge pages") end
    assert.equal(sys.thp_mode(), t.enabled)
    local defrag = sys.read("/sys/kernel/mm/transparent_hugepage/defrag")
    assert.equal(defrag:match("%[([%w+]+)%]"), t.defrag)
    assert.is_truthy(({ always = 1, madvise = 1, never = 1 })[t.pmd_enabled])
  end)

  it("switches THP off for this process with set_thp(false), and back on", function()
    need_thp()
    without_thp(function()
      assert.is_true(lnuma.thp().process_disabled)
      assert.equal("0", sys.status("THP_enabled"))
      local buf <close> = assert(lnuma.alloc(8 * MiB, { huge = "thp" }))
      assert.equal(0, buf:placement().huge_bytes)
    end)
    assert.is_false(lnuma.thp().process_disabled)
  end)
end)

describe("benchmark results", function()
  it("carry the page sizes of their buffer in placement", function()
    local r = assert(lnuma.bench.latency(quick { size = "8M", huge = "thp" }))
    local p = r.placement
    assert.equal("thp", p.huge_asked)
    assert.is_string(p.huge_method)
    assert.is_table(p.pages_by_size)
    assert.is_number(p.huge_fraction)
    assert.equal(8 * MiB, sum_bytes(p))
    local back = lnuma.report.decode(lnuma.report.json(r))
    assert.same(p.pages_by_size, back.placement.pages_by_size)
    local t = lnuma.thp()
    if t.available and t.pmd_enabled ~= "never" and not t.process_disabled then
      assert.is_true(p.huge_bytes > 0)
      if p.huge_fraction == 1 then assert.is_nil(has_warning(r, "asked for THP")) end
    end
    assert.matches("\npages: [%d, x%a]+ %(%d+%.%d%% huge, %a", lnuma.report.text(r))
  end)

  it("say huge_asked = false and warn about nothing when no huge pages were asked", function()
    local r = assert(lnuma.bench.latency(quick { size = "4M", huge = false }))
    assert.is_false(r.placement.huge_asked)
    assert.equal(0, r.placement.huge_fraction)
    assert.is_nil(has_warning(r, "asked for"))
  end)

  it("warn 'asked for THP and got none' when the request got no huge page", function()
    need_thp()
    local r = without_thp(function()
      return assert(lnuma.bench.latency(quick { size = "4M", huge = "thp" }))
    end)
    assert.equal(0, r.placement.huge_fraction)
    local w = has_warning(r, "^asked for THP and got none")
    assert.is_string(w, "warnings: " .. table.concat(r.warnings, " | "))
    assert.matches("1024 x 4K pages", w)
    assert.matches("THP mode: %a+; defrag: [%w+]+; THP is off for this process", w)
  end)
end)

describe("applied plans", function()
  it("report the page sizes of each region", function()
    local path = os.tmpname()
    finally(function() os.remove(path) end)
    local f = assert(io.open(path, "w"))
    f:write("return { memory = {\n",
            "  { name = 'book', size = '8M', node = topology.allowed.nodes[1], huge = 'thp' },\n",
            "  { name = 'ring', size = '1M', node = topology.allowed.nodes[1], huge = false },\n",
            "} }\n")
    f:close()
    local plan = assert(lnuma.plan.load(path))
    local applied = assert(plan:apply())
    finally(function()
      for _, b in pairs(applied.memory) do b:free() end
    end)
    local book, ring = applied.report.memory[1].got, applied.report.memory[2].got
    assert.same({ { page_size = PAGE, pages = 256, bytes = MiB } }, ring.pages_by_size)
    assert.equal(0, ring.huge_fraction)
    assert.is_string(book.huge_method)
    local t = lnuma.thp()
    if t.available and t.pmd_enabled ~= "never" and not t.process_disabled then
      assert.is_true(book.huge_fraction > 0)
    end
  end)
end)

describe("hugetlb pages", function()
  it("returns nil and a message when no 2M pages are reserved", function()
    if sys.hugepages_free(2048) > 0 then pending("2M huge pages are reserved here") end
    local buf, msg, code = lnuma.alloc(4 * MiB, { huge = "2M" })
    assert.is_nil(buf)
    assert.equal("integer", math.type(code))
    assert.matches("nr_hugepages", msg)
  end)

  it("counts reserved 2M pages at their size (reserving 2 for the test as root)", function()
    local path = "/proc/sys/vm/nr_hugepages"
    local before
    if sys.hugepages_free(2048) < 2 then
      before = tonumber(sys.read(path) or "")
      local f = before and io.open(path, "w")
      if not f then pending("no 2M pages reserved, and this process may not reserve them") end
      f:write(tostring(before + 2), "\n")
      f:close()
    end
    finally(function()
      if before then
        local f = assert(io.open(path, "w"))
        f:write(tostring(before), "\n")
        f:close()
      end
    end)
    if sys.hugepages_free(2048) < 2 then pending("the kernel could not reserve 2M pages") end
    local buf = assert(lnuma.alloc(4 * MiB, { huge = "2M" }))
    local pl = buf:placement()
    assert.same({ { page_size = 2 * MiB, pages = 2, bytes = 4 * MiB } }, pl.pages_by_size)
    assert.equal(1, pl.huge_fraction)
    assert.equal(2 * MiB, pl.page_size)
    buf:free()
    local r = assert(lnuma.bench.latency(quick { size = "2M", huge = "2M" }))
    assert.equal("2M", r.placement.huge_asked)
    assert.equal(1, r.placement.huge_fraction)
    assert.is_nil(has_warning(r, "asked for"))
  end)
end)

describe("huge pages on another node #multinode", function()
  it("proves THP on the node the buffer is bound to", function()
    local nodes = sys.memory_nodes()
    if #nodes < 2 then pending("needs ≥2 NUMA nodes: runs in the emulated machines") end
    local t = need_thp()
    local node = nodes[#nodes]
    local buf <close> = assert(lnuma.alloc(8 * MiB, { node = node, huge = "thp" }))
    local pl = buf:placement()
    assert.equal(2048, pl.by_node[node])
    assert.is_true(of_size(pl, t.pmd_size).pages > 0)
    assert.equal(8 * MiB, sum_bytes(pl))
  end)
end)
