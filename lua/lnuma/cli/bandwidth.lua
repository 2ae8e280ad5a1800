--- `lnuma bandwidth`: memory bandwidth of a STREAM-like kernel on pinned
-- threads.
-- @module lnuma.cli.bandwidth

local cb = require "lnuma.cli.bench"

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
    .. "  lnuma bandwidth --kernel read --size 1G --threads 1 --json\n"
    .. "  lnuma bandwidth --weights 0:3,1:1            (a buffer 3/4 on node 0, 1/4 on 1)\n"
    .. "  lnuma bandwidth --weights 0:1,1:1 --sweep    (100:0 ... 0:100, best mix)\n"
    .. "  lnuma bandwidth --sweep --weights 0:2,1:1,2:1 --weights 0:1,1:1,2:1")
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
  parser:option("--weights", "Per-buffer weights NODE:WEIGHT,... (e.g. 0:3,1:1): chunk k of "
                .. "the buffer on the node a smooth weighted round-robin picks; bandwidth and "
                .. "latency of that mix, placement proven page by page.  Repeat for several "
                .. "mixes."):argname("W"):count("*")
  parser:flag("--sweep", "Sweep the mix between the two nodes of --weights (or the two "
              .. "memory nodes) from 100:0 to 0:100, or measure each --weights given; say "
              .. "which mix is best for bandwidth and for latency.")
  parser:option("--points", "Mixes a --sweep measures (default 11: steps of 10%)."):argname("N")
    :convert(cb.integer)
  parser:flag("--no-latency", "With --weights or --sweep: bandwidth only.")
  cb.output_options(parser)
end

-- --weights/--sweep: the options of lnuma.bench.weights.
local function weights_opts(args)
  local W = require "lnuma.weights"
  local vectors = {}
  for i, text in ipairs(args.weights or {}) do
    local w, msg = W.parse(text, "--weights")
    if not w then error(msg, 0) end
    vectors[i] = w
  end
  if args.node then
    error("--node: not with --weights or --sweep (the weights name the nodes)", 0)
  end
  local opts = cb.pick(args, {}, { "kernel", "size", "threads", "cpus", "isa", "huge",
                                   "repetitions", "min_time", "points" })
  opts.latency = not args.no_latency
  if args.sweep and #vectors <= 1 then
    if #vectors == 1 then
      local nodes = {}
      for node in pairs(vectors[1]) do nodes[#nodes + 1] = node end
      table.sort(nodes)
      if #nodes ~= 2 then
        error(("--sweep: %d nodes in --weights; a sweep steps between two (for more, give "
               .. "each mix with its own --weights)"):format(#nodes), 0)
      end
      opts.nodes = nodes
    end
  else
    if args.points then error("--points: only with --sweep over two nodes", 0) end
    opts.vectors = vectors
  end
  return opts
end

function cmd.run(args)
  local lnuma = require "lnuma"
  if args.sweep or #(args.weights or {}) > 0 then
    local opts = weights_opts(args)
    return cb.emit(cb.call(lnuma.bench.weights, opts,
                           { vectors = "--weights", nodes = "--weights" }), args)
  end
  if args.points then error("--points: only with --sweep", 0) end
  local opts = cb.pick(args, {}, { "kernel", "size", "threads", "cpus", "node", "isa", "huge",
                                   "repetitions", "min_time" })
  return cb.emit(cb.call(lnuma.bench.bandwidth, opts), args)
end

return cmd
