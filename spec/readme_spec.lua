-- Every ```lua block of README.md is run, each in a fresh lua5.4 process, so
-- the examples a newcomer copies never rot.  Blocks that are not meant to run
-- on any machine (a plan for another box, a C snippet) use another fence tag.

local H = dofile("spec/support/helpers.lua")
local read = H.read

local function blocks(text)
  local out = {}
  local pos = 1
  while true do
    local s, e, body = text:find("\n```lua\n(.-)\n```", pos)
    if not s then break end
    local _, lines_before = text:sub(1, s):gsub("\n", "")
    out[#out + 1] = { line = lines_before + 2, code = body }
    pos = e + 1
  end
  return out
end

describe("README.md", function()
  local readme = read("README.md")

  it("names the two commands a new user runs", function()
    assert.matches("make run", readme, 1, true)
    assert.matches("make test", readme, 1, true)
  end)

  for _, block in ipairs(blocks(readme)) do
    it("runs the Lua example at line " .. block.line, function()
      local tmp = os.tmpname()
      finally(function() os.remove(tmp) end)
      local f = assert(io.open(tmp, "w"))
      f:write(block.code)
      f:close()
      local build = os.getenv("LNUMA_BUILD") or "build"
      local cmd = ("LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='%s/?.so;;' lua5.4 %s 2>&1")
        :format(build, tmp)
      local p = assert(io.popen(cmd))
      local out = p:read("a")
      local ok = p:close()
      assert.is_true(ok, "README example at line " .. block.line .. " failed:\n" .. out)
    end)
  end
end)
