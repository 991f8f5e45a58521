-- POST /api/v1/invoices/<id>/pay over INVOICES invoices from FIRST_INVOICE, in turn: each
-- invoice gets few payments, so no payment pays for a long history in its answer and event.
local token = os.getenv("BENCH_TOKEN")
local first = tonumber(os.getenv("FIRST_INVOICE"))
local count = tonumber(os.getenv("INVOICES"))
local headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
local body = '{"amount": "0.01", "reference": "bench"}'
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/api/v1/invoices/" .. (first + n % count) .. "/pay", headers, body)
end
