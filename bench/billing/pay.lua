local token = os.getenv("BENCH_TOKEN")
wrk.method = "POST"
wrk.body = '{"amount": "0.01", "reference": "bench"}'
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"
