-- One vocabulary for options (issue 14): the same input means the same thing
-- in lnuma.alloc, the benchmarks, plans and the CLI, and a bad input is
-- refused with the same words by each of them.  Table-driven: every row is
-- read by every reader.
local lnuma = require "lnuma"
local cb = require "lnuma.cli.bench"
local fake_topology = dofile("spec/support/fake_topology.lua")
local H = dofile("spec/support/helpers.lua")

local KiB, MiB = 1024, 1024 * 1024
local NOT_A_KIND = "is not a page kind %(expected \"thp\", \"2M\", \"1G\", \"none\", \"4K\", "
  .. "\"no\" or \"default\", in any case%)"

-- The message inside "bad argument #n to 'f' (key: ...)".
local function inner(msg)
  msg = tostring(msg)
  local body = msg:match("bad argument #%d+ to '[^']*' %((.*)%)$")
  return body and (body:match("^[%w_]+: (.*)$") or body) or msg
end

local function raised(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "no error")
  return err
end

-- What each reader makes of a page kind, as the name it gives back
-- ("default", "none", "thp", "2M", "1G"), or nil and why the environment
-- could not have it (hugetlb pages not reserved).
local function bench_kind(r)
  local h = r.parameters.huge
  if h == nil then return "default" end
  if h == false then return "none" end
  return h
end

local HUGE_READERS = {
  alloc = function(v)
    local buf, msg = lnuma.alloc(64 * KiB, { huge = v })
    if not buf then return nil, msg end
    local kind = buf:info().huge
    buf:free()
    return kind
  end,
  latency = function(v)
    local r, msg = lnuma.bench.latency { size = 64 * KiB, huge = v, repetitions = 1,
                                         min_time = 0, chunks = 1 }
    if not r then return nil, msg end
    return bench_kind(r)
  end,
  plan = function(v)
    local p = assert(lnuma.plan.check({ memory = { { name = "r", size = "64K", node = 0,
                                                     huge = v } } },
                                      { topology = fake_topology() }))
    return p:region("r").huge
  end,
}

-- input, what it means
local HUGE = {
  { nil, "default" }, { "default", "default" }, { "Default", "default" },
  { false, "none" }, { "none", "none" }, { "no", "none" }, { "4K", "none" }, { "4k", "none" },
  { true, "thp" }, { "thp", "thp" }, { "THP", "thp" },
  { "2M", "2M" }, { "2m", "2M" }, { "1G", "1G" }, { "1g", "1G" },
}

describe("huge: one vocabulary", function()
  for _, row in ipairs(HUGE) do
    local v, want = row[1], row[2]
    it(("reads %s as %s everywhere"):format(tostring(v), want), function()
      for name, read in pairs(HUGE_READERS) do
        local got, msg = read(v)
        if got == nil then
          -- hugetlb pages that are not reserved: an environment failure, never a misreading.
          assert.is_true(want == "2M" or want == "1G", name .. ": " .. tostring(msg))
          assert.matches("huge", msg, 1, true)
        else
          assert.equal(want, got, name)
        end
      end
      if type(v) == "string" then
        assert.equal(want, (cb.huge(v)), "the CLI's --huge")
      end
    end)
  end

  for _, v in ipairs({ "3M", "yes", "", "thp " }) do
    it(("refuses %q with the same words everywhere"):format(v), function()
      local want = "'" .. v:gsub("%p", "%%%0") .. "' " .. NOT_A_KIND
      assert.matches("^" .. want .. "$", inner(raised(lnuma.alloc, 4096, { huge = v })))
      assert.matches("^" .. want .. "$", inner(raised(lnuma.bench.latency, { huge = v })))
      assert.matches("^" .. want .. "$", inner(raised(lnuma.bench.describe_chase, { huge = v })))
      local region = { name = "r", size = 64, node = 0, huge = v }
      local p, err = lnuma.plan.check({ memory = { region } }, { topology = fake_topology() })
      assert.is_nil(p)
      assert.matches("memory%[1%]%.huge: " .. want .. "$", err)
      local none, why = cb.huge(v)
      assert.is_nil(none)
      assert.matches("^" .. want .. "$", why)
    end)
  end

  it("refuses a value of another type, naming the option", function()
    assert.equal("expected true, false or a page kind such as \"thp\" or \"2M\", got number",
                 inner(raised(lnuma.alloc, 4096, { huge = 2 })))
    assert.matches("^bad argument #1 to 'latency' %(huge: expected true, false or a page kind",
                   raised(lnuma.bench.latency, { huge = 2 }):gsub("^[^:]*:%d+: ", ""))
  end)

  it("names the option in the CLI's words", function()
    local _, err, code = H.lnuma("latency --huge 3M --size 64K")
    assert.equal(1, code)
    assert.matches("--huge", err, 1, true)
    assert.matches("'3M' " .. NOT_A_KIND, err)
  end)
end)

