-- wrk script for bench/run: one request shape per run, set through the environment, and a
-- summary printed as one JSON line (wrk's own --latency output stops at p99).
local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/bench/noop"
local token = os.getenv("BENCH_TOKEN")
local body = os.getenv("BENCH_BODY")

wrk.method = method
wrk.path = path
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"seconds":%.3f,"p50_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,' ..
    '"non_2xx":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
