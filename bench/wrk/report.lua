-- wrk script of the detour benchmark (bench/README.md).
-- Request headers come from the environment, one "name: value" per line in BENCH_HEADERS, so
-- each scenario's header variant is data; wrk formats the request once and reuses it.
-- BENCH_REQUESTS, when set, stops the (single) thread after that many responses and prints
-- BENCH_LIMIT_REACHED, for a fixed request count instead of a fixed duration
-- (bench/server-cpu.mjs). wrk's main thread sleeps for -d regardless, so the harness then ends
-- that sleep with SIGINT, after which wrk reports as usual.
-- done() prints one line `BENCH_JSON {...}` with throughput, latency percentiles (microseconds)
-- and error counts for the harness to parse.
local spec = os.getenv("BENCH_HEADERS") or ""
for line in spec:gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end

local limit = tonumber(os.getenv("BENCH_REQUESTS") or "")
if limit then
  local seen = 0
  function response()
    seen = seen + 1
    if seen == limit then
      wrk.thread:stop()
      io.write("BENCH_LIMIT_REACHED\n")
      io.flush()
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f,"stdev":%.1f},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean, latency.stdev,
    e.connect, e.read, e.write, e.status, e.timeout))
end
