-- lnuma.has, lnuma.sysinfo and lnuma.mkdir: the system facts the C core
-- reads, checked against /proc and /sys read here, independently.
local lnuma = require "lnuma"
local sys = dofile("spec/support/sys.lua")

local function line(path)
  local text = sys.read(path)
  return text and (text:gsub("%s+$", "")) or nil
end

local function selected(path) -- "always [madvise] never" -> "madvise"
  local text = line(path)
  return text and text:match("%[([%w+]+)%]") or nil
end

local function cpuinfo_flags()
  local flags = {}
  for l in io.lines("/proc/cpuinfo") do
    local list = l:match("^flags%s*:%s*(.*)$")
    if list then
      for f in list:gmatch("%S+") do flags[f] = true end
      break
    end
  end
  return flags
end

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function exists(path) return os.execute("test -d " .. sh_quote(path)) == true end

describe("lnuma.has (what this machine can do)", function()
  local has = lnuma.has

  it("is plain data that survives JSON", function()
    local back = assert(lnuma.report.decode(lnuma.report.json(has)))
    assert.same(has.thp_mode, back.thp_mode)
    assert.same(#has.hugetlb, #back.hugetlb)
    for k, v in pairs(has) do
      assert.is_not.equal("function", type(v), k)
    end
  end)

  it("gives the THP mode and defrag setting of /sys/kernel/mm/transparent_hugepage", function()
    local mode = selected("/sys/kernel/mm/transparent_hugepage/enabled")
    if not mode then
      assert.is_nil(has.thp_mode)
      assert.is_false(has.thp)
      return
    end
    assert.equal(mode, has.thp_mode)
    assert.equal(selected("/sys/kernel/mm/transparent_hugepage/defrag"), has.thp_defrag)
    if mode == "never" then assert.is_false(has.thp) end
  end)

  it("gives the hugetlb pages reserved on every node, of every size", function()
    local want = 0
    for _, node in ipairs(sys.nodes()) do
      for _, kb in ipairs({ 2048, 1048576 }) do
        local n = line(("/sys/devices/system/node/node%d/hugepages/hugepages-%dkB/nr_hugepages")
          :format(node, kb))
        if n then
          want = want + 1
          local found
          for _, h in ipairs(has.hugetlb) do
            if h.node == node and h.page_size == kb * 1024 then found = h end
          end
          assert.is_table(found, ("node %d, %d kB"):format(node, kb))
          assert.equal(tonumber(n), found.reserved)
          assert.equal(kb == 2048 and "2M" or "1G", found.size)
        end
      end
    end
    assert.equal(want, #has.hugetlb)
  end)

  it("says whether kernel NUMA balancing is on, as /proc/sys/kernel/numa_balancing does",
     function()
    local v = line("/proc/sys/kernel/numa_balancing")
    if not v then
      assert.is_nil(has.numa_balancing)
    else
      assert.equal(v ~= "0", has.numa_balancing)
      assert.equal(tonumber(v), lnuma.sysinfo().numa_balancing)
    end
  end)

  it("says whether the kernel has weighted interleave", function()
    assert.equal(exists("/sys/kernel/mm/mempolicy/weighted_interleave"),
                 has.weighted_interleave)
  end)

  it("says whether move_pages answers, and placement agrees", function()
    assert.is_boolean(has.move_pages)
    local buf = assert(lnuma.alloc("64K"))
    local pl = buf:placement()
    buf:free()
    assert.equal(has.move_pages, pl ~= nil and pl.by_node ~= nil)
  end)

  it("gives AVX2, AVX-512, RDTSCP, invariant TSC and the hypervisor as /proc/cpuinfo does",
     function()
    if not sys.read("/proc/cpuinfo"):match("\nflags") then
      pending("/proc/cpuinfo has no flags line (not x86)")
      return
    end
    local flags = cpuinfo_flags()
    assert.equal(flags.avx2 == true, has.avx2)
    assert.equal(flags.avx512f == true, has.avx512)
    -- RDTSCP is used only where the kernel lists it (a VM may hide it)
    if not flags.rdtscp then assert.is_false(has.rdtscp) end
    if flags.constant_tsc and flags.nonstop_tsc then assert.is_true(has.invariant_tsc) end
    assert.equal(flags.hypervisor == true, has.hypervisor ~= false)
    local kinfo = lnuma.bench.kernel_info()
    assert.equal(kinfo.best_isa, has.best_isa)
  end)

  it("says whether SMT is active, as /sys/devices/system/cpu/smt/active does", function()
    local v = line("/sys/devices/system/cpu/smt/active")
    if not v then
      assert.is_nil(has.smt)
    else
      assert.equal(v == "1", has.smt)
    end
  end)
end)

describe("lnuma.sysinfo (the raw facts)", function()
  local s = lnuma.sysinfo()

  it("names the host, kernel and CPU model as /proc does", function()
    assert.equal(line("/proc/sys/kernel/hostname"), s.hostname)
    assert.equal(line("/proc/sys/kernel/osrelease"), s.kernel_release)
    local model
    for l in io.lines("/proc/cpuinfo") do
      model = model or l:match("^model name%s*:%s*(.-)%s*$")
    end
    if model then assert.equal(model, s.cpu_model) end
  end)

  it("gives the cgroup's CPUs, a superset of the CPUs this process may use", function()
    if not s.cgroup_cpus then
      pending("no cpuset cgroup readable here")
      return
    end
    assert.is_true(s.cgroup_version == 1 or s.cgroup_version == 2)
    local cg = {}
    for _, c in ipairs(lnuma.cpulist(s.cgroup_cpus)) do cg[c] = true end
    for _, c in ipairs(lnuma.topology().allowed.cpus) do
      assert.is_true(cg[c], ("CPU %d allowed but not in the cgroup's %s"):format(c, s.cgroup_cpus))
    end
    local max = s.cgroup_memory_max
    assert.is_true(max == "max" or (math.type(max) == "integer" and max > 0), tostring(max))
  end)

  it("gives the governor and frequencies where cpufreq exists, and leaves them out where not",
     function()
    local cpu = s.freq_cpu
    if cpu == nil then
      assert.is_nil(s.governor)
      assert.is_nil(s.cur_khz)
      return
    end
    local dir = ("/sys/devices/system/cpu/cpu%d/cpufreq/"):format(cpu)
    assert.equal(line(dir .. "scaling_governor"), s.governor)
    assert.equal(tonumber(line(dir .. "cpuinfo_max_freq")), s.max_khz)
  end)
end)

describe("lnuma.mkdir (mkdir -p without a shell)", function()
  local base = os.tmpname()
  os.remove(base)

  it("creates the missing directories, and accepts one that exists", function()
    local path = base .. "/a/b'c/d"
    assert.is_true(lnuma.mkdir(path))
    assert.is_true(exists(path))
    assert.is_true(lnuma.mkdir(path))
    assert.is_true(lnuma.mkdir(path .. "/"))
    os.execute("rm -rf " .. sh_quote(base))
  end)

  it("fails with ENOTDIR where a part of the path is a file", function()
    local file = os.tmpname()
    local ok, msg, code = lnuma.mkdir(file .. "/x")
    os.remove(file)
    assert.is_nil(ok)
    assert.matches("^mkdir .*: Not a directory$", msg)
    assert.equal(20, code)
  end)

  it("rejects an empty path and a path that is not a string", function()
    local ok, msg, code = lnuma.mkdir("")
    assert.is_nil(ok)
    assert.equal("mkdir: empty path", msg)
    assert.equal(22, code)
    assert.has_error(function() lnuma.mkdir(42) end,
      "bad argument #1 to 'mkdir' (path: string expected, got number)")
  end)
end)

describe("the Lua face reads no system file itself", function()
  it("has no io.open of /proc or /sys, no io.popen and no os.execute in lua/lnuma", function()
    local p = io.popen("ls lua/lnuma/*.lua")
    for file in p:lines() do
      local text = sys.read(file)
      assert.is_nil(text:find('io%.open%(%s*"/proc'), file)
      assert.is_nil(text:find('io%.open%(%s*"/sys'), file)
      assert.is_nil(text:find("io%.popen%("), file)
      assert.is_nil(text:find("os%.execute%("), file)
    end
    p:close()
  end)
end)
