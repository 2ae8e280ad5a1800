std = "lua54"
max_line_length = 100
codes = true
files["spec"] = { std = "+busted" }
files["bin/lnuma"] = { std = "lua54" }
