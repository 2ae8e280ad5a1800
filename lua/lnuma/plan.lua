--- Placement plans: a Lua file that says which thread runs on which CPU and
-- where each memory region and pool lives, checked against a machine before
-- anything runs.
--
-- A plan file returns a table with `threads` (`name`, `cpus`, `uses`, `hot`),
-- `memory` (`name`, `size`, `node`, `policy`, `huge`, `weights`: with
-- `policy = "weighted"` instead of `node`, see `lnuma.weights`) and `pools` (`name`,
-- `node`, `size`, `count`).  It runs in a sandbox: a fresh environment with
-- the safe parts of the standard library and a read-only global `topology`
-- (the target machine), under an instruction and a memory limit.
--
-- Limits: the instruction count is looked at every 1000 virtual-machine
-- instructions and memory at every allocation, so loops, recursion and
-- growing tables or strings stop within a second or two.  A single call into
-- a C function is not interrupted: a pathological string pattern over a long
-- subject (`("a"):rep(1e5):find(".-.-.-b")`) runs until it finishes.
--
-- This module is the one place where plans are checked: `lnuma_plan_load()`
-- in C runs it in a private Lua state.
-- @module lnuma.plan

local core = require "lnuma.core"
local check = require "lnuma.plan_check"
local sandbox = require "lnuma.plan_sandbox"
local argerror = require("lnuma.options").argerror

local show, human = check.show, check.human

local plan = {}

--- Default limits of a plan's run: instructions executed and bytes of live
-- memory (allocated during the run and not yet freed).
plan.LIMITS = { instructions = 50000000, memory = 32 * 1024 * 1024 }

--- The largest plan file read (bytes); a larger one, or anything but a
-- regular file, is refused before a byte is read.
plan.MAX_FILE = 1024 * 1024

--- Memory policies a region may ask for (as `lnuma.alloc` takes them).
plan.POLICIES = check.POLICIES

local Plan = {}
Plan.__index = Plan

-- What a plan object knows but does not show (a topology is no plain data).
local private = setmetatable({}, { __mode = "k" })

local rawsetmetatable = setmetatable

-- ----------------------------------------------------------------- load --

local OPTIONS = { topology = true, instructions = true, memory = true }

local function check_opts(opts, fname, extra)
  if opts == nil then return {} end
  if type(opts) ~= "table" then argerror(fname, nil, "table expected, got " .. type(opts), 3, 2) end
  for k in pairs(opts) do
    if not OPTIONS[k] and k ~= extra then
      argerror(fname, nil, ("unknown option '%s'"):format(tostring(k)), 3, 2)
    end
  end
  for _, k in ipairs { "instructions", "memory" } do
    local v = opts[k]
    if v ~= nil and (math.type(v) ~= "integer" or v <= 0) then
      argerror(fname, k, "a positive integer expected", 3, 2)
    end
  end
  local topo = opts.topology
  if topo ~= nil and (type(topo) ~= "table" or type(rawget(topo, "nodes")) ~= "table") then
    argerror(fname, "topology", ("a topology (lnuma.topology{...}) expected, got %s")
      :format(show(topo)), 3, 2)
  end
  return opts
end

local function limits_of(opts)
  return { instructions = opts.instructions or plan.LIMITS.instructions,
           memory = opts.memory or plan.LIMITS.memory }
end

-- The topology to check against, and whether it is this machine's (a
-- topology says where it came from: "system", "xml" or "synthetic").
local function target(opts)
  local topo = opts.topology
  if topo == nil then
    local msg
    topo, msg = require("lnuma.topology").topology()
    if topo == nil then return nil, "this machine's topology: " .. tostring(msg) end
  end
  local source = type(topo) == "table" and rawget(topo, "source")
  return topo, source == "system"
end

local function make(resolved, file, topo, live)
  resolved.file = file
  resolved.target = live and "this machine" or "another machine"
  local p = rawsetmetatable(resolved, Plan)
  private[p] = { topology = topo, live = live }
  return p
end

