-- lnuma compare and its parts: placement strings, metric patterns, the run
-- function experiments call (lnuma.exec.runner), and the command itself on
-- lnuma.experiment.
local lnuma = require "lnuma"
local walker = dofile("spec/support/walker.lua")


-- bin/lnuma with args: stdout, stderr, exit code.
local cli = dofile("spec/support/helpers.lua").lnuma

local function the_walker()
  local path, why = walker()
  if not path then pending(why) end
  return path
end

local function needs_experiment()
  if not lnuma.experiment then pending("lnuma.experiment is not in this build yet") end
end

describe("lnuma.exec.placement", function()
  it("reads key=value items separated by spaces or ';'", function()
    assert.same({ node = 0 }, lnuma.exec.placement("node=0"))
    assert.same({ interleave = "all" }, lnuma.exec.placement("interleave=all"))
    assert.same({ nodes = "0-1", policy = "preferred_many", cpus = "0-3", huge = "thp" },
                lnuma.exec.placement("nodes=0-1 policy=preferred_many; cpus=0-3;huge=thp"))
    assert.same({}, lnuma.exec.placement("default"))
  end)

  it("names what is wrong", function()
    local function err(s) return select(2, pcall(lnuma.exec.placement, s)) end
    assert.matches("unknown key 'nod' in 'nod=1'", err("nod=1"))
    assert.matches("'node' given twice in 'node=0 node=1'", err("node=0 node=1"))
    assert.matches("'node' is not key=value", err("node"))
    assert.matches("empty placement", err("  "))
    assert.matches("string expected, got number", err(1))
  end)
end)

describe("lnuma.exec.runner", function()
  it("refuses a metric pattern without one capture or malformed", function()
    assert.matches("'ns' needs one capture around the number",
                   select(2, pcall(lnuma.exec.runner, { cmd = { "true" }, metrics = { "ns" } })))
    assert.matches("'%(%%d' needs one capture around the number",
                   select(2, pcall(lnuma.exec.runner, { cmd = { "true" }, metrics = { "(%d" } })))
    assert.matches("unknown option 'metric'",
                   select(2, pcall(lnuma.exec.runner, { cmd = { "true" }, metric = "x" })))
  end)

  it("names a metric by the leading word of its pattern", function()
    local _, names = lnuma.exec.runner{ cmd = { "true" },
                                        metrics = { "p99=(%d+) ns", "[(]([%d.]+)[)]" } }
    assert.same({ "p99", "metric" }, names)
  end)

  it("runs the program under a placement level and returns its metrics and pages", function()
    local w = the_walker()
    local run = lnuma.exec.runner{ cmd = { w, "8", "100" }, metrics = { "ns_per_load=([%d.]+)" } }
    local r = assert(run({ placement = "node=0" }))
    assert.is_number(r.ns_per_load)
    assert.is_true(r.wall_ns > 0)
    assert.is_true(r.max_rss_bytes > 8 * 1024 * 1024)
    assert.same({ 0 }, r.placement.nodes)
    assert.is_true(r.placement.held)
    assert.equal(0, r.placement.pages_by_node[1].node)
    assert.is_true(r.placement.pages_by_node[1].pages >= 2048)
  end)

  it("reports a failing run as nil and its exit status with the stderr tail", function()
    local run = lnuma.exec.runner{ cmd = { "sh", "-c", "echo broken >&2; exit 2" } }
    assert.same({ nil, "exit 2; stderr: broken" }, { run({}) })
    run = lnuma.exec.runner{ cmd = { "sh", "-c", "echo t=x" }, metrics = { "t=(%d+)" } }
    local r, msg = run({})
    assert.is_nil(r)
    assert.equal("metric t: no match for 't=(%d+)' in its output (last line: t=x)", msg)
  end)

  it("passes levels named like exec options (node, cpus) to the program", function()
    local cpu = lnuma.topology().allowed.cpus[1]
    local run = lnuma.exec.runner{ cmd = { "sleep", "0.2" } }
    local r = assert(run({ node = 0, cpus = { cpu } }))
    assert.same({ cpu }, r.cpus_ran)
    assert.same({ 0 }, r.placement.nodes)
  end)
end)

describe("lnuma compare", function()
  it("refuses no placement, a bad placement and a bad metric, naming the option", function()
    local _, err, code = cli("compare -- true")
    assert.equal(1, code)
    assert.matches("%-%-placement: give at least one", err)
    _, err = cli("compare --placement nod=0 -- true")
    assert.matches("%-%-placement: unknown key 'nod'", err)
    _, err = cli("compare --placement node=0 --metric ns -- true")
    assert.matches("%-%-metric: 'ns' needs one capture", err)
  end)

  it("says a missing command is not found, exit status 127", function()
    local _, err, code = cli("compare --placement node=0 -- lnuma-no-such-program")
    assert.equal(127, code)
    assert.equal("lnuma compare: exec: lnuma-no-such-program: command not found (not in PATH)\n",
                 err)
  end)

  it("runs each placement N times in a seeded interleaved order, JSON on stdout", function()
    needs_experiment()
    local w = the_walker()
    local out, err, code = cli(("compare --placement node=0 --placement interleave=all "
      .. "--repetitions 3 --warmup 0 --seed 7 --metric 'ns_per_load=([%%d.]+)' --json -- %s 4 50")
      :format(w))
    assert.equal(0, code, err)
    local r = assert(lnuma.report.decode(out))
    assert.equal("experiment", r.benchmark)
    assert.equal(7, r.seed)
    assert.equal("ns_per_load", r.metric)
    assert.equal(6, #r.order)
    for _, c in ipairs(r.combinations) do assert.equal(3, #c.runs) end
    assert.equal(2, #r.placements)
    assert.equal("node=0", r.placements[1].placement)
    assert.equal(0, r.placements[1].by_node[1].node)
    assert.equal(0, r.placements[1].failed)
  end)

  it("examples/walker/compare.sh runs walker under each node and interleaved", function()
    needs_experiment()
    local w = the_walker()
    local p = assert(io.popen(("WALKER=%s sh examples/walker/compare.sh "
      .. "4 20 2 --json --warmup 0 2>/dev/null"):format(w)))
    local out = p:read("a")
    assert.is_true(p:close())
    local r = assert(lnuma.report.decode(out))
    assert.equal("ns_per_load", r.metric)
    local names = {}
    for _, row in ipairs(r.placements) do names[#names + 1] = row.placement end
    assert.equal("interleave=all", names[#names])
    assert.matches("^node=%d+$", names[1])
    assert.equal(2, r.repetitions)
  end)

  it("reports failing runs with their exit status and stderr, exit status 1", function()
    needs_experiment()
    local out, _, code = cli("compare --placement node=0 --placement default --repetitions 2 "
      .. "--warmup 0 -- sh -c 'echo oops >&2; exit 5'")
    assert.equal(1, code)
    assert.matches("failed run of node=0: exit 5; stderr: oops", out)
    assert.matches("failed run of default: exit 5; stderr: oops", out)
  end)
end)
