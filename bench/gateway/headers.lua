-- Adds the bearer token from BENCH_TOKEN to every request.
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
