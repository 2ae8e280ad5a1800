--- `lnuma loaded`: latency under load (the loaded-latency curve).
-- @module lnuma.cli_loaded

local cb = require "lnuma.cli_bench"

local cmd = {
  name = "loaded",
  summary = "Measure latency under increasing bandwidth load (loaded-latency curve).",
}

function cmd.setup(parser)
  parser:summary(cmd.summary)
  parser:description(
    "The first CPU chases pointers while the other CPUs stream memory with a\n"
    .. "kernel, pausing DELAY spin iterations between 4 KiB chunks.  Each delay\n"
    .. "step gives one point: the bandwidth of the traffic and the latency the\n"
    .. "chaser saw.")
  parser:epilog("Examples:\n"
    .. "  lnuma loaded\n"
    .. "  lnuma loaded --cpus 0-7 --node 1 --kernel copy --svg loaded.svg")
  parser:option("--cpus", "CPUs: the first chases, the others make traffic (default: the "
                .. "allowed CPUs of the node)."):argname("LIST")
  parser:option("--threads", "Number of threads, chaser included."):argname("N")
    :convert(cb.integer)
  parser:option("--node", "Memory node (default: the first CPU's)."):argname("N")
    :convert(cb.integer)
  parser:option("--size", "Chase buffer (default 256M)."):argname("SIZE"):convert(cb.size)
  parser:option("--traffic-size", "Traffic buffer, all threads (default 1G)."):argname("SIZE")
    :convert(cb.size)
  parser:option("--kernel", "Traffic kernel (default read)."):argname("K")
  parser:option("--delays", "Delay steps, e.g. 0,100,1000,10000."):argname("LIST")
    :convert(cb.integers)
  parser:option("--step-time", "Milliseconds per step (default 100)."):argname("MS")
    :convert(cb.ms)
  cb.huge_option(parser)
  cb.output_options(parser)
end

function cmd.run(args)
  local lnuma = require "lnuma"
  local opts = cb.pick(args, {}, { "cpus", "threads", "node", "size", "traffic_size", "kernel",
                                   "delays", "step_time", "huge" })
  return cb.emit(cb.call(lnuma.bench.loaded_latency, opts), args)
end

return cmd
