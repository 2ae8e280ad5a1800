-- result.provenance: the conditions every result records (kernel, THP, NUMA
-- balancing, cpufreq, SMT, cgroup, hugetlb, clock, hypervisor, lnuma's build),
-- checked against /proc and /sys read here; and `lnuma report A B`, which
-- says which conditions differ before it compares the figures.
local lnuma = require "lnuma"
local provenance = require "lnuma.provenance"
local sys = dofile("spec/support/sys.lua")

local LUA = os.getenv("LUA") or "lua5.4"

local function line(path)
  local text = sys.read(path)
  return text and (text:gsub("%s+$", "")) or nil
end

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Runs bin/lnuma; returns stdout, stderr and the exit code.
local function run(args)
  local err = os.tmpname()
  local p = assert(io.popen(LUA .. " bin/lnuma " .. args .. " 2>" .. err))
  local out = p:read("a")
  local _, _, code = p:close()
  local errtext = sys.read(err) or ""
  os.remove(err)
  return out, errtext, code
end

local TINY = { size = "1M", repetitions = 2, min_time = 1000000 }

local function tiny(extra)
  local o = {}
  for k, v in pairs(TINY) do o[k] = v end
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

describe("result.provenance", function()
  local r = assert(lnuma.bench.latency(tiny()))
  local p = r.provenance

  it("names lnuma's version and build: the ISA its kernels pick, the compiler", function()
    assert.equal(lnuma._VERSION, p.lnuma.version)
    local ki = lnuma.bench.kernel_info()
    assert.equal(ki.best_isa, p.lnuma.isa)
    assert.same(ki.isas, p.lnuma.isas)
    assert.is_string(p.lnuma.compiler)
  end)

  it("names the kernel, the host and the CPU as /proc does", function()
    assert.equal(line("/proc/sys/kernel/osrelease"), p.kernel.release)
    assert.equal(line("/proc/sys/kernel/hostname"), p.host)
    assert.is_string(p.cpu.model)
  end)

  it("records the THP mode and defrag setting, and NUMA balancing", function()
    local mode = (line("/sys/kernel/mm/transparent_hugepage/enabled") or ""):match("%[(%a+)%]")
    assert.equal(mode or "absent", p.thp.enabled)
    local defrag = (line("/sys/kernel/mm/transparent_hugepage/defrag") or ""):match("%[([%a+]+)%]")
    assert.equal(defrag or "absent", p.thp.defrag)
    local nb = line("/proc/sys/kernel/numa_balancing")
    assert.equal(nb and tonumber(nb) or "unknown", p.numa_balancing)
  end)

  it("records cpufreq, SMT, the cgroup's limits and the hypervisor, 'unknown' where unread",
     function()
    for _, k in ipairs({ "governor", "cur_khz", "max_khz" }) do
      assert.is_not_nil(p.cpufreq[k], k)
    end
    local smt = line("/sys/devices/system/cpu/smt/active")
    if smt then
      assert.equal(smt == "1", p.smt.active)
    else
      assert.equal("unknown", p.smt.active)
    end
    assert.is_not_nil(p.cgroup.version)
    assert.is_not_nil(p.cgroup.cpus)
    assert.is_not_nil(p.cgroup.memory_max)
    local flags = sys.read("/proc/cpuinfo"):match("\nflags%s*:([^\n]*)")
    if flags then
      assert.equal(flags:find(" hypervisor", 1, true) ~= nil, p.hypervisor.present)
    end
  end)

  it("records the hugetlb pages reserved per node and size", function()
    assert.is_true(#p.hugetlb >= 0)
    for _, h in ipairs(p.hugetlb) do
      local n = line(("/sys/devices/system/node/node%d/hugepages/hugepages-%dkB/nr_hugepages")
        :format(h.node, h.page_size // 1024))
      assert.equal(tonumber(n), h.reserved)
    end
  end)

  it("records the clock source and its frequency, as the result's clock does", function()
    assert.equal(r.clock.source, p.clock.source)
    assert.equal(r.clock.hz, p.clock.hz)
    assert.equal(line("/sys/devices/system/clocksource/clocksource0/current_clocksource"),
                 p.clock.kernel_clocksource)
  end)

  it("is read once per process and copied into every result", function()
    local r2 = assert(lnuma.bench.bandwidth(tiny()))
    assert.same(p, r2.provenance)
    assert.is_false(rawequal(p, r2.provenance))
    r2.provenance.host = "changed"
    assert.is_not.equal("changed", lnuma.provenance().host)
  end)

  it("is in every benchmark's result and survives JSON", function()
    local results = {
      r,
      assert(lnuma.bench.migration { size = "1M", repetitions = 2 }),
      assert(lnuma.bench.latency_curve { sizes = { 65536 }, repetitions = 1,
                                         min_time = 1000000, progress = false }),
    }
    if #lnuma.topology().allowed.cpus >= 2 then
      results[#results + 1] = assert(lnuma.bench.c2c { samples = 1, roundtrips = 10 })
    end
    for _, x in ipairs(results) do
      assert.is_table(x.provenance, x.benchmark)
      assert.is_table(x.doubts, x.benchmark)
      local back = assert(lnuma.report.decode(lnuma.report.json(x)))
      assert.same({}, provenance.diff(x.provenance, back.provenance))
    end
  end)
end)

describe("lnuma.provenance.diff", function()
  local p = lnuma.provenance()

  it("finds no difference between a provenance and itself", function()
    assert.same({}, provenance.diff(p, lnuma.provenance()))
  end)

  it("names each field that differs, with both values", function()
    local q = lnuma.provenance()
    q.thp.enabled = p.thp.enabled == "always" and "never" or "always"
    q.numa_balancing = 1
    p.numa_balancing = 0
    local d = provenance.diff(p, q)
    assert.equal(2, #d)
    assert.same({ field = "numa_balancing", a = 0, b = 1 }, d[1])
    assert.equal("thp.enabled", d[2].field)
    assert.equal("thp.enabled: " .. p.thp.enabled .. " -> " .. q.thp.enabled,
                 provenance.diff_lines(d)[2])
  end)

  it("takes clock frequencies within 0.1% as the same, and a missing provenance as absent",
     function()
    local q = lnuma.provenance()
    q.clock.hz = math.floor(p.clock.hz * 1.0001)
    assert.same({}, provenance.diff(p, q))
    q.clock.hz = p.clock.hz * 2
    assert.equal("clock.hz", provenance.diff(p, q)[1].field)
    local d = provenance.diff(p, nil)
    assert.is_true(#d > 10)
    assert.equal("absent", d[1].b)
  end)

  it("keys hugetlb reservations by node and size, not by their order", function()
    local a = { hugetlb = { { node = 0, size = "2M", reserved = 4 },
                            { node = 1, size = "2M", reserved = 0 } } }
    local b = { hugetlb = { { node = 1, size = "2M", reserved = 0 },
                            { node = 0, size = "2M", reserved = 8 } } }
    assert.same({ { field = "hugetlb.node0.2M", a = 4, b = 8 } }, provenance.diff(a, b))
  end)
end)

describe("lnuma report A.json B.json", function()
  local dir = os.tmpname()
  os.remove(dir)
  assert(lnuma.mkdir(dir))

  local function save(name, x)
    local path = dir .. "/" .. name
    assert(lnuma.report.save(x, path))
    return path
  end

  it("says which conditions differ, then compares the figures", function()
    local a = assert(lnuma.bench.latency(tiny()))
    local b = assert(lnuma.bench.latency(tiny { size = "2M" }))
    b.provenance.thp.enabled = "changed-mode"
    b.provenance.cgroup.memory_max = 12345
    local out, err, code = run("report " .. sh_quote(save("a.json", a)) .. " "
                               .. sh_quote(save("b.json", b)))
    assert.equal(0, code, err)
    assert.matches("Conditions that differ %(2%):", out)
    assert.matches("cgroup.memory_max: [^\n]* %-> 12345", out)
    assert.matches("thp.enabled: %a+ %-> changed%-mode", out)
    assert.matches("Parameters that differ %(1%):\n  size: 1048576 %-> 2097152", out)
    local conditions, figures = out:find("Conditions", 1, true), out:find("Figures", 1, true)
    assert.is_true(conditions < figures)
    assert.matches("latency +ns", out)
  end)

  it("says when the conditions are the same, and when the benchmarks differ", function()
    local a = assert(lnuma.bench.latency(tiny()))
    local b = assert(lnuma.bench.bandwidth(tiny()))
    local out, err, code = run("report " .. sh_quote(save("a.json", a)) .. " "
                               .. sh_quote(save("c.json", b)))
    assert.equal(0, code, err)
    assert.matches("Conditions: the same.", out, 1, true)
    assert.matches("different benchmarks: no figure to compare", out, 1, true)
  end)

  it("says which result has no provenance (saved by an older lnuma)", function()
    local a = assert(lnuma.bench.latency(tiny()))
    local old = assert(lnuma.bench.latency(tiny()))
    old.provenance = nil
    local out, err, code = run("report " .. sh_quote(save("a.json", a)) .. " "
                               .. sh_quote(save("old.json", old)))
    assert.equal(0, code, err)
    assert.matches("B has no provenance", out, 1, true)
    assert.matches("latency +ns", out)
  end)

  it("refuses --svg with two files", function()
    local _, err, code = run("report " .. sh_quote(dir .. "/a.json") .. " "
                             .. sh_quote(dir .. "/a.json") .. " --svg x.svg")
    assert.is_not.equal(0, code)
    assert.matches("--svg and --csv: only with one file", err, 1, true)
    os.execute("rm -rf " .. sh_quote(dir))
  end)
end)
