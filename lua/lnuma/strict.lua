--- Doubtful conditions and strict runs.
--
-- A benchmark result lists its warnings as strings (`result.warnings`).  A
-- warning about a condition that makes the figure doubtful is also listed in
-- `result.doubts` as `{code = ..., message = ...}` (the message is the same
-- string as in `warnings`), with a stable code from `CODES`, so that scripts
-- and `lnuma report` can key on it.
--
-- With `strict = true` (an option of every memory benchmark; `--strict` on the
-- command line) a result with any doubt is a failure: the benchmark returns
-- `nil, message, ECANCELED, result`, where the message lists each doubt as
-- "code: message" and `result` is the whole result with `failed = true` and
-- `failures` (its doubts), for a caller that wants to look or save it.
-- Warnings without a code (a figure re-measured, a note on the method) do
-- not fail a strict run.
-- @module lnuma.strict

local M = {}

--- The codes of doubtful conditions, each with what it means.
M.CODES = {
  policy_refused = "the kernel refused the memory policy: pages are where first touch put them",
  pages_off_node = "some pages (or c2c lines) are not on the node the figure is for",
  placement_unknown = "where the pages are could not be read (move_pages refused)",
  page_sizes_unknown = "which page sizes back the buffer could not be read",
  thp_not_granted = "transparent huge pages were asked and not (all) given",
  hugetlb_not_granted = "hugetlb pages were asked and not (all) given",
  huge_unchecked = "huge pages were asked, but no page was present to check",
  thread_migrated = "a benchmark thread ran on another CPU than the one it was pinned to",
  thread_off_cpu = "a benchmark thread was off its CPU (another program ran there)",
  cpu_shared = "two benchmark threads shared one CPU",
  numa_balancing_on = "kernel NUMA balancing was on during a placement benchmark",
  traffic_idle = "the loaded-latency traffic threads moved nothing in some steps",
  lines_reused = "a c2c cache line was used twice",
  pages_not_moved = "migration: some pages could not be moved",
}

--- ECANCELED (Linux): the errno a strict failure returns.
M.ECANCELED = 125

--- The failure message for a list of doubts: "strict: N doubtful conditions:
-- code: message; ...".
-- @tparam table doubts array of `{code, message}`
-- @tparam[opt] string what the benchmark's name
-- @treturn string
function M.message(doubts, what)
  local parts = {}
  for i, d in ipairs(doubts) do parts[i] = ("%s: %s"):format(d.code, d.message) end
  return ("strict%s: %d doubtful condition%s: %s"):format(what and (" " .. what) or "", #doubts,
    #doubts == 1 and "" or "s", table.concat(parts, "; "))
end

--- Applies strict mode to a result: unchanged when it has no doubts, else
-- marked failed.
-- @tparam table r a result
-- @tparam[opt] string what the benchmark's name, for the message
-- @treturn[1] table r
-- @return[2] nil
-- @treturn[2] string message
-- @treturn[2] integer ECANCELED
-- @treturn[2] table r with `failed = true`, `failures`
function M.check(r, what)
  local doubts = r.doubts or {}
  if #doubts == 0 then return r end
  r.failed, r.failures = true, doubts
  return nil, M.message(doubts, what), M.ECANCELED, r
end

--- Wraps a benchmark so that it takes `strict` (a boolean) among its
-- options; the benchmark itself never sees the key.
-- @tparam string name the benchmark's name (for errors)
-- @tparam function fn the benchmark
-- @treturn function
function M.wrap(name, fn)
  return function(opts, ...)
    if type(opts) ~= "table" or rawget(opts, "strict") == nil then return fn(opts, ...) end
    local strict = rawget(opts, "strict")
    if type(strict) ~= "boolean" then
      error(("bad argument #1 to '%s' (strict: boolean expected, got %s)"):format(name,
        type(strict)), 2)
    end
    local o = {}
    for k, v in pairs(opts) do
      if k ~= "strict" then o[k] = v end
    end
    local r, msg, code = fn(o, ...)
    if not r or not strict then return r, msg, code end
    return M.check(r, name)
  end
end

return M
