--- Known findings the API fuzzer steps around until they are fixed.
--
-- Each entry names a finding of /work/fuzz-findings.md (issue 13) and says
-- which calls reproduce it; the fuzzer skips a call an entry matches (and
-- counts the skips), so the rest of the API stays under test.  Remove an
-- entry once its fix is merged: the fuzzer then tests that class again.
--
-- api: calls of spec/fuzz/fuzz.lua.  `match(call)` sees `call.name`
-- ("lnuma.alloc", "buffer:placement", ...), `call.args` (array, `call.n`
-- long), `call.strings` (set of every string in the arguments, two levels
-- deep) and `call.trapped` (set of trap actions the arguments carry: "free",
-- "gc", "error", ...).
--
-- plans: probes of spec/fuzz/plans.lua (`probe` names one of its PROBES)
-- that are known to get out of the sandbox: they are not generated; and
-- checks it makes (`check`: "svg", the XML `plan show --svg` writes) that
-- are known to fail: they are not made.

return {
  api = {},
  plans = {},
}
