-- Coordinated omission: a loop meant to take a sample every 200 us (a
-- market-data handler, a request generator) that stalls once for 50 ms
-- records one slow sample, where a client arriving every 200 us would have
-- seen 250 slow ones.  h:record_corrected adds the samples the stall
-- swallowed; the tail it shows is the one such clients see.  The corrected
-- distribution is written in HdrHistogram's .hgrm layout, which its
-- plotters read.
--   lua5.4 examples/coordinated_omission.lua [--quick]
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = (os.getenv("LNUMA_BUILD") or "build") .. "/?.so;" .. package.cpath
local lnuma = require "lnuma"

local quick = false
for _, a in ipairs(arg or {}) do quick = quick or a == "--quick" end

local INTERVAL = 200000                  -- ns between samples the loop means to take
local SAMPLES = quick and 2000 or 20000
local STALL_AT, STALL = SAMPLES // 2, 50000000 -- one 50 ms stall half way

local now, sleep = lnuma.clock.now, lnuma.clock.sleep
local raw, corrected = lnuma.histogram(), lnuma.histogram()
local next_start = now()
for i = 1, SAMPLES do
  local t0 = now()
  local s = 0
  for k = 1, 200 do s = s + k end        -- the work a sample times
  if i == STALL_AT then sleep(STALL) end -- a page fault, a GC pause, a preemption
  local took = now() - t0
  raw:record(took)
  corrected:record_corrected(took, INTERVAL)
  next_start = next_start + INTERVAL
  local wait = next_start - now()
  if wait > 0 then sleep(wait) else next_start = now() end
end

local function tail(h)
  local p = h:percentiles { 50, 99, 99.9 }
  return ("p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us, %d samples"):format(
    p[50] / 1000, p[99] / 1000, p[99.9] / 1000, h:max() / 1000, h:count())
end
print("as recorded: " .. tail(raw))
print("corrected:   " .. tail(corrected))

local base = os.tmpname()
os.remove(base)
local path = base .. ".hgrm"
local f = assert(io.open(path, "w"))
f:write(lnuma.report.distribution(corrected, { scale = 1000 })) -- values in us
f:close()
print("corrected distribution (HdrHistogram .hgrm, us): " .. path)
