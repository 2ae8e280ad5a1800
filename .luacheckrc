std = "lua54"
max_line_length = 100
codes = true
files["spec"] = { std = "+busted" }
files["bin/lnuma"] = { std = "lua54" }
-- Placement plans run with a read-only global `topology` (lnuma.plan).
files["examples/host"] = { read_globals = { "topology" } }
