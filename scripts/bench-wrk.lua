-- Used by `node scripts/bench.ts --generator wrk`: replays the pre-signed requests in the file named
-- by BENCH_REQUESTS (one "signature body" per line), in order, to the path BENCH_PATH with the
-- signature in the header BENCH_SIGNATURE_HEADER (/webhook and X-Signature when unset). wrk cannot
-- sign, so the bench signs them beforehand; if a run outlasts the file it starts over, and those
-- requests are duplicates.
local requests = {}
local next = 0

function init(args)
  local path = os.getenv("BENCH_PATH") or "/webhook"
  local header = os.getenv("BENCH_SIGNATURE_HEADER") or "X-Signature"
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do
    -- A signature has no spaces (hex, or "sha256=" and hex); the body is the rest of the line.
    local signature, body = line:match("^(%S+) (.*)$")
    requests[#requests + 1] = wrk.format("POST", path,
      { ["Content-Type"] = "application/json", [header] = signature }, body)
  end
end

function request()
  next = next % #requests + 1
  return requests[next]
end
