-- The example program examples/walker/walker.c for the exec and compare
-- specs: the copy `make examples` put in the build (the VM stage has only
-- that one), else built once into a temporary folder with cc.  Returns its
-- path, or nil and why (the caller marks its test pending).
local build = os.getenv("LNUMA_BUILD") or "build"
local built

return function()
  if built then return built end
  local copy = build .. "/examples/walker/walker"
  local f = io.open(copy)
  if f then
    f:close()
    built = copy
    return built
  end
  local dir = os.tmpname()
  os.remove(dir)
  local out = dir .. "-walker"
  local cc = os.getenv("CC") or "cc"
  if not os.execute(("%s -std=c11 -O2 -o %s examples/walker/walker.c 2>/dev/null"):format(cc, out))
  then
    return nil, "no C compiler to build examples/walker/walker.c, and no " .. copy
  end
  built = out
  return built
end
