-- What several specs need and each used to copy: running shell commands and
-- bin/lnuma, temporary files, reading files, quick benchmark options and the
-- CPUs a test may use.  dofile("spec/support/helpers.lua") returns the table.
local H = {}

local LUA = os.getenv("LUA") or "lua5.4"
H.LUA = LUA

--- Runs a shell command with its stderr joined to stdout: ok, output, code.
function H.sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1", "r"))
  local out = p:read("a")
  local ok, _, code = p:close()
  return ok, out, code
end

--- Runs a shell command keeping stderr apart: stdout, stderr, exit code.
function H.run(cmd)
  local err = os.tmpname()
  local p = assert(io.popen(cmd .. " 2>" .. err))
  local out = p:read("a")
  local _, _, code = p:close()
  local f = io.open(err)
  local errtext = f and f:read("a") or ""
  if f then f:close() end
  os.remove(err)
  return out, errtext, code
end

--- Runs bin/lnuma with args: stdout, stderr, exit code.
function H.lnuma(args) return H.run(LUA .. " bin/lnuma " .. args) end

--- Quotes s for the shell.
function H.quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

--- A fresh temporary directory.
function H.tmpdir()
  local p = assert(io.popen("mktemp -d"))
  local dir = p:read("l")
  p:close()
  return dir
end

--- The whole text of a file (raises when it cannot be read).
function H.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

--- Writes text to path and returns path.
function H.write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

--- Whether a file can be opened.
function H.exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

--- A copy of t with the defaults filled in where t says nothing (short
-- runs for the benchmarks' specs).
function H.with_defaults(defaults, t)
  for k, v in pairs(defaults) do
    if t[k] == nil then t[k] = v end
  end
  return t
end

--- The CPUs this process may use.
function H.allowed_cpus() return require("lnuma").topology().allowed.cpus end

--- Two CPUs this process may use; where there is one, the test is pending
-- (pending is the spec's own: busted does not put it in _G).
function H.two_cpus(pending)
  local cpus = H.allowed_cpus()
  if #cpus < 2 then pending("needs two CPUs") end
  return { cpus[1], cpus[2] }
end

--- The first warning of a result that matches pattern, or nil.
function H.warning(r, pattern)
  for _, w in ipairs(r.warnings) do
    if w:match(pattern) then return w end
  end
end

--- The sum of a table's values.
function H.sum(t)
  local s = 0
  for _, v in pairs(t) do s = s + v end
  return s
end

return H
