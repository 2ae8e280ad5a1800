-- lnuma.exec and `lnuma exec`: a program run under a memory policy and CPU
-- set, its output passed through, its exit status, times, faults, and the
-- pages and CPUs it really had (from its numa_maps and task stats).
local lnuma = require "lnuma"
local walker = dofile("spec/support/walker.lua")

local MiB = 1024 * 1024

-- bin/lnuma with args: stdout, stderr, exit code.
local cli = dofile("spec/support/helpers.lua").lnuma

local function the_walker()
  local path, why = walker()
  if not path then pending(why) end
  return path
end

local function fd_count()
  local n = 0
  for _ in require("lfs").dir("/proc/self/fd") do n = n + 1 end
  return n
end

describe("lnuma.exec", function()
  it("runs true: exit 0, ok, times and faults from wait4, a JSON-able result", function()
    local r = assert(lnuma.exec{"true"})
    assert.equal("exec", r.benchmark)
    assert.equal(0, r.exit.code)
    assert.is_true(r.ok)
    assert.is_nil(r.exit.signal)
    assert.is_true(r.wall_ns > 0)
    assert.is_true(r.minor_faults > 0)
    assert.is_true(r.max_rss_bytes > 0)
    assert.same({ "true" }, r.command)
    assert.equal("ns", r.units.time)
    local back = lnuma.report.decode(lnuma.report.json(r))
    assert.equal(0, back.exit.code)
  end)

  it("reports false's exit status 1 and sh -c 'exit 3' as 3", function()
    local r = assert(lnuma.exec{"false"})
    assert.equal(1, r.exit.code)
    assert.is_false(r.ok)
    r = assert(lnuma.exec{"sh", "-c", "exit 3"})
    assert.equal(3, r.exit.code)
  end)

  it("names the signal that ended the program, exit status 128 + N", function()
    local r = assert(lnuma.exec{"sh", "-c", "kill -KILL $$"})
    assert.equal("SIGKILL", r.exit.signal)
    assert.equal(9, r.exit.signal_number)
    assert.equal(137, r.exit.code)
  end)

  it("returns nil, a clear message, ENOENT and exit status 127 for a missing command", function()
    local r, msg, errno, info = lnuma.exec{"lnuma-no-such-program", "x"}
    assert.is_nil(r)
    assert.equal("exec: lnuma-no-such-program: command not found (not in PATH)", msg)
    assert.equal(2, errno)
    assert.same({ failed_step = "exec", exit_code = 127 }, info)
  end)

  it("returns exit status 126 for a file that is not executable", function()
    local path = os.tmpname()
    local r, msg, errno, info = lnuma.exec{path}
    os.remove(path)
    assert.is_nil(r)
    assert.equal("exec: " .. path .. ": Permission denied", msg)
    assert.equal(13, errno)
    assert.equal(126, info.exit_code)
  end)

  it("keeps what the program wrote when asked (capture), stdout and stderr apart", function()
    local r = assert(lnuma.exec{"sh", "-c", "echo out; echo err >&2; exit 4", capture = true,
                                stdout = "null", stderr = "null"})
    assert.equal("out\n", r.stdout)
    assert.equal("err\n", r.stderr)
    assert.is_false(r.stdout_truncated)
    assert.equal(4, r.exit.code)
  end)

  it("stops a program at its time limit with SIGTERM and says so", function()
    local t0 = os.time()
    local r = assert(lnuma.exec{"sleep", "20", timeout_ns = 200 * 1000000})
    assert.is_true(os.time() - t0 < 10)
    assert.is_true(r.exit.timed_out)
    assert.equal("SIGTERM", r.exit.signal)
    assert.matches("stopped after the time limit %(200 ms%)", table.concat(r.warnings, "\n"))
  end)

  it("reaps the program and leaks no descriptor", function()
    local before = fd_count()
    local r = assert(lnuma.exec{"sh", "-c", "echo $$", capture = true, stdout = "null"})
    assert.equal(before, fd_count())
    local pid = tonumber(r.stdout)
    assert.is_number(pid)
    assert.is_nil(io.open("/proc/" .. pid .. "/stat"), "the child is still there (a zombie)")
  end)

  it("places the pages of a program bound to node 0 there, as its numa_maps say", function()
    local w = the_walker()
    local r = assert(lnuma.exec{w, "16", "300", node = 0, capture = true, stdout = "null"})
    assert.equal(0, r.exit.code, r.stderr)
    assert.matches("ns_per_load=[%d.]+", r.stdout)
    local p = r.placement
    assert.is_true(p.samples >= 1)
    assert.is_true(p.held)
    assert.equal(1, p.fraction)
    assert.equal(0, p.pages_by_node[1].node)
    assert.is_true(p.pages_by_node[1].bytes >= 16 * MiB, tostring(p.pages_by_node[1].bytes))
    -- The largest mapping is walker's buffer, every page of it on node 0.
    local m = p.mappings[1]
    assert.is_true(m.bytes >= 16 * MiB)
    assert.equal(m.kind == "heap" and "heap" or "anon", m.kind)
    assert.same({ { node = 0, bytes = m.bytes, pages = m.bytes // 4096 } }, m.by_node)
    assert.equal("bind", r.parameters.policy)
    assert.same({}, r.warnings)
  end)

  it("pins a program to the CPUs asked and reports those it ran on", function()
    local cpu = lnuma.topology().allowed.cpus[1]
    local r = assert(lnuma.exec{"sleep", "0.3", cpus = { cpu }})
    assert.same({ cpu }, r.cpus_allowed)
    assert.same({ cpu }, r.cpus_ran)
    assert.is_true(r.cpus_held)
  end)

  it("turns THP off for a program (huge = 'none') and sees no AnonHugePages", function()
    local w = the_walker()
    local r = assert(lnuma.exec{w, "16", "200", huge = "none", stdout = "null"})
    assert.equal(0, r.huge.anon_huge_bytes)
    assert.is_true(r.huge.verified)
    assert.matches("PR_SET_THP_DISABLE", r.huge.method)
  end)

  it("gives a program's malloc THP with huge = 'thp' where the system allows it", function()
    local t = lnuma.thp()
    if not t.available or t.enabled == "never" then pending("THP is off on this machine") end
    -- make sanitize preloads ASan, whose malloc the child inherits and
    -- glibc's tunable never reaches.
    if (os.getenv("LD_PRELOAD") or ""):find("asan") then
      pending("the program's malloc is ASan's (LD_PRELOAD), not glibc's")
    end
    local w = the_walker()
    local r = assert(lnuma.exec{w, "32", "300", huge = "thp", stdout = "null"})
    assert.matches("glibc.malloc.hugetlb=1", r.huge.method)
    assert.is_true(r.huge.anon_huge_bytes > 0, "no AnonHugePages seen")
    assert.is_true(r.huge.verified)
  end)

  describe("bad arguments", function()
    local cases = {
      { { "true", nod = 1 }, "bad argument #1 to 'exec' (unknown option 'nod')" },
      { { "true", node = 4096 }, "bad argument #1 to 'exec' (node: node 4096 does not exist" },
      { {}, "bad argument #1 to 'exec' (cmd: no program to run" },
      { { "true", cmd = { "true" } }, "(cmd: give the command as cmd or as the array part" },
      { { "true", { 1 } }, "(cmd: element 2 is a table, not a string)" },
      { { "true", node = 0, nodes = "0" }, "(nodes: give one of node, nodes and interleave)" },
      { { "true", policy = "local", node = 0 }, "(policy: 'local' takes no nodes)" },
      { { "true", policy = "interleave" }, "(nodes: policy 'interleave' needs nodes)" },
      { { "true", huge = "2M" }, "(huge: '2M': hugetlbfs pages are the program's own doing" },
      { { "true", huge = "x" }, "bad argument #1 to 'exec' (huge: " },
      { { "true", stdout = "file" }, "(stdout: 'file' is not one of inherit, stderr, null)" },
      { { "true", cpus = "0-99999" }, "bad argument #1 to 'exec' (cpus:" },
    }
    for _, c in ipairs(cases) do
      it("raises " .. c[2], function()
        local ok, err = pcall(lnuma.exec, c[1])
        assert.is_false(ok)
        assert.truthy(tostring(err):find(c[2], 1, true), tostring(err))
      end)
    end

    it("lnuma.core.exec reads argv through a proxy once, then runs its copy", function()
      local calls = 0
      local words = { "sh", "-c", "exit 5" }
      local argv = setmetatable({}, { __len = function() return 3 end,
        __index = function(_, i) calls = calls + 1; return words[i] end })
      local r = assert(lnuma.core.exec{ argv = argv })
      assert.equal(5, r.exit_code)
      assert.equal(3, calls)
    end)

    it("lnuma.core.exec runs the argv it read, whatever a finalizer does to the table", function()
      -- A finalizer that empties the caller's argv when the binding allocates.
      local argv = {}
      for _ = 1, 20 do
        argv[1], argv[2], argv[3] = "sh", "-c", "exit 6"
        setmetatable({}, { __gc = function() argv[1], argv[2], argv[3] = nil, nil, nil end })
        local ok, r = pcall(lnuma.core.exec, { argv = argv })
        -- Emptied before it was read: a clean error; after: the copy runs.
        if ok then assert.equal(6, r.exit_code) else assert.matches("argv: empty", r) end
      end
    end)

    it("lnuma.core.exec refuses an argv element that is not a string", function()
      assert.matches("argv: element 2 is a number, not a string",
                     select(2, pcall(lnuma.core.exec, { argv = { "true", 5 } })))
      assert.matches("argv: empty", select(2, pcall(lnuma.core.exec, { argv = {} })))
    end)
  end)
end)

describe("lnuma.report of an exec result", function()
  it("renders text, CSV and SVG, and names a missing field of a tampered one", function()
    local r = assert(lnuma.exec{"sh", "-c", "sleep 0.1", node = 0})
    assert.matches("^lnuma exec: sh %-c sleep 0.1\n  exit 0", lnuma.report.text(r))
    assert.matches("^node,bytes,bytes_with_files,peak_sample_bytes\n", lnuma.report.csv(r))
    assert.matches("Program memory by node", lnuma.report.svg(r))
    local back = lnuma.report.decode(lnuma.report.json(r))
    back.exit = nil
    assert.matches("not a whole lnuma exec result: exit: missing",
                   select(2, pcall(lnuma.report.text, back)))
  end)
end)

describe("lnuma exec (CLI)", function()
  it("passes the program's output through untouched, the report on stderr", function()
    local out, err, code = cli("exec -- sh -c 'printf \"a b\\n\"; echo e >&2'")
    assert.equal(0, code)
    assert.equal("a b\n", out)
    assert.matches("^e\n", err)
    assert.matches("lnuma exec: sh %-c", err)
    assert.matches("exit 0", err)
  end)

  it("takes the program's command line without '--' too, its options left to it", function()
    local out, err, code = cli("exec --node 0 --sample-ms 5 sh -c 'echo $0 -x' --json")
    assert.equal(0, code, err)
    assert.equal("--json -x\n", out) -- sh -c SCRIPT ARG0: $0 is --json
  end)

  it("exits with the program's status, 127 for a missing command", function()
    local _, _, code = cli("exec -- sh -c 'exit 3'")
    assert.equal(3, code)
    local _, err
    _, err, code = cli("exec -- lnuma-no-such-program")
    assert.equal(127, code)
    assert.equal("lnuma exec: exec: lnuma-no-such-program: command not found (not in PATH)\n",
                 err)
  end)

  it("prints one JSON object with --json, the program's stdout going to stderr", function()
    local out, err, code = cli("exec --node 0 --json -- sh -c 'echo from-program'")
    assert.equal(0, code)
    local r = assert(lnuma.report.decode(out))
    assert.equal("exec", r.benchmark)
    assert.equal(0, r.exit.code)
    assert.same({ 0 }, r.parameters.nodes)
    assert.matches("from%-program", err)
  end)

  it("writes --svg and --csv files of the pages per node", function()
    local w = the_walker()
    local svg, csv = os.tmpname(), os.tmpname()
    local _, err, code = cli(("exec --node 0 --svg %s --csv %s -- %s 8 100"):format(svg, csv, w))
    assert.equal(0, code, err)
    local s = io.open(svg):read("a")
    local c = io.open(csv):read("a")
    os.remove(svg)
    os.remove(csv)
    assert.matches("^<%?xml", s)
    assert.matches("Program memory by node", s)
    assert.matches("^node,bytes,bytes_with_files,peak_sample_bytes\n0,%d+", c)
  end)

  it("names a bad option in its error", function()
    local _, err, code = cli("exec --node 4096 -- true")
    assert.equal(1, code)
    assert.matches("lnuma exec: %-%-node: node 4096 does not exist", err)
  end)

  it("passes a SIGTERM sent to lnuma on to the program, and ends by it too", function()
    local t0 = os.time()
    local _, _, code = cli("exec -- sh -c 'kill -TERM $PPID; exec sleep 20'")
    assert.is_true(os.time() - t0 < 10, "the program was not stopped")
    assert.equal(143, code) -- 128 + SIGTERM, as the shell that ran it says
  end)
end)
