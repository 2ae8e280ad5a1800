local lnuma = require "lnuma"
local sys = dofile("spec/support/sys.lua")
local H = dofile("spec/support/helpers.lua")

local KiB, MiB = 1024, 1024 * 1024
local PAGE = 4096

local sum = H.sum

describe("lnuma.alloc", function()
  it("returns a populated buffer of the size asked", function()
    local buf <close> = assert(lnuma.alloc(100 * KiB))
    assert.equal(100 * KiB, buf:size())
    assert.equal(100 * KiB, #buf)
    assert.equal("buffer", lnuma.type(buf))
    local pl = buf:placement()
    assert.equal(PAGE, pl.page_size)
    assert.equal(25, pl.pages)
    assert.equal(0, pl.absent)
    assert.equal(25, sum(pl.by_node))
  end)

  it("takes sizes written as strings", function()
    local buf <close> = assert(lnuma.alloc("64K"))
    assert.equal(64 * KiB, buf:size())
  end)

  it("reports the same pages per node as /proc/self/numa_maps for the range", function()
    local node = sys.nodes()[1]
    local buf <close> = assert(lnuma.alloc(4 * MiB, {node = node}))
    local start, stop = sys.vma(buf:address())
    assert.equal(buf:address(), start)
    assert.equal(buf:address() + 4 * MiB, stop)
    local maps = assert(sys.numa_maps(buf:address()), "no numa_maps line at the buffer")
    local pl = buf:placement()
    assert.equal(1024, pl.pages)
    assert.equal(pl.by_node[node], maps.by_node[node])
    assert.equal(1024, maps.by_node[node])
    for n, pages in pairs(pl.by_node) do assert.equal(maps.by_node[n] or 0, pages) end
    assert.matches("bind:" .. node, maps.line)
  end)

  it("leaves pages absent with populate = false until they are touched", function()
    local buf <close> = assert(lnuma.alloc(16 * PAGE, {populate = false}))
    local pl = buf:placement()
    assert.equal(16, pl.pages)
    assert.equal(16, pl.absent)
    assert.equal("none", buf:info().populate)
    buf:set("u8", 5 * PAGE, 1)
    assert.equal(15, buf:placement().absent)
  end)

  it("gives per-page nodes on request", function()
    local buf <close> = assert(lnuma.alloc(8 * PAGE, {populate = false}))
    buf:set("u8", 2 * PAGE, 7)
    local pl = buf:placement{pages = true}
    assert.equal(8, #pl.page_nodes)
    assert.equal(-1, pl.page_nodes[1])
    local node = next(sys.numa_maps(buf:address()).by_node)
    assert.equal(node, pl.page_nodes[3])
    for i = 4, 8 do assert.equal(-1, pl.page_nodes[i]) end
  end)

  it("aligns large buffers to 2 MiB", function()
    local buf <close> = assert(lnuma.alloc(3 * MiB))
    assert.equal(0, buf:address() % (2 * MiB))
  end)

  it("says how the pages were populated and how long it took", function()
    local buf <close> = assert(lnuma.alloc(MiB))
    local info = buf:info()
    assert.equal("madvise", info.populate)
    assert.is_true(math.type(info.populate_ns) == "integer" and info.populate_ns > 0)
    assert.equal(MiB, info.size)
    assert.equal(MiB, info.mapped)
    assert.is_false(info.view)
  end)

  describe("policies", function()
    local nodes = sys.nodes()
    for _, policy in ipairs{"default", "local", "bind", "preferred", "preferred_many",
                            "interleave", "weighted_interleave"} do
      it("accepts '" .. policy .. "' and records what it asked and what the kernel holds",
        function()
          local buf, msg = lnuma.alloc(MiB, {policy = policy})
          if not buf then
            -- Only kernels without the policy may refuse, and they must say so.
            assert.matches("policy '" .. policy
              .. "' is not supported by this kernel %(needs Linux", msg)
            return pending("this kernel has no policy '" .. policy .. "': " .. msg)
          end
          local p = buf:policy()
          assert.equal(policy, p.policy)
          if p.policy_applied then
            assert.equal(policy, p.kernel.policy)
            assert.same(p.nodes, p.kernel.nodes)
          else
            assert.is_string(p.policy_note)
          end
          if policy == "default" or policy == "local" then
            assert.same({}, p.nodes)
          elseif policy == "preferred" then
            assert.equal(1, #p.nodes)
          else
            assert.same(nodes, p.nodes)
          end
          local pl = buf:placement()
          assert.equal(0, pl.absent)
          assert.equal(pl.pages, sum(pl.by_node))
          buf:free()
        end)
    end

    it("takes a node alone to mean bind on that node", function()
      local buf <close> = assert(lnuma.alloc(MiB, {node = nodes[1]}))
      local p = buf:policy()
      assert.equal("bind", p.policy)
      assert.same({nodes[1]}, p.nodes)
      assert.equal(256, buf:placement().by_node[nodes[1]])
    end)

    it("takes nodes as a cpulist string", function()
      local buf <close> = assert(lnuma.alloc(MiB, {nodes = lnuma.cpulist(nodes),
                                                   policy = "interleave"}))
      assert.same(nodes, buf:policy().nodes)
    end)
  end)

  describe("huge pages", function()
    it("backs huge = 'thp' with transparent huge pages (AnonHugePages in smaps)", function()
      local mode = sys.thp_mode()
      if mode == nil or mode == "never" then
        pending("transparent huge pages are " .. tostring(mode or "not available") .. " here")
      end
      local buf <close> = assert(lnuma.alloc(8 * MiB, {huge = "thp"}))
      assert.equal(0, buf:address() % (2 * MiB))
      assert.equal("thp", buf:info().huge)
      local smaps = assert(sys.smaps(buf:address()))
      assert.is_true(smaps.AnonHugePages > 0,
        "AnonHugePages is " .. smaps.AnonHugePages .. " kB for a THP buffer")
      local maps = sys.numa_maps(buf:address())
      assert.equal(2048, sum(maps.by_node))
      assert.equal(2048, sum(buf:placement().by_node))
    end)

    it("keeps huge = false on base pages", function()
      local buf <close> = assert(lnuma.alloc(8 * MiB, {huge = false}))
      assert.equal("none", buf:info().huge)
      local smaps = assert(sys.smaps(buf:address()))
      assert.equal(0, smaps.AnonHugePages)
    end)

    for _, kind in ipairs{{"2M", 2048}, {"1G", 1048576}} do
      it("returns nil and says how to reserve pages when no " .. kind[1] .. " pages are free",
        function()
          if sys.hugepages_free(kind[2]) > 0 then
            pending(kind[1] .. " huge pages are reserved on this machine")
          end
          local buf, msg, code = lnuma.alloc(4 * MiB, {huge = kind[1]})
          assert.is_nil(buf)
          assert.equal("integer", math.type(code))
          if code == 12 then -- ENOMEM: the size exists, nothing reserved
            assert.matches("echo N > /sys/kernel/mm/hugepages/hugepages%-" .. kind[2]
              .. "kB/nr_hugepages", msg)
            assert.matches("/sys/devices/system/node/nodeN/hugepages", msg)
          else -- ENOSYS: this machine has no such page size
            assert.matches("not supported", msg)
          end
        end)
    end

    it("uses reserved 2M pages when there are some", function()
      if sys.hugepages_free(2048) < 2 then pending("no 2M huge pages reserved here") end
      local buf <close> = assert(lnuma.alloc(4 * MiB, {huge = "2M"}))
      local pl = buf:placement()
      assert.equal(2 * MiB, pl.page_size)
      assert.equal(2, pl.pages)
      assert.equal(0, pl.absent)
    end)
  end)

  it("locks the pages with lock = true", function()
    local buf <close> = assert(lnuma.alloc(MiB, {lock = true}))
    assert.is_true(buf:info().locked)
    assert.equal(1024, sys.smaps(buf:address()).Locked)
  end)

  it("first-touches from touch_cpu, landing on that CPU's node", function()
    local node = sys.nodes()[1]
    local cpu = sys.node_cpus(node)[1]
    local buf <close> = assert(lnuma.alloc(MiB, {touch_cpu = cpu}))
    assert.equal(cpu, buf:info().touch_cpu)
    assert.equal("default", buf:policy().policy)
    assert.equal(256, buf:placement().by_node[node])
  end)

  it("migrates pages already on the target as 'already'", function()
    local node = sys.nodes()[1]
    local buf <close> = assert(lnuma.alloc(64 * KiB, {node = node}))
    local r = buf:migrate(node)
    assert.same({node}, r.nodes)
    assert.equal(16, r.pages)
    assert.equal(16, r.already)
    assert.equal(0, r.moved)
    assert.equal(0, r.failed)
    assert.equal("integer", math.type(r.elapsed_ns))
  end)

  it("describes itself with __tostring", function()
    local buf = assert(lnuma.alloc(MiB, {node = sys.nodes()[1]}))
    assert.matches("^lnuma%.Buffer %(1%.0 MiB, bind %d+, pages %d+:256, 0x%x+%)$", tostring(buf))
    assert.matches("^lnuma%.Buffer view %(", tostring(buf:view(0, 10)))
    buf:free()
    assert.equal("lnuma.Buffer (freed)", tostring(buf))
  end)

  describe("bad arguments", function()
    it("rejects sizes that are zero, negative or not sizes", function()
      assert.has_error(function() lnuma.alloc(0) end,
        "bad argument #1 to 'alloc' (size must be positive)")
      assert.error_matches(function() lnuma.alloc(-1) end, "size: size must not be negative")
      assert.error_matches(function() lnuma.alloc("12Q") end, "unknown unit")
      assert.error_matches(function() lnuma.alloc(1.5) end, "integer number of bytes")
      assert.error_matches(function() lnuma.alloc() end, "bad argument #1 to 'alloc'")
      assert.error_matches(function() lnuma.alloc({}) end, "expected a size")
    end)

    it("names an unknown option key", function()
      assert.has_error(function() lnuma.alloc(4096, {nod = 0}) end,
        "bad argument #2 to 'alloc' (unknown option 'nod')")
      assert.error_matches(function() lnuma.alloc(4096, {size = 1}) end, "unknown option 'size'")
      assert.error_matches(function() lnuma.alloc(4096, "node") end, "table expected")
    end)

    it("names a node that does not exist", function()
      assert.error_matches(function() lnuma.alloc(4096, {node = 999}) end,
        "node 999 does not exist")
      assert.error_matches(function() lnuma.alloc(4096, {node = 5000}) end,
        "node 5000 does not exist")
      assert.error_matches(function() lnuma.alloc(4096, {nodes = {0, 999}}) end,
        "node 999 does not exist")
      assert.error_matches(function() lnuma.alloc(4096, {node = -1}) end,
        "node: node %-1 does not exist")
      assert.error_matches(function() lnuma.alloc(4096, {node = "0"}) end,
        "node: integer expected")
    end)

    it("rejects options that contradict each other", function()
      assert.error_matches(function() lnuma.alloc(4096, {node = 0, nodes = {0}}) end,
        "node: give node or nodes, not both")
      assert.error_matches(function() lnuma.alloc(4096, {policy = "local", node = 0}) end,
        "policy 'local' takes no nodes")
      assert.error_matches(function() lnuma.alloc(4096, {policy = "preferred", nodes = {0, 1}})
      end, "policy 'preferred' takes one node")
      assert.error_matches(function() lnuma.alloc(4096, {huge = "2M", populate = false}) end,
        "populate=false is not possible with huge pages '2M'")
    end)

    it("rejects bad option values, naming the key", function()
      assert.error_matches(function() lnuma.alloc(4096, {policy = "bound"}) end,
        "policy: unknown policy 'bound' %(expected default, local")
      assert.error_matches(function() lnuma.alloc(4096, {huge = 2}) end,
        "huge: expected true, false or a page kind such as \"thp\" or \"2M\", got number", 1,
        true)
      assert.error_matches(function() lnuma.alloc(4096, {huge = "4M"}) end,
        "huge: '4M' is not a page kind")
      assert.error_matches(function() lnuma.alloc(4096, {populate = 1}) end,
        "populate: boolean expected")
      assert.error_matches(function() lnuma.alloc(4096, {lock = "yes"}) end,
        "lock: boolean expected")
      assert.error_matches(function() lnuma.alloc(4096, {touch_cpu = 99999}) end,
        "touch_cpu: CPU 99999 does not exist")
      assert.error_matches(function() lnuma.alloc(4096, {touch_cpu = 4000}) end,
        "CPU 4000 does not exist")
    end)

    it("rejects bad placement and migrate arguments", function()
      local buf <close> = assert(lnuma.alloc(4096))
      assert.error_matches(function() buf:placement{page = true} end, "unknown option 'page'")
      assert.error_matches(function() buf:migrate(999) end, "node 999 does not exist")
      assert.error_matches(function() buf:migrate({}) end, "the set is empty")
      assert.error_matches(function() buf:migrate() end, "bad argument #1 to 'migrate'")
    end)

    it("rejects methods called on something that is not a buffer", function()
      local buf <close> = assert(lnuma.alloc(4096))
      assert.error_matches(function() buf.get(nil, "u8", 0) end, "lnuma.Buffer expected, got nil")
      assert.error_matches(function() buf.size({}) end, "lnuma.Buffer expected, got table")
      assert.error_matches(function() buf.size(io.stdout) end, "lnuma.Buffer expected")
    end)
  end)
end)

describe("buffer access", function()
  local kinds = {
    {"u8", 1, 0, 255}, {"u16", 2, 0, 65535}, {"u32", 4, 0, 4294967295},
    {"u64", 8, math.mininteger, math.maxinteger}, {"i8", 1, -128, 127},
    {"i16", 2, -32768, 32767}, {"i32", 4, -2147483648, 2147483647},
    {"i64", 8, math.mininteger, math.maxinteger},
  }

  it("reads back what it wrote, for every integer kind, at both ends", function()
    local buf <close> = assert(lnuma.alloc(64))
    for _, k in ipairs(kinds) do
      local name, width, lo, hi = k[1], k[2], k[3], k[4]
      local last = 64 // width - 1
      buf:set(name, 0, lo)
      buf:set(name, last, hi)
      assert.equal(lo, buf:get(name, 0))
      assert.equal(hi, buf:get(name, last))
      assert.equal("integer", math.type(buf:get(name, 0)))
    end
  end)

  it("reads floats back as floats", function()
    local buf <close> = assert(lnuma.alloc(64))
    buf:set("f64", 1, math.pi)
    assert.equal(math.pi, buf:get("f64", 1))
    buf:set("f32", 0, 0.5)
    assert.equal(0.5, buf:get("f32", 0))
    buf:set("f32", 3, math.pi)
    assert.is_true(math.abs(buf:get("f32", 3) - math.pi) < 1e-6)
    buf:set("f64", 2, 3)
    assert.equal("float", math.type(buf:get("f64", 2)))
  end)

  it("uses the machine's byte order and 0-based element indexes", function()
    local buf <close> = assert(lnuma.alloc(16))
    buf:set("u32", 1, 0x04030201)
    assert.equal(string.pack("<I4", 0x04030201), buf:read(4, 4))
    assert.equal(0x01, buf:get("u8", 4))
    assert.equal(0x0201, buf:get("u16", 2))
    buf:set("u64", 1, -1)
    assert.equal(-1, buf:get("u64", 1))
    assert.equal(-1, buf:get("i64", 1))
    assert.equal(255, buf:get("u8", 15))
  end)

  it("fills, reads, writes and copies bytes", function()
    local buf <close> = assert(lnuma.alloc(32))
    buf:fill(0x41)
    assert.equal(("A"):rep(32), buf:read())
    buf:fill(0, 8, 8)
    assert.equal(("A"):rep(8) .. ("\0"):rep(8) .. ("A"):rep(16), buf:read())
    buf:write(2, "hello")
    assert.equal("hello", buf:read(2, 5))
    assert.equal("AAhel", buf:read(0, 5))
    assert.equal(4, buf:copy("wxyz", 20))
    assert.equal("wxyz", buf:read(20, 4))
    assert.equal(3, buf:copy(buf, 0, 2, 3)) -- overlapping copy within one buffer
    assert.equal("hel", buf:read(0, 3))
    local other <close> = assert(lnuma.alloc(8))
    other:write(0, "12345678")
    assert.equal(2, buf:copy(other, 30, 6))
    assert.equal("78", buf:read(30, 2))
    assert.equal("", buf:read(32, 0))
  end)

  it("refuses access outside the buffer", function()
    local buf <close> = assert(lnuma.alloc(16))
    assert.has_error(function() buf:get("u32", 4) end,
      "bad argument #2 to 'get' (index 4 out of range (0..3 for 4-byte elements))")
    assert.error_matches(function() buf:get("u8", -1) end, "index %-1 out of range")
    assert.error_matches(function() buf:set("u64", 2, 0) end, "index 2 out of range")
    assert.error_matches(function() buf:get("u8", 0.5) end, "index must be an integer")
    assert.error_matches(function() buf:get("u8", "x") end, "index must be an integer")
    assert.error_matches(function() buf:read(10, 7) end, "range %[10, 17%) is outside")
    assert.error_matches(function() buf:read(17) end, "outside the buffer")
    assert.error_matches(function() buf:write(14, "abc") end, "outside the buffer")
    assert.error_matches(function() buf:fill(0, 0, 17) end, "outside the buffer")
    assert.error_matches(function() buf:copy(("x"):rep(17)) end, "outside the buffer")
    assert.error_matches(function() buf:copy("abc", 0, 4) end, "source offset is past the end")
    assert.error_matches(function() buf:copy("abc", 0, 1, 3) end, "runs past the end")
    assert.error_matches(function() buf:read(-1) end, "offset must not be negative")
  end)

  it("refuses bad kinds and values", function()
    local buf <close> = assert(lnuma.alloc(16))
    assert.error_matches(function() buf:get("u12", 0) end, "kind must be one of u8")
    assert.error_matches(function() buf:get("f16", 0) end, "kind must be one of")
    assert.error_matches(function() buf:get(8, 0) end, "kind must be one of")
    assert.error_matches(function() buf:set("u8", 0, 256) end, "value 256 out of range for u8")
    assert.error_matches(function() buf:set("i8", 0, -129) end, "out of range for i8")
    assert.error_matches(function() buf:set("u16", 0, -1) end, "out of range for u16")
    assert.error_matches(function() buf:set("u32", 0, 1.5) end, "value must be an integer")
    assert.error_matches(function() buf:set("u32", 0, "1") end, "integer expected, got string")
    assert.error_matches(function() buf:set("f64", 0, "1") end, "number expected, got string")
    assert.error_matches(function() buf:set("f64", 0) end, "number expected, got no value")
    assert.error_matches(function() buf:fill(256) end, "byte must be an integer 0..255")
    assert.error_matches(function() buf:write(0, {}) end, "string expected")
    assert.error_matches(function() buf:copy(42) end, "lnuma.Buffer or string expected")
  end)

  describe("views", function()
    it("share the memory of their buffer", function()
      local buf <close> = assert(lnuma.alloc(8192))
      local v = buf:view(4096, 16)
      assert.equal(16, #v)
      assert.equal(buf:address() + 4096, v:address())
      v:set("u32", 1, 99)
      assert.equal(99, buf:get("u32", 1025))
      local vv = v:view(4, 8)
      assert.equal(99, vv:get("u32", 0))
      assert.equal(v:address() + 4, vv:address())
      local rest = buf:view(8000)
      assert.equal(192, #rest)
      local info = vv:info()
      assert.is_true(info.view)
      assert.equal(4100, info.offset)
      assert.equal(8, info.length)
      assert.equal(1, v:placement().pages)
    end)

    it("refuse to reach past their buffer", function()
      local buf <close> = assert(lnuma.alloc(100))
      assert.error_matches(function() buf:view(90, 11) end, "range %[90, 101%) is outside")
      assert.error_matches(function() buf:view(101) end, "outside the buffer")
      assert.error_matches(function() buf:view(100) end, "at least one byte")
      assert.error_matches(function() buf:view(0, 0) end, "at least one byte")
      local v = buf:view(50, 10)
      assert.error_matches(function() v:view(5, 6) end, "outside the buffer")
      assert.error_matches(function() v:get("u8", 10) end, "index 10 out of range")
    end)

    it("keep their buffer alive after the last reference to it is dropped", function()
      local v
      do
        local buf = assert(lnuma.alloc(4096))
        buf:write(0, "kept")
        v = buf:view(0, 4)
      end
      collectgarbage()
      collectgarbage()
      assert.equal("kept", v:read())
      assert.equal("buffer", lnuma.type(v))
    end)

    it("error once their buffer is freed, and freeing a view leaves the buffer alone", function()
      local buf = assert(lnuma.alloc(4096))
      local v1, v2 = buf:view(0, 8), buf:view(8, 8)
      v1:free()
      assert.equal("freed buffer", lnuma.type(v1))
      assert.error_matches(function() v1:get("u8", 0) end, "attempt to use a freed buffer")
      buf:set("u8", 0, 1)
      assert.equal(0, v2:get("u8", 0))
      buf:free()
      assert.equal("freed buffer", lnuma.type(v2))
      assert.error_matches(function() v2:get("u8", 0) end, "memory was freed")
      assert.error_matches(function() v2:view(0, 1) end, "memory was freed")
      assert.equal("lnuma.Buffer (freed)", tostring(v2))
      v2:free()
      v2:free()
    end)
  end)

  describe("release", function()
    it("is idempotent, and every use of a freed buffer is an error", function()
      local buf = assert(lnuma.alloc(4096))
      buf:free()
      buf:free()
      assert.equal("freed buffer", lnuma.type(buf))
      local calls = {
        function() return buf:size() end, function() return #buf end,
        function() return buf:get("u8", 0) end, function() return buf:set("u8", 0, 1) end,
        function() return buf:fill(0) end, function() return buf:read() end,
        function() return buf:write(0, "x") end, function() return buf:copy("x") end,
        function() return buf:view() end, function() return buf:placement() end,
        function() return buf:migrate(0) end, function() return buf:policy() end,
        function() return buf:info() end, function() return buf:address() end,
      }
      for i, f in ipairs(calls) do
        assert.error_matches(f, "attempt to use a freed buffer", nil, "call " .. i)
      end
      local other <close> = assert(lnuma.alloc(8))
      assert.error_matches(function() other:copy(buf) end, "attempt to use a freed buffer")
    end)

    it("happens at the end of a <close> scope", function()
      local outer
      do
        local buf <close> = assert(lnuma.alloc(4096))
        outer = buf
        assert.equal("buffer", lnuma.type(outer))
      end
      assert.equal("freed buffer", lnuma.type(outer))
    end)
  end)
end)

describe("lnuma.type", function()
  it("names lnuma objects and returns nil for anything else", function()
    assert.is_nil(lnuma.type(nil))
    assert.is_nil(lnuma.type(42))
    assert.is_nil(lnuma.type("buffer"))
    assert.is_nil(lnuma.type({}))
    assert.is_nil(lnuma.type(io.stdout))
    assert.is_nil(lnuma.type(setmetatable({}, {__name = "lnuma.Buffer x"})))
  end)
end)

describe("a random sequence of alloc, view, free, get and set", function()
  it("behaves as a model predicts and never crashes", function()
    local seed = tonumber(os.getenv("LNUMA_FUZZ_SEED")) or 20240611
    math.randomseed(seed)
    local kinds = {{"u8", 1}, {"u16", 2}, {"u32", 4}, {"u64", 8}, {"i8", 1}, {"i16", 2},
                   {"i32", 4}, {"i64", 8}, {"f32", 4}, {"f64", 8}}
    local handles = {} -- {h =, len =, root = {freed =}, freed =}
    local arena = assert(lnuma.arena{size = 256 * 1024})
    local arena_state = {freed = false}
    local function usable(x) return not x.freed and not x.root.freed end
    local function pick() return handles[math.random(#handles)] end
    local counts = {ok = 0, refused = 0}
    local function expect(ok_expected, f, what)
      local ok, err = pcall(f)
      assert(ok == ok_expected, ("step %s (seed %d): expected %s, got %s"):format(
        what, seed, ok_expected and "success" or "an error", tostring(err)))
      counts[ok and "ok" or "refused"] = counts[ok and "ok" or "refused"] + 1
    end
    for step = 1, 5000 do
      local op = math.random(100)
      local what = step .. ":" .. op
      if op <= 10 or #handles == 0 then
        local size = math.random(1, 20000)
        local h = assert(lnuma.alloc(size, {populate = math.random(2) == 1}))
        local x = {h = h, len = size, freed = false}
        x.root = x
        handles[#handles + 1] = x
      elseif op <= 15 then
        local n = math.random(1, 3000)
        local v = arena:alloc_buffer(n)
        if v == nil then
          arena:reset()
        else
          handles[#handles + 1] = {h = v, len = n, root = arena_state}
        end
      elseif op <= 30 then
        local x = pick()
        local off, len = math.random(0, x.len + 2), math.random(0, x.len + 2)
        local valid = usable(x) and len >= 1 and off + len <= x.len
        local v
        expect(valid, function() v = x.h:view(off, len) end, what)
        if v then handles[#handles + 1] = {h = v, len = len, root = x.root} end
      elseif op <= 38 then
        local i = math.random(#handles)
        local x = handles[i]
        x.h:free()
        x.freed = true -- a buffer's own record is its root: its views see it too
        if #handles > 60 then table.remove(handles, i) end
      elseif op <= 69 then
        local x, k = pick(), kinds[math.random(#kinds)]
        local n = x.len // k[2]
        local i = math.random(-1, n)
        local v = k[1]:sub(1, 1) == "f" and 0.5 or math.random(0, 100)
        local valid = usable(x) and i >= 0 and i < n
        expect(valid, function() x.h:set(k[1], i, v) end, what)
        if valid then assert.equal(v, x.h:get(k[1], i)) end
      elseif op <= 97 then
        local x, k = pick(), kinds[math.random(#kinds)]
        local n = x.len // k[2]
        local i = math.random(-1, n)
        expect(usable(x) and i >= 0 and i < n, function() return x.h:get(k[1], i) end, what)
      elseif op == 98 then
        collectgarbage()
      elseif op == 99 then
        local x = pick()
        expect(usable(x), function() return x.h:read(0, math.min(x.len, 64)) end, what)
      else
        local x = pick()
        local ok = pcall(tostring, x.h)
        assert.is_true(ok)
      end
      if #handles > 200 then table.remove(handles, 1) end
    end
    arena:free()
    arena_state.freed = true
    for _, x in ipairs(handles) do
      if x.root == arena_state then
        assert.error_matches(function() x.h:get("u8", 0) end, "memory was freed")
      end
    end
    assert.is_true(counts.ok > 1000 and counts.refused > 100,
      ("ok %d, refused %d"):format(counts.ok, counts.refused))
  end)
end)
