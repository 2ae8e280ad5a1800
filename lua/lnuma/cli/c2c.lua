--- `lnuma c2c`: core-to-core latency matrix.
-- @module lnuma.cli.c2c

local cb = require "lnuma.cli.bench"

local cmd = {
  name = "c2c",
  summary = "Measure core-to-core latency (a cache line handed between CPUs).",
}

function cmd.setup(parser)
  parser:summary(cmd.summary)
  parser:description(
    "For every pair of CPUs, two pinned threads hand one cache line back and\n"
    .. "forth; half the round trip is the one-way latency.  pingpong: one stores,\n"
    .. "the other sees it with a load and stores back; cas: each compare-and-swaps\n"
    .. "the line from the other's value to its own (a lock handoff).  Every pair\n"
    .. "uses a fresh line in every sample (never one another pair touched), on the\n"
    .. "node asked.  Disjoint pairs run at the same time, round after round.")
  parser:epilog("Examples:\n  lnuma c2c\n  lnuma c2c --cpus 0-7 --svg c2c.svg\n"
                .. "  lnuma c2c --mode cas --node 1 --samples 31")
  parser:option("--cpus", "CPUs, at least two, each once (default: all allowed).")
    :argname("LIST")
  parser:option("--mode", "How the line changes hands: pingpong (default) or cas.")
    :argname("MODE")
  parser:option("--node", "Node of the cache lines' memory (default: the first CPU's).")
    :argname("N"):convert(cb.integer)
  parser:option("--samples", "Samples per pair, each on a fresh line (default 100, the fewest "
    .. "that give a p99).")
    :argname("N"):convert(cb.integer)
  parser:option("--roundtrips", "Round trips per sample (default 500)."):argname("N")
    :convert(cb.integer)
  cb.output_options(parser)
end

function cmd.run(args)
  local lnuma = require "lnuma"
  local opts = cb.pick(args, {}, { "cpus", "mode", "node", "samples", "roundtrips" })
  return cb.emit(cb.call(lnuma.bench.c2c, opts), args)
end

return cmd
