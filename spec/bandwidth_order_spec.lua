-- lnuma.bench.bandwidth's order = "auto": every walk order is tried on the
-- buffer and threads of the run, and the fastest is measured.
local lnuma = require "lnuma"

describe("lnuma.bench.bandwidth order = \"auto\"", function()
  local WALKS = { "linear", "split", "pages" }

  it("tries every order and measures the fastest of its trials", function()
    for _, kernel in ipairs({ "read", "copy", "triad" }) do
      local r = assert(lnuma.bench.bandwidth { kernel = kernel, size = "2M", repetitions = 2,
                                               min_time = 2000000 })
      local best, best_gbps = nil, -1
      for _, o in ipairs(WALKS) do
        assert.is_number(r.order_trials[o], o)
        assert.is_true(r.order_trials[o] > 0)
        if r.order_trials[o] > best_gbps then best, best_gbps = o, r.order_trials[o] end
      end
      assert.equal(best, r.order)
      assert.equal(2, #r.repetitions)
    end
  end)

  it("with min_time 0 takes the vendor's usual best and runs no trial", function()
    local info = lnuma.bench.kernel_info()
    local r = assert(lnuma.bench.bandwidth { kernel = "copy", size = "1M", repetitions = 1,
                                             min_time = 0 })
    assert.is_nil(r.order_trials)
    assert.equal(info.orders.copy, r.order)
  end)

  it("runs the order given without trials", function()
    local r = assert(lnuma.bench.bandwidth { kernel = "write", size = "1M", order = "pages",
                                             repetitions = 1, min_time = 1000000 })
    assert.is_nil(r.order_trials)
    assert.equal("pages", r.order)
  end)
end)
