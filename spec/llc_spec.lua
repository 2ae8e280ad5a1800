-- lnuma.llc: the last-level caches a set of CPUs shares, and what a working
-- set measures against them, on a synthetic machine (no measuring).
local lnuma = require "lnuma"
local llc = require "lnuma.llc"

local MiB, GiB = 1024 * 1024, 1024 * 1024 * 1024

describe("lnuma.llc", function()
  -- Two packages of 32 MiB L3, four CPUs each (0-3 and 4-7).
  local topo = assert(lnuma.topology { synthetic =
    "pack:2 l3:1(size=32MiB) l2:4(size=1MiB) l1:1(size=48KiB) core:1 pu:1" })

  it("sums the distinct last-level caches that serve the CPUs asked", function()
    assert.same({ one = 32 * MiB, all = 64 * MiB, level = 3 }, llc.of(topo))
    assert.same({ one = 32 * MiB, all = 32 * MiB, level = 3 }, llc.of(topo, { 0, 3 }))
    assert.same({ one = 32 * MiB, all = 64 * MiB, level = 3 }, llc.of(topo, { 3, 4 }))
  end)

  it("knows no cache where none is named or none serves the CPUs", function()
    assert.same({}, llc.of({ caches = {}, allowed = { cpus = { 0 } } }))
    assert.same({}, llc.of(topo, { 99 }))
  end)

  it("calls a working set under MULTIPLE times the cache the caches' figure", function()
    assert.equal("cache", llc.scope(llc.MULTIPLE * 32 * MiB - 1, 32 * MiB))
    assert.equal("memory", llc.scope(llc.MULTIPLE * 32 * MiB, 32 * MiB))
    assert.equal("unknown", llc.scope(GiB, nil))
  end)

  it("makes the default bandwidth size a power of two past the caches, 1 GiB at least", function()
    assert.equal(GiB, llc.bandwidth_size(topo))
    local big = assert(lnuma.topology { synthetic =
      "pack:2 l3:1(size=384MiB) l2:4(size=1MiB) l1:1(size=48KiB) core:1 pu:1" })
    assert.equal(4 * GiB, llc.bandwidth_size(big)) -- 4 x 768M = 3G, rounded up
    assert.equal(GiB, llc.bandwidth_size({ caches = {}, allowed = { cpus = { 0 } } }))
  end)

  it("makes the default latency size a power of two past one CPU's cache, 256 MiB at least",
     function()
    assert.equal(256 * MiB, llc.latency_size(topo)) -- 4 x 32M = 128M: the floor
    assert.equal(256 * MiB, llc.latency_size(topo, 5))
    -- A 320 MiB L3 shared by every core (an Emerald Rapids Xeon's): 256M is not past it.
    local xeon = assert(lnuma.topology { synthetic =
      "pack:1 l3:1(size=320MiB) l2:4(size=2MiB) l1:1(size=48KiB) core:1 pu:1" })
    assert.equal(2 * GiB, llc.latency_size(xeon)) -- 4 x 320M = 1.25G, rounded up
    assert.equal(2 * GiB, llc.latency_size(xeon, 3))
    assert.equal(256 * MiB, llc.latency_size({ caches = {}, allowed = { cpus = { 0 } } }))
  end)
end)