-- input, bytes
local SIZES = {
  { 65536, 65536 }, { "64K", 64 * KiB }, { "64k", 64 * KiB }, { "64KiB", 64 * KiB },
  { "1m", MiB }, { " 1M", MiB }, { "2MB", 2 * MiB },
}

local SIZE_READERS = {
  alloc = function(v)
    local buf <close> = assert(lnuma.alloc(v))
    return buf:size()
  end,
  ["lnuma.size"] = function(v) return lnuma.size(v) end,
  latency = function(v)
    return assert(lnuma.bench.latency { size = v, repetitions = 1, min_time = 0, chunks = 1 })
      .parameters.size
  end,
  plan = function(v)
    local p = assert(lnuma.plan.check({ memory = { { name = "r", size = v, node = 0 } } },
                                      { topology = fake_topology() }))
    return p:region("r").size
  end,
}

describe("sizes: one vocabulary", function()
  for _, row in ipairs(SIZES) do
    local v, want = row[1], row[2]
    it(("reads %s as %d bytes everywhere"):format(tostring(v), want), function()
      for name, read in pairs(SIZE_READERS) do assert.equal(want, read(v), name) end
      assert.equal(want, (cb.size(tostring(v))), "the CLI's --size")
    end)
  end

  for _, v in ipairs({ "12X", -1, 1.5, "1.5M", "" }) do
    it(("refuses %s with the same words everywhere"):format(tostring(v)), function()
      local want = inner(raised(lnuma.size, v))
      assert.equal(want, inner(raised(lnuma.alloc, v)))
      assert.equal(want, inner(raised(lnuma.bench.latency, { size = v })))
      assert.equal(want, inner(raised(lnuma.bench.describe_chase, { size = v })))
      local _, err = lnuma.plan.check({ memory = { { name = "r", size = v, node = 0 } } },
                                      { topology = fake_topology() })
      assert.equal("plan: memory[1].size: " .. want, err)
      if type(v) == "string" then assert.equal(want, select(2, cb.size(v))) end
    end)
  end

  it("writes sizes the way they are read", function()
    for _, n in ipairs({ 64, 4096, 65536, MiB, 3 * MiB // 2, 1 << 30 }) do
      local text = lnuma.report.size(n)
      if not text:find(".", 1, true) then assert.equal(n, lnuma.size(text), text) end
    end
    assert.equal("64B", lnuma.report.size(64))
    assert.equal("1.5M", lnuma.report.size(3 * MiB // 2))
  end)
end)

describe("sets of CPUs: one vocabulary", function()
  local function bandwidth(v) return raised(lnuma.bench.bandwidth, { cpus = v }) end
  local function bind(v) return raised(lnuma.bind, { cpus = v }) end

  for _, v in ipairs({ "0-x", "1-", -1, "0-99999", 1.5, true }) do
    it(("refuses %s with the same words everywhere"):format(tostring(v)), function()
      local want = inner(bind(v))
      if type(v) ~= "boolean" then assert.equal(want, inner(raised(lnuma.cpulist, v))) end
      assert.equal(want, inner(bandwidth(v)))
      local _, err = lnuma.plan.check({ threads = { { name = "t", cpus = v } } },
                                      { topology = fake_topology() })
      assert.equal("plan: threads[1].cpus: " .. want, err)
    end)
  end

  it("reads an array, a cpulist string and an integer as the same set", function()
    for _, v in ipairs({ { 1, 0 }, "0-1", "0,1" }) do
      local p = assert(lnuma.plan.check({ threads = { { name = "t", cpus = v } } },
                                        { topology = fake_topology() }))
      assert.same({ 0, 1 }, p:thread("t").cpus)
    end
    local p = assert(lnuma.plan.check({ threads = { { name = "t", cpus = 3 } } },
                                      { topology = fake_topology() }))
    assert.same({ 3 }, p:thread("t").cpus)
  end)
end)

describe("no knots", function()
  it("the benchmarks and plans need neither lnuma's init.lua nor the renderers", function()
    local dir = H.tmpdir()
    finally(function() os.execute("rm -rf " .. H.quote(dir)) end)
    local script = H.write(dir .. "/knot.lua", [[
for _, name in ipairs { "lnuma", "lnuma.report.text", "lnuma.report" } do
  package.preload[name] = function() error("required " .. name, 2) end
end
local B = require "lnuma.bench.memory"
local r = assert(B.latency { size = 65536, repetitions = 1, min_time = 0, chunks = 1 })
assert(B.describe_chase { size = "64K", huge = true })
local P = require "lnuma.plan"
local p = assert(P.check({ memory = { { name = "r", size = "64K", node = 0 } } }))
assert(p:apply())
print("measured", r.latency_ns > 0)
]])
    local build = os.getenv("LNUMA_BUILD") or "build"
    local ok, out = H.sh(("LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='%s/?.so;;' %s %s")
      :format(build, H.LUA, script))
    assert.is_true(ok, out)
    assert.equal("measured\ttrue\n", out)
  end)
end)
