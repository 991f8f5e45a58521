-- Paces each wrk connection so the whole run offers about RATE requests per second.
-- PACING=fixed: every connection waits connections/RATE seconds between its requests (the
-- connections start together and stay in step: RATE/connections bursts of `connections`
-- requests a second). PACING=poisson (the default): the waits are drawn from an exponential
-- distribution with the same mean, so arrivals are independent, as from many clients.
local mean_ms = 0
local poisson = true
function init(args)
  local rate = tonumber(os.getenv("RATE") or "0")
  local connections = tonumber(os.getenv("CONNECTIONS") or "1")
  local threads = tonumber(os.getenv("THREADS") or "1")
  if rate > 0 then mean_ms = (connections / threads) * 1000 / (rate / threads) end
  poisson = (os.getenv("PACING") or "poisson") ~= "fixed"
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  local token = os.getenv("BENCH_TOKEN")
  if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
end
function delay()
  if poisson then return math.floor(-mean_ms * math.log(1 - math.random())) end
  return mean_ms
end
function done(summary, latency, requests)
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("percentile %g %d\n", p, latency:percentile(p)))
  end
end
