-- What a small input may cost (issue 13, class 4): a file that never ends, a
-- FIFO with no writer, a file past its size limit, a description of a huge
-- machine, a matrix of a million cells.  Each is refused at once, before it
-- is read or built, with a message that names the input and the limit.  The
-- time bounds are hang guards only, far above what a refusal takes.
local lnuma = require "lnuma"
local plan = require "lnuma.plan"
local H = dofile("spec/support/helpers.lua")

local dir = H.tmpdir()
teardown(function() os.execute("rm -rf " .. dir) end)

local HANG_GUARD = 10 -- seconds

local function now()
  return lnuma.clock.now() / 1e9
end

-- Calls f, checks that it took less than the hang guard, returns its results.
local function quickly(f, ...)
  local t0 = now()
  local res = table.pack(pcall(f, ...))
  assert.is_true(now() - t0 < HANG_GUARD, "took longer than the hang guard")
  return table.unpack(res, 1, res.n)
end

local sh = H.sh

local function cli(args, env)
  local t0 = now()
  local ok, out = sh(("%s lua5.4 bin/lnuma %s"):format(env or "", args))
  assert.is_true(now() - t0 < HANG_GUARD, "lnuma " .. args .. " took longer than the hang guard")
  return ok, out
end

-- A FIFO nobody writes to: opening it to read would block for ever.
local function fifo(name)
  local path = dir .. "/" .. name
  assert(os.execute("mkfifo " .. path))
  return path
end

-- A file of size bytes that takes no disk (a hole, then one byte).
local function sparse(name, size)
  local path = dir .. "/" .. name
  local f = assert(io.open(path, "w"))
  f:seek("set", size - 1)
  f:write("x")
  f:close()
  return path
end

describe("an XML topology", function()
  it("is refused when it is a device that never ends (/dev/zero)", function()
    local ok, err = quickly(lnuma.topology, { xml = "/dev/zero" })
    assert.is_false(ok)
    assert.equal("bad argument #1 to 'topology' (xml: XML file '/dev/zero' is a character "
                 .. "device, not a regular file)", err)
    local okc, out = cli("topo --xml /dev/zero")
    assert.is_falsy(okc)
    assert.equal("lnuma topo: --xml: XML file '/dev/zero' is a character device, not a regular "
                 .. "file\n", out)
  end)

  it("is refused when it is a FIFO, without waiting for a writer", function()
    local path = fifo("topo.xml")
    local ok, err = quickly(lnuma.topology, { xml = path })
    assert.is_false(ok)
    assert.matches("XML file '" .. path:gsub("%p", "%%%0") .. "' is a FIFO, not a regular file",
                   err)
  end)

  it("is refused past 32 MiB, before a byte is read", function()
    local path = sparse("big.xml", 33 * 1024 * 1024)
    local ok, err = quickly(lnuma.topology, { xml = path })
    assert.is_false(ok)
    assert.matches("XML file '" .. path:gsub("%p", "%%%0") .. "' is 33 MiB, over the limit of "
                   .. "32 MiB%)$", err)
  end)

  it("named by HWLOC_XMLFILE is under the same limits, and says where it came from", function()
    local ok, out = cli("topo", "HWLOC_XMLFILE=/dev/zero")
    assert.is_falsy(ok)
    assert.matches("HWLOC_XMLFILE: XML file '/dev/zero' is a character device, not a regular "
                   .. "file", out)
  end)

  it("that crashes hwloc is loaded only in a child, and the message says the limits", function()
    local ok, err = quickly(lnuma.topology, { xml = "spec/fixtures/crashes-hwloc.xml" })
    assert.is_false(ok)
    assert.matches("hwloc crashes on it: .*; an XML topology may take 1 GiB of memory and 30 s "
                   .. "to load%)%)$", err)
  end)
end)

