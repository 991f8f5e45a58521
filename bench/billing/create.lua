-- POST with the JSON body in BODY (run.py's CREATE_BODY: an invoice of 3 items).
local token = os.getenv("BENCH_TOKEN")
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"
