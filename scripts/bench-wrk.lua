-- Used by `node scripts/bench.ts --generator wrk`: replays the pre-signed requests in the file named
-- by BENCH_REQUESTS (one "signature body" per line), in order. wrk cannot sign, so the bench signs
-- them beforehand; if a run outlasts the file it starts over, and those requests are duplicates.
local requests = {}
local next = 0

function init(args)
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do
    local signature, body = line:match("^(%x+) (.*)$")
    requests[#requests + 1] = wrk.format("POST", "/webhook",
      { ["Content-Type"] = "application/json", ["X-Signature"] = signature }, body)
  end
end

function request()
  next = next % #requests + 1
  return requests[next]
end
