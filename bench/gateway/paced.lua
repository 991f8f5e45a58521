-- Paces each wrk connection so the whole run offers about RATE requests per second:
-- every connection waits connections/RATE seconds between its requests.
local delay_ms = 0
function init(args)
  local rate = tonumber(os.getenv("RATE") or "0")
  local connections = tonumber(os.getenv("CONNECTIONS") or "1")
  local threads = tonumber(os.getenv("THREADS") or "1")
  if rate > 0 then delay_ms = (connections / threads) * 1000 / (rate / threads) end
  local token = os.getenv("BENCH_TOKEN")
  if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
end
function delay() return delay_ms end
