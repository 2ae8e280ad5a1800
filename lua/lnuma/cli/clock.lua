--- `lnuma clock`: the clock lnuma times with, how far the CPUs' counters
-- are apart (`lnuma clock skew`), and how the clock drifts against
-- `CLOCK_MONOTONIC_RAW` (`lnuma clock drift`).
-- @module lnuma.cli.clock

local cb = require "lnuma.cli.bench"

local cmd = {
  name = "clock",
  summary = "Show the clock; measure counter skew between CPUs or drift over time.",
}

function cmd.setup(parser)
  parser:summary(cmd.summary)
  parser:description(
    "lnuma clock         the clock: source, frequency, cost, calibration.\n"
    .. "lnuma clock skew    counter offsets between every pair of CPUs, each with its\n"
    .. "                    uncertainty: round trips through one cache line (t1 on A,\n"
    .. "                    t2 on B, t3 on A: the offset lies in [t2 - t3, t2 - t1]),\n"
    .. "                    the tightest bounds over many tries, both directions.\n"
    .. "lnuma clock drift   the clock against CLOCK_MONOTONIC_RAW over a stretch of time:\n"
    .. "                    drift in ppm with its uncertainty, and when the error may\n"
    .. "                    pass a threshold (time to recalibrate).")
  parser:epilog("Examples:\n  lnuma clock\n  lnuma clock skew --cpus 0-3 --tries 2000\n"
                .. "  lnuma clock drift --duration 5000 --threshold 500 --json")
  parser:command_target("clock_command")
  parser:require_command(false)
  local skew = parser:command("skew", "Counter offsets between CPUs, with their uncertainty.")
  skew:option("--cpus", "CPUs, 2 to 256, each once (default: all allowed, at most 256).")
    :argname("LIST")
  skew:option("--tries", "Round trips per ordered pair (default 1000)."):argname("N")
    :convert(cb.integer)
  skew:flag("--json", "Print the result as JSON.")
  local drift = parser:command("drift", "Drift against CLOCK_MONOTONIC_RAW; when to recalibrate.")
  drift:option("--duration", "How long to watch, in ms (default 1000; at most 1 h)."):argname("MS")
    :convert(cb.ms)
  drift:option("--samples", "Readings spread over the duration (default 21)."):argname("N")
    :convert(cb.integer)
  drift:option("--threshold", "Error you tolerate, in ns (default 1000)."):argname("NS")
    :convert(cb.integer)
  drift:flag("--json", "Print the result as JSON.")
  parser:flag("--json", "Print the clock's facts as JSON.")
end

local function f1(v) return ("%.1f"):format(v) end

--- The readable form of a skew result.
-- @tparam table r result of `lnuma.clock.skew`
-- @treturn string
function cmd.skew_text(r)
  local out = {
    ("Counter skew, %s clock at %d Hz: %d CPUs, %d round trips per ordered pair"):format(
      r.clock.source, r.clock.hz, #r.cpus, r.parameters.tries),
    "offset = counter(column) - counter(row), ns, +- half-width of the bounds",
  }
  local head = { ("%6s"):format("cpu") }
  for _, c in ipairs(r.cpus) do head[#head + 1] = ("%16s"):format("cpu" .. c) end
  out[#out + 1] = table.concat(head)
  for a, ca in ipairs(r.cpus) do
    local row = { ("%6s"):format("cpu" .. ca) }
    for b = 1, #r.cpus do
      row[#row + 1] = a == b and ("%16s"):format("-")
        or ("%16s"):format(f1(r.offset_ns[a][b]) .. " +- " .. f1(r.uncertainty_ns[a][b]))
    end
    out[#out + 1] = table.concat(row)
  end
  local fastest = math.huge
  for _, p in ipairs(r.pairs) do fastest = math.min(fastest, p.rtt_ns) end
  out[#out + 1] = ("Largest |offset| %s ns, largest uncertainty %s ns; round trip: %s ns "
    .. "(median over the ordered pairs' medians), fastest single trip %s ns"):format(
    f1(r.max_abs_offset_ns), f1(r.max_uncertainty_ns), f1(r.rtt_stats.median), f1(fastest))
  for _, w in ipairs(r.warnings) do out[#out + 1] = "warning: " .. w end
  return table.concat(out, "\n")
end

--- The readable form of a drift result.
-- @tparam table r result of `lnuma.clock.drift`
-- @treturn string
function cmd.drift_text(r)
  local out = {
    ("Drift of the %s clock against CLOCK_MONOTONIC_RAW over %.3f s (%d readings): "
     .. "%.4f +- %.4f ppm"):format(r.clock.source, r.duration_ns / 1e9, r.samples, r.drift_ppm,
     r.uncertainty_ppm),
    ("Error now: %d +- %s ns (fit residual %s ns rms)"):format(r.error_ns,
     f1(r.error_uncertainty_ns), f1(r.residual_ns)),
  }
  if r.recalibrate_after_ns then
    out[#out + 1] = ("Recalibrate within %.1f s to stay within %d ns (at |drift| + uncertainty; "
      .. "lnuma.clock.recalibrate{every = ...} does it in the background)"):format(
      r.recalibrate_after_ns / 1e9, r.threshold_ns)
  else
    out[#out + 1] = "No drift to correct (the clock is CLOCK_MONOTONIC_RAW itself)"
  end
  for _, w in ipairs(r.warnings) do out[#out + 1] = "warning: " .. w end
  return table.concat(out, "\n")
end

function cmd.run(args)
  local lnuma = require "lnuma"
  local result, text
  if args.clock_command == "skew" then
    result = cb.call(lnuma.clock.skew, cb.pick(args, {}, { "cpus", "tries" }))
    text = cmd.skew_text
  elseif args.clock_command == "drift" then
    result = cb.call(lnuma.clock.drift, cb.pick(args, {}, { "duration", "samples", "threshold" }))
    text = cmd.drift_text
  else
    result = lnuma.clock.info()
    text = function(i)
      return ("%s at %d Hz (%s), %s; now() costs %.1f ns from C, %.1f ns from Lua\n%s")
        :format(i.source, i.hz, i.frequency_source, i.invariant and "invariant" or "not invariant",
                i.cost_c_ns, i.cost_lua_ns, i.reason)
    end
  end
  if args.json then
    io.stdout:write(lnuma.report.json(result, { indent = true }), "\n")
  else
    io.stdout:write(text(result), "\n")
  end
  return 0
end

return cmd
