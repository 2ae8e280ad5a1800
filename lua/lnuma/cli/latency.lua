--- `lnuma latency`: load-to-use latency of memory (a pointer chase), or with
-- `--curve` the latency by working-set size from 4 KiB to beyond the
-- last-level cache.
-- @module lnuma.cli.latency

local cb = require "lnuma.cli.bench"

local cmd = {
  name = "latency",
  summary = "Measure memory latency (ns per dependent load), or the curve by size.",
}

function cmd.setup(parser)
  parser:summary(cmd.summary)
  parser:description(
    "A thread pinned to --cpu follows a random cycle of pointers through a\n"
    .. "buffer on --node: each load depends on the one before, so the time per\n"
    .. "load is the latency.  The order defeats the prefetchers (pattern random),\n"
    .. "and the pages are checked to be on the node asked.  With --curve, the\n"
    .. "latency is measured for working sets from 4 KiB to beyond the last-level\n"
    .. "cache, so that every cache level shows: on huge pages (where they can be\n"
    .. "had) and on 4 KiB pages, which show where the TLB runs out; --huge\n"
    .. "measures that one page kind.  A cache level is named only where the\n"
    .. "curve steps at it.")
  parser:epilog("Examples:\n"
    .. "  lnuma latency\n"
    .. "  lnuma latency --size 1G --huge thp --node 0 --cpu 1\n"
    .. "  lnuma latency --curve --svg curve.svg\n"
    .. "  lnuma latency --pattern uniform --json")
  parser:option("--size", "Buffer size (default 4 x the last-level cache, at least 256M).")
    :argname("SIZE"):convert(cb.size)
  parser:option("--node", "Memory node (default: the CPU's)."):argname("N"):convert(cb.integer)
  parser:option("--cpu", "CPU of the chasing thread (default: the first of the node).")
    :argname("C"):convert(cb.integer)
  cb.huge_option(parser)
  parser:option("--pattern", "random (default), uniform (TLB miss per load), sequential, "
                .. "stride."):argname("P")
  parser:option("--stride", "Bytes between loads for --pattern stride."):argname("SIZE")
    :convert(cb.size)
  cb.repetitions_option(parser, 5)
  parser:option("--min-time", "Milliseconds per repetition (default 20)."):argname("MS")
    :convert(cb.ms)
  parser:flag("--curve", "Measure the latency curve instead of one size.")
  parser:option("--sizes", "Sizes of the curve, e.g. 4K,64K,1M,64M (default: 4K to four "
                .. "times the last-level cache)."):argname("LIST"):convert(cb.sizes)
  cb.output_options(parser)
end

function cmd.run(args)
  local lnuma = require "lnuma"
  local opts = cb.pick(args, {}, { "node", "cpu", "huge", "pattern", "stride", "repetitions",
                                   "min_time" })
  if args.curve then
    if args.size then error("--size: use --sizes with --curve", 0) end
    opts.sizes = args.sizes
    return cb.emit(cb.call(lnuma.bench.latency_curve, opts), args)
  end
  if args.sizes then error("--sizes: only with --curve", 0) end
  opts.size = args.size
  return cb.emit(cb.call(lnuma.bench.latency, opts), args)
end

return cmd
