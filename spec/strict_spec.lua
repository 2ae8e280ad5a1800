-- Doubtful conditions (result.doubts, with stable codes) and strict runs:
-- `strict = true` turns each into a failure, `nil, message, ECANCELED,
-- result`; `--strict` makes the command exit 3.  The conditions are caused
-- for real: threads sharing a CPU, THP turned off for the process, pages on
-- another node than the figure is for (two nodes).
local lnuma = require "lnuma"
local strict = require "lnuma.strict"
local sys = dofile("spec/support/sys.lua")

local LUA = os.getenv("LUA") or "lua5.4"

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

local function codes(r)
  local out = {}
  for _, d in ipairs(r.doubts or {}) do out[#out + 1] = d.code end
  return out
end

local function has_code(r, code)
  for _, c in ipairs(codes(r)) do
    if c == code then return true end
  end
  return false
end

-- More threads than allowed CPUs: two share one.
local function crowded() return #lnuma.topology().allowed.cpus + 1 end

describe("result.doubts", function()
  it("is empty for a clean run, and warnings stay strings", function()
    local r = assert(lnuma.bench.latency { size = "1M", repetitions = 2, min_time = 1000000 })
    assert.is_table(r.doubts)
    for _, w in ipairs(r.warnings) do assert.is_string(w) end
    for _, d in ipairs(r.doubts) do
      assert.is_not_nil(strict.CODES[d.code], d.code)
    end
  end)

  it("gives threads sharing a CPU the code cpu_shared, with the warning's own text", function()
    local r = assert(lnuma.bench.bandwidth { size = "1M", threads = crowded(), repetitions = 1,
                                             min_time = 1000000 })
    assert.is_true(has_code(r, "cpu_shared"))
    local d = r.doubts[1]
    local found = false
    for _, w in ipairs(r.warnings) do found = found or w == d.message end
    assert.is_true(found)
    assert.matches("threads share %d+ CPUs", d.message)
    assert.is_nil(r.failed)
  end)

  it("carries a part's codes into the whole (a matrix cell)", function()
    local r = assert(lnuma.bench.matrix { metric = "bandwidth", size = "1M", threads = crowded(),
                                          repetitions = 1, min_time = 1000000 })
    assert.is_true(has_code(r, "cpu_shared"))
    assert.matches("^node %d+ %-> node %d+: %d+ threads share", r.doubts[1].message)
  end)

  it("gives every code a meaning", function()
    for code, meaning in pairs(strict.CODES) do
      assert.matches("^[a-z_]+$", code)
      assert.is_string(meaning)
    end
  end)
end)

describe("strict = true", function()
  it("fails a result with a doubt: nil, the reasons, ECANCELED, the failed result", function()
    local r, msg, code, failed = lnuma.bench.bandwidth { size = "1M", threads = crowded(),
      repetitions = 1, min_time = 1000000, strict = true }
    assert.is_nil(r)
    assert.matches("^strict bandwidth: 1 doubtful condition: cpu_shared: %d+ threads share", msg)
    assert.equal(strict.ECANCELED, code)
    assert.is_true(failed.failed)
    assert.equal("cpu_shared", failed.failures[1].code)
    assert.is_number(failed.gbps)
  end)

  it("passes a result without doubts through, and strict = false keeps warnings", function()
    local r = assert(lnuma.bench.latency { size = "1M", repetitions = 2, min_time = 1000000,
                                           strict = true })
    assert.same({}, r.doubts)
    local w = assert(lnuma.bench.bandwidth { size = "1M", threads = crowded(), repetitions = 1,
                                             min_time = 1000000, strict = false })
    assert.is_true(has_code(w, "cpu_shared"))
  end)

  it("fails a THP run that got no huge pages (THP off for the process) with the reason",
     function()
    local ok, msg = lnuma.set_thp(false)
    if not ok then
      pending("prctl(PR_SET_THP_DISABLE) refused: " .. tostring(msg))
      return
    end
    local r, why, code, failed = lnuma.bench.latency { size = "4M", huge = "thp",
      repetitions = 1, min_time = 1000000, strict = true }
    assert(lnuma.set_thp(true))
    assert.is_nil(r)
    assert.matches("thp_not_granted: asked for THP and got none", why, 1, true)
    assert.matches("THP is off for this process", why, 1, true)
    assert.equal(strict.ECANCELED, code)
    assert.is_true(failed.failed)
  end)

  it("fails on pages off the node the figure is for #multinode", function()
    local topo = lnuma.topology()
    local nodes = {}
    for _, n in ipairs(topo.nodes) do
      if n.memory and n.memory > 0 then nodes[#nodes + 1] = n.os_index end
    end
    if #nodes < 2 then
      pending("one node with memory here: no page can be off-node (make test-vm)")
      return
    end
    local buf = assert(lnuma.alloc("1M", { node = nodes[1] }))
    local r, msg = lnuma.bench.latency { buffer = buf, node = nodes[2], size = "1M",
      repetitions = 1, min_time = 1000000, strict = true }
    buf:free()
    assert.is_nil(r)
    assert.matches("pages_off_node: only 0.0% of the", msg, 1, true)
  end)

  it("fails a placement benchmark run with NUMA balancing on, on several nodes #multinode",
     function()
    local v = tonumber((sys.read("/proc/sys/kernel/numa_balancing") or ""):match("%d+"))
    if #lnuma.topology().nodes < 2 or v == nil then
      pending("NUMA balancing matters (and is checked) only on several nodes")
      return
    end
    local r = assert(lnuma.bench.latency { size = "1M", repetitions = 1, min_time = 1000000 })
    assert.equal(v ~= 0, has_code(r, "numa_balancing_on"))
  end)

  it("fails on a refused memory policy", function()
    local buf = assert(lnuma.alloc("64K", { node = 0 }))
    local refused = buf:info().policy_applied == false
    buf:free()
    if not refused then
      pending("the kernel applies memory policies here (no seccomp or container refusal)")
      return
    end
    local _, msg = lnuma.bench.latency { size = "1M", node = 0, repetitions = 1,
      min_time = 1000000, strict = true }
    assert.matches("policy_refused", msg, 1, true)
  end)

  it("must be a boolean", function()
    assert.has_error(function() lnuma.bench.latency { strict = "yes" } end,
      "bad argument #1 to 'latency' (strict: boolean expected, got string)")
  end)
end)

describe("--strict on the command line", function()
  it("is an option of every measuring command", function()
    for _, cmd in ipairs({ "latency", "bandwidth", "matrix", "loaded", "c2c", "migration",
                           "survey" }) do
      local out = run(cmd .. " --help")
      assert.matches("--strict", out, 1, true)
    end
  end)

  it("exits 3 with the reasons on stderr, and still prints the failed result", function()
    local args = ("bandwidth --size 1M --threads %d --repetitions 1 --min-time 1 --json")
      :format(crowded())
    local out, err, code = run(args .. " --strict")
    assert.equal(3, code)
    assert.matches("strict bandwidth: 1 doubtful condition: cpu_shared", err, 1, true)
    local r = assert(lnuma.report.decode(out))
    assert.is_true(r.failed)
    assert.equal("cpu_shared", r.failures[1].code)
    -- lnuma report shows that it failed
    local file = os.tmpname()
    local f = assert(io.open(file, "w"))
    f:write(out)
    f:close()
    local text, rerr, rcode = run("report " .. file)
    os.remove(file)
    assert.equal(0, rcode, rerr)
    assert.matches("^FAILED %(strict%): cpu_shared\n", text)
    -- without --strict the same run succeeds, with the warning
    local _, err2, code2 = run(args)
    assert.equal(0, code2, err2)
  end)
end)
