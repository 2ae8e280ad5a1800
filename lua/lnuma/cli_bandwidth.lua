--- `lnuma bandwidth`: memory bandwidth of a STREAM-like kernel on pinned
-- threads.
-- @module lnuma.cli_bandwidth

local cb = require "lnuma.cli_bench"

local cmd = {
  name = "bandwidth",
  summary = "Measure memory bandwidth (GB/s) of read, write, copy or triad kernels.",
}

function cmd.setup(parser)
  parser:summary(cmd.summary)
  parser:description(
    "Threads pinned to CPUs each stream their own part of a buffer (first-touched\n"
    .. "by themselves, or placed on --node) with a vectorised kernel: read (sum),\n"
    .. "write, write_nt (non-temporal stores), copy, copy_nt, triad (a = b + s*c).\n"
    .. "Bytes are counted as STREAM counts them; GB/s is 1e9 bytes per second over\n"
    .. "the slowest thread's time.")
  parser:epilog("Examples:\n"
    .. "  lnuma bandwidth --kernel triad --threads 2\n"
    .. "  lnuma bandwidth --kernel copy_nt --size 2G --cpus 0-3 --node 1\n"
    .. "  lnuma bandwidth --kernel read --size 1G --threads 1 --json")
  parser:option("--kernel", "read (default), write, write_nt, copy, copy_nt, triad.")
    :argname("K")
  parser:option("--size", "Bytes of all arrays together (default: 4 x the last-level cache, "
                .. "at least 1G)."):argname("SIZE")
    :convert(cb.size)
  parser:option("--threads", "Number of threads (default 1)."):argname("N"):convert(cb.integer)
  parser:option("--cpus", "CPUs of the threads, e.g. 0-3 (instead of --threads).")
    :argname("LIST")
  parser:option("--node", "Memory node (default: each thread's own)."):argname("N")
    :convert(cb.integer)
  parser:option("--isa", "auto (default), avx512, avx2, sse2, c."):argname("ISA")
  cb.huge_option(parser)
  cb.repetitions_option(parser, 5)
  parser:option("--min-time", "Milliseconds per repetition (default 50)."):argname("MS")
    :convert(cb.ms)
  cb.output_options(parser)
end

function cmd.run(args)
  local lnuma = require "lnuma"
  local opts = cb.pick(args, {}, { "kernel", "size", "threads", "cpus", "node", "isa", "huge",
                                   "repetitions", "min_time" })
  return cb.emit(cb.call(lnuma.bench.bandwidth, opts), args)
end

return cmd
