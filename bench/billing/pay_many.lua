-- POST /invoices/{id}/pay over PAY_COUNT invoices from PAY_FIRST, in turn: payments on
-- different rows, as a real load has them (bench/billing/pay.lua pays one invoice).
local token = os.getenv("BENCH_TOKEN")
local first = tonumber(os.getenv("PAY_FIRST"))
local count = tonumber(os.getenv("PAY_COUNT"))
local n = 0
wrk.method = "POST"
wrk.body = '{"amount": "0.01", "reference": "bench"}'
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  return wrk.format(nil, "/api/v1/invoices/" .. (first + n % count) .. "/pay")
end
