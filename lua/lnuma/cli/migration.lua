--- `lnuma migration`: page migration speed between nodes.
-- @module lnuma.cli.migration

local cb = require "lnuma.cli.bench"

local cmd = {
  name = "migration",
  summary = "Measure page migration speed (pages/s moved by move_pages).",
}

function cmd.setup(parser)
  parser:summary(cmd.summary)
  parser:description(
    "A buffer is allocated on --from, then its pages are moved to --to with\n"
    .. "move_pages; the figure is pages per second (as numactl's migspeed).")
  parser:epilog("Examples:\n  lnuma migration --from 0 --to 1 --size 256M")
  parser:option("--size", "Buffer size (default 64M)."):argname("SIZE"):convert(cb.size)
  parser:option("--from", "Source node (default: the first)."):argname("N"):convert(cb.integer)
  parser:option("--to", "Target node (default: the last)."):argname("N"):convert(cb.integer)
  cb.huge_option(parser)
  cb.repetitions_option(parser, 3)
  cb.output_options(parser)
end

function cmd.run(args)
  local lnuma = require "lnuma"
  local opts = cb.pick(args, {}, { "size", "from", "to", "huge", "repetitions" })
  return cb.emit(cb.call(lnuma.bench.migration, opts), args)
end

return cmd
