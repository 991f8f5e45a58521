local token = os.getenv("BENCH_TOKEN")
wrk.headers["Authorization"] = "Bearer " .. token
