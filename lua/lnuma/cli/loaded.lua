--- `lnuma loaded`: latency under load (the loaded-latency curve).
-- @module lnuma.cli.loaded

local cb = require "lnuma.cli.bench"

local cmd = {
  name = "loaded",
  summary = "Measure latency under increasing bandwidth load (loaded-latency curve).",
}

local TRAFFIC = "read, rw2:1, rw1:1, write, write_nt, copy"

-- "10" (percent) -> 0.10
local function percent(s)
  local v = tonumber(s)
  if not v or v < 0 then return nil, ("'%s' is not a percentage >= 0"):format(s) end
  return v / 100
end

function cmd.setup(parser)
  parser:summary(cmd.summary)
  parser:description(
    "The first CPU chases pointers while the other CPUs stream memory, pausing\n"
    .. "DELAY ns (timed on the clock) after every 4 KiB chunk.  Each delay gives\n"
    .. "one point: the bandwidth of the traffic and the latency the chaser saw,\n"
    .. "measured --repetitions times in shuffled sweeps; a point whose latency\n"
    .. "spread is above --max-spread is measured again once, then flagged.\n"
    .. "Traffic (as MLC's -R/-W): read; rw2:1 (a += b, 2 reads per write, like -W2);\n"
    .. "rw1:1 (a += 1, like -W5); write; write_nt (non-temporal stores, like -W6);\n"
    .. "copy.")
  parser:epilog("Examples:\n"
    .. "  lnuma loaded\n"
    .. "  lnuma loaded --cpus 0-7 --node 1 --traffic rw2:1 --svg loaded.svg\n"
    .. "  lnuma loaded --delays 0,200,1000,10000 --repetitions 5 --step-time 20")
  parser:option("--cpus", "CPUs: the first chases, the others make traffic (default: the "
                .. "allowed CPUs of the node)."):argname("LIST")
  parser:option("--threads", "Number of threads, chaser included."):argname("N")
    :convert(cb.integer)
  parser:option("--node", "Memory node (default: the first CPU's)."):argname("N")
    :convert(cb.integer)
  parser:option("--size", "Chase buffer (default 4 x the last-level cache, at least 256M).")
    :argname("SIZE"):convert(cb.size)
  parser:option("--traffic-size",
                "Traffic buffer, all threads (default 4 x the last-level caches, at least 1G).")
    :argname("SIZE"):convert(cb.size)
  parser:option("--traffic", "Traffic: " .. TRAFFIC .. " (default read)."):argname("KIND")
  parser:option("--delays", "Pauses after each chunk, in ns (default 0,50,100,200,500,1000,"
                .. "2000,5000,10000,20000)."):argname("NS,...")
    :convert(cb.integers)
  parser:option("--step-time", "Milliseconds per step (default 50)."):argname("MS")
    :convert(cb.ms)
  cb.repetitions_option(parser, 3)
  parser:option("--max-spread", "Latency spread, in percent of the median, above which a "
                .. "point is measured again (default 10)."):argname("PCT"):convert(percent)
  cb.huge_option(parser)
  cb.output_options(parser)
end

function cmd.run(args)
  local lnuma = require "lnuma"
  local opts = cb.pick(args, {}, { "cpus", "threads", "node", "size", "traffic_size", "traffic",
                                   "delays", "step_time", "repetitions", "max_spread", "huge" })
  return cb.emit(cb.call(lnuma.bench.loaded_latency, opts), args)
end

return cmd