--- Loads a plan file, runs it in the sandbox and checks it.
-- @tparam string path the plan file
-- @tparam[opt] table opts `topology` (a topology to check against instead of
--   this machine's, e.g. `lnuma.topology{xml = "prod.xml"}`), `instructions`
--   and `memory` (limits of the plan's run; defaults in `plan.LIMITS`)
-- The file must be a regular file of at most `plan.MAX_FILE` bytes.
-- @treturn[1] Plan the resolved plan: `threads`, `memory`, `pools`, `warnings`
-- @return[2] nil
-- @treturn[2] string "file: key.path: what is wrong" (or "file:line: ...")
function plan.load(path, opts)
  if type(path) ~= "string" then
    argerror("load", nil, "string expected, got " .. type(path), 2)
  end
  opts = check_opts(opts, "load")
  local text, msg = core.read_input(path, plan.MAX_FILE, "plan file")
  if not text then return nil, msg end
  local topo, live = target(opts)
  if topo == nil then return nil, path .. ": " .. live end
  local env = sandbox.env(topo)
  local limits = limits_of(opts)
  -- Compiling counts too (a megabyte of source is a large parse).
  local ok, chunk, err = core.run_limited(limits, load, text, "@" .. path, "t", env)
  if ok and not chunk then
    if err == "not enough memory" then -- load() returns its memory error
      err = ("%s: memory limit of %d bytes exceeded (compiling the plan)"):format(path,
                                                                                  limits.memory)
    end
    return nil, err
  end
  local t
  if ok then
    ok, t = core.run_limited(limits, chunk)
  else
    t = chunk
  end
  if not ok then
    if not t:find(path, 1, true) then t = path .. ": " .. t end
    return nil, t
  end
  local ok2, resolved = core.run_limited(limits, check.resolve, t, check.facts_of(topo, live))
  if not ok2 then return nil, path .. ": " .. resolved end
  return make(resolved, path, topo, live)
end

--- Checks a plan given as a table (as a plan file would return it).
-- @tparam table t the plan
-- @tparam[opt] table opts as for `load`; `name` names the plan in messages
-- @treturn[1] Plan the resolved plan
-- @return[2] nil
-- @treturn[2] string the message
function plan.check(t, opts)
  opts = check_opts(opts, "check", "name")
  local name = opts.name ~= nil and tostring(opts.name) or "plan"
  local topo, live = target(opts)
  if topo == nil then return nil, name .. ": " .. live end
  local ok, resolved = core.run_limited(limits_of(opts), check.resolve, t,
                                        check.facts_of(topo, live))
  if not ok then return nil, name .. ": " .. resolved end
  return make(resolved, name, topo, live)
end

-- ---------------------------------------------------------------- plans --

local function contains(set, x)
  for _, v in ipairs(set) do if v == x then return true end end
  return false
end

-- Checks that self is a plan (Plan methods called with a dot, or on
-- something else, say so instead of failing inside).
local function check_self(self, fname, level)
  if private[self] == nil then
    error(("calling '%s' on bad self (a plan from lnuma.plan.load or lnuma.plan.check "
           .. "expected, got %s)"):format(fname, show(self)), level or 3)
  end
end

local function check_name(name, fname)
  if type(name) ~= "string" then
    argerror(fname, "name", "a string expected, got " .. show(name), 3)
  end
end

local function find(list, name)
  for i, x in ipairs(list) do
    if x.name == name then return x, i end
  end
  return nil
end

--- A checked plan (made by `load` or `check`): the resolved plan as plain
-- fields `file`, `target` ("this machine" or "another machine"), `threads`,
-- `memory`, `pools` and `warnings`, with the methods below.  `apply` and
-- `apply_thread` need a plan checked against this machine; the others also
-- work for a plan checked against another machine's topology.
-- @type Plan

--- The thread of that name (nil when there is none).
-- @tparam string name
-- @treturn table|nil
function Plan:thread(name)
  check_self(self, "thread")
  check_name(name, "thread")
  return (find(self.threads, name))
end

--- The memory region of that name (nil when there is none).
-- @tparam string name
-- @treturn table|nil
function Plan:region(name)
  check_self(self, "region")
  check_name(name, "region")
  return (find(self.memory, name))
end

--- The pool of that name (nil when there is none).
-- @tparam string name
-- @treturn table|nil
function Plan:pool(name)
  check_self(self, "pool")
  check_name(name, "pool")
  return (find(self.pools, name))
end

--- The topology the plan was checked against.
-- @treturn table
function Plan:topology()
  check_self(self, "topology")
  return private[self].topology
end

--- The resolved plan as plain data (for JSON).
-- @treturn table `file`, `target`, `threads`, `memory`, `pools`, `warnings`
function Plan:data()
  check_self(self, "data")
  local function copy(v)
    if type(v) ~= "table" then return v end
    local c = {}
    for k, x in pairs(v) do c[k] = copy(x) end
    return c
  end
  return { file = self.file, target = self.target, threads = copy(self.threads),
           memory = copy(self.memory), pools = copy(self.pools),
           warnings = copy(self.warnings) }
end

local function require_live(self, what)
  check_self(self, what, 4)
  if not private[self].live then
    error(("%s: the plan was checked against another machine's topology; load it without "
      .. "a topology to use it here"):format(what), 3)
  end
  -- The calls apply makes, from their modules (init.lua requires this one).
  local memory = require "lnuma.memory"
  return { alloc = memory.alloc, pool = memory.pool, bind = core.bind, current = core.current,
           weights = require "lnuma.weights" }
end

-- What a region's or pool's memory policy came to: the fields of its report
-- and, when the kernel refused it, a warning (the pages then lie where first
-- touch put them, which a one-node machine cannot tell from success).
local function policy_report(entry, info, what, warnings)
  entry.policy_applied = info.policy_applied ~= false
  if not entry.policy_applied then
    entry.policy_note = info.policy_note
    warnings[#warnings + 1] = ("%s: memory policy %s was not applied (%s)")
      :format(what, tostring(info.policy), tostring(info.policy_note or "refused"))
  end
end

--- Allocates the plan's regions and pools with verified placement.
-- @treturn[1] table `memory` and `pools` by name, and `report`: per region
--   and pool what was asked and what happened (pages per node,
--   `policy_applied` and, when false, `policy_note`), and `warnings` (a
--   memory policy the kernel refused, pages off their nodes)
-- @return[2] nil
-- @treturn[2] string message naming the region or pool
-- @treturn[2] integer errno
function Plan:apply()
  local lnuma = require_live(self, "apply")
  local warnings = {}
  local out = { memory = {}, pools = {},
                report = { memory = {}, pools = {}, warnings = warnings } }
  local function undo()
    for _, b in pairs(out.memory) do b:free() end
    for _, p in pairs(out.pools) do if p.free then p:free() end end
  end
  for i, r in ipairs(self.memory) do
    local opts = { policy = r.policy }
    if r.huge == "none" then
      opts.huge = false
    elseif r.huge ~= "default" then
      opts.huge = r.huge
    end
    if r.weights then
      opts.weights = r.weights
    elseif #r.nodes == 1 then
      opts.node = r.nodes[1]
    elseif #r.nodes > 1 then
      opts.nodes = r.nodes
    end
    local buf, msg, errno = lnuma.alloc(r.size, opts)
    if not buf then
      undo()
      return nil, ("memory[%d] (%s): %s"):format(i, r.name, msg), errno
    end
    out.memory[r.name] = buf
    local got = buf:placement()
    local on_target = 0
    for node, pages in pairs(got.by_node) do
      if #r.nodes == 0 or contains(r.nodes, node) then on_target = on_target + pages end
    end
    local entry = {
      name = r.name,
      asked = { size = r.size, nodes = r.nodes, policy = r.policy, huge = r.huge,
                weights = r.weights },
      got = { pages = got.pages, page_size = got.page_size, by_node = got.by_node,
              pages_by_size = got.pages_by_size, huge_fraction = got.huge_fraction,
              huge_method = got.huge_method },
      ok = on_target == got.pages,
    }
    local where = ("memory[%d] (%s)"):format(i, r.name)
    policy_report(entry, buf:info(), where, warnings)
    if not entry.ok then
      warnings[#warnings + 1] = ("%s: %d of %d pages are off the nodes asked"):format(where,
        got.pages - on_target, got.pages)
    end
    if r.weights then
      -- Weighted: each page on its chunk's node, not only on one of the nodes.
      local proof = lnuma.weights.check(buf)
      entry.weights = proof
      if proof and not (proof.ok and proof.within_one_chunk) then
        entry.ok = false
        warnings[#warnings + 1] = ("%s: %d pages are off their chunk's node (weights %s)")
          :format(where, proof.misplaced, lnuma.weights.format(r.weights))
      end
    end
    out.report.memory[i] = entry
  end
  for i, p in ipairs(self.pools) do
    local pool, msg, errno = lnuma.pool { node = p.node, size = p.size, count = p.count }
    if not pool then
      undo()
      return nil, ("pools[%d] (%s): %s"):format(i, p.name, msg), errno
    end
    out.pools[p.name] = pool
    local entry = { name = p.name, asked = { node = p.node, size = p.size, count = p.count } }
    local where = ("pools[%d] (%s)"):format(i, p.name)
    local got = pool:placement()
    entry.got = { pages = got.pages, page_size = got.page_size, by_node = got.by_node }
    entry.ok = (got.by_node[p.node] or 0) == got.pages
    policy_report(entry, pool:info(), where, warnings)
    if not entry.ok then
      warnings[#warnings + 1] = ("%s: %d of %d pages are off node %d"):format(where,
        got.pages - (got.by_node[p.node] or 0), got.pages, p.node)
    end
    out.report.pools[i] = entry
  end
  return out
end

--- Pins the calling thread to the CPUs of the plan's thread `name`.
-- @tparam string name a thread of the plan
-- @treturn[1] table `name`, `cpus` (asked), `cpu_seen`, `node_seen`, `ok`
-- @return[2] nil
-- @treturn[2] string message
-- @treturn[2] integer errno
function Plan:apply_thread(name)
  local lnuma = require_live(self, "apply_thread")
  check_name(name, "apply_thread")
  local t = find(self.threads, name)
  if t == nil then
    local names = {}
    for _, x in ipairs(self.threads) do names[#names + 1] = x.name end
    argerror("apply_thread", "name", ("no thread named %s; threads: %s")
      :format(show(name), #names > 0 and table.concat(names, ", ") or "none"), 2)
  end
  local ok, msg, errno = lnuma.bind { cpus = t.cpus }
  if not ok then return nil, ("thread %s: %s"):format(t.name, msg), errno end
  local cpu, node = lnuma.current()
  return { name = t.name, cpus = t.cpus, cpu_seen = cpu, node_seen = node,
           ok = contains(t.cpus, cpu) }
end

Plan.__tostring = function(self)
  return ("lnuma.plan %s (%d threads, %d regions, %d pools, %d warnings)")
    :format(self.file, #self.threads, #self.memory, #self.pools, #self.warnings)
end

plan.human = human

return plan