describe("a synthetic description", function()
  it("is refused before hwloc builds it, naming what it describes and the limit", function()
    local cases = {
      { "pack:64 numa:64 core:2 pu:1", "describes 4096 NUMA nodes, more than lnuma handles "
                                       .. "(1024)" },
      { "pack:1000 core:1000 pu:1000", "describes 1000000000 CPUs, more than lnuma handles "
                                       .. "(8192)" },
      { "pack:8192 group:1 group:1 group:1 l3:1 l2:1 l1:1 core:1 pu:1",
        "describes 73729 objects, more than a synthetic topology may have (65536)" },
      { "pack:2 [numa] [numa] core:2 pu:1 numa:600", "describes 2404 NUMA nodes, more than lnuma "
                                                    .. "handles (1024)" },
    }
    for _, c in ipairs(cases) do
      local ok, err = quickly(lnuma.topology, { synthetic = c[1] })
      assert.is_false(ok)
      assert.equal(("bad argument #1 to 'topology' (synthetic: '%s' %s)"):format(c[1], c[2]), err)
    end
  end)

  it("named by HWLOC_SYNTHETIC is under the same limits", function()
    local ok, out = cli("topo", "HWLOC_SYNTHETIC='pack:64 numa:64 core:2 pu:1'")
    assert.is_falsy(ok)
    assert.matches("HWLOC_SYNTHETIC: 'pack:64 numa:64 core:2 pu:1' describes 4096 NUMA nodes, "
                   .. "more than lnuma handles %(1024%)", out)
  end)
end)

describe("a matrix plan", function()
  it("is refused past 65536 cells, before a cell is made", function()
    local ok, out = cli("matrix --plan --synthetic 'pack:64 numa:64 core:2 pu:1'")
    assert.is_falsy(ok)
    assert.equal("lnuma matrix: --synthetic: 'pack:64 numa:64 core:2 pu:1' describes 4096 NUMA "
                 .. "nodes, more than lnuma handles (1024)\n", out)
    ok, out = cli("matrix --plan --synthetic 'pack:32 numa:16 core:2 pu:1'")
    assert.is_falsy(ok)
    assert.equal("lnuma matrix: --synthetic: 512 x 512 = 262144 cells on synthetic 'pack:32 "
                 .. "numa:16 core:2 pu:1', more than a matrix may have (65536)\n", out)
    local topo = lnuma.topology { synthetic = "numa:300 pu:1" }
    local okm, err = quickly(lnuma.bench.matrix, { plan = true, topology = topo })
    assert.is_false(okm)
    assert.matches("bad argument #1 to 'matrix' %(topology: 300 x 300 = 90000 cells", err)
  end)

  it("is refused when its cells would name more than a million CPUs", function()
    local topo = lnuma.topology { synthetic = "numa:200 pu:40" }
    local ok, err = quickly(lnuma.bench.matrix, { plan = true, topology = topo,
                                                  metric = "bandwidth" })
    assert.is_false(ok)
    assert.matches("%(topology: 40000 cells of up to 40 threads on synthetic 'numa:200 pu:40' "
                   .. "name 1600000 CPUs, more than a matrix may %(1048576%)%)$", err)
    assert.is_table(lnuma.bench.matrix { plan = true, topology = topo })
  end)
end)

describe("a plan file", function()
  it("is refused when it is a FIFO, a device or past 1 MiB", function()
    local path = fifo("plan.lua")
    local ok, p, perr = quickly(plan.load, path)
    assert.is_true(ok)
    assert.is_nil(p)
    assert.equal(("plan file '%s' is a FIFO, not a regular file"):format(path), perr)
    p, perr = plan.load("/dev/zero")
    assert.is_nil(p)
    assert.equal("plan file '/dev/zero' is a character device, not a regular file", perr)
    local big = sparse("big.lua", 2 * 1024 * 1024)
    p, perr = plan.load(big)
    assert.is_nil(p)
    assert.equal(("plan file '%s' is 2 MiB, over the limit of 1 MiB"):format(big), perr)
    local okc, out = cli("plan check /dev/zero")
    assert.is_falsy(okc)
    assert.matches("plan file '/dev/zero' is a character device, not a regular file", out)
  end)
end)

describe("a result file", function()
  it("is refused when it never ends, and JSON nested without end is an error, not a crash",
     function()
    local ok0, r, lerr = quickly(lnuma.report.load, "/dev/zero")
    assert.is_true(ok0)
    assert.is_nil(r)
    assert.equal("result file '/dev/zero' is a character device, not a regular file", lerr)
    local deep = ("["):rep(1000000)
    local ok, v, msg = quickly(lnuma.report.decode, deep)
    assert.is_true(ok)
    assert.is_nil(v)
    assert.equal("JSON nested deeper than 200 levels at line 1, column 201", msg)
    assert.same({ { { 1 } } }, lnuma.report.decode("[[[1]]]"))
  end)
end)
