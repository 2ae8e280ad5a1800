--- `lnuma c2c`: core-to-core latency matrix.
-- @module lnuma.cli_c2c

local cb = require "lnuma.cli_bench"

local cmd = {
  name = "c2c",
  summary = "Measure core-to-core latency (a cache line bounced between CPUs).",
}

function cmd.setup(parser)
  parser:summary(cmd.summary)
  parser:description(
    "For every pair of CPUs, two pinned threads bounce one cache line (one\n"
    .. "writes, the other sees it and writes back); half the round trip is the\n"
    .. "one-way latency.  Disjoint pairs run at the same time, round after round.")
  parser:epilog("Examples:\n  lnuma c2c\n  lnuma c2c --cpus 0-7 --svg c2c.svg")
  parser:option("--cpus", "CPUs (default: all allowed)."):argname("LIST")
  parser:option("--node", "Node of the cache lines' memory (default: the first CPU's).")
    :argname("N"):convert(cb.integer)
  parser:option("--samples", "Samples per pair (default 15)."):argname("N"):convert(cb.integer)
  parser:option("--roundtrips", "Round trips per sample (default 500)."):argname("N")
    :convert(cb.integer)
  cb.output_options(parser)
end

function cmd.run(args)
  local lnuma = require "lnuma"
  local opts = cb.pick(args, {}, { "cpus", "node", "samples", "roundtrips" })
  return cb.emit(cb.call(lnuma.bench.c2c, opts), args)
end

return cmd
