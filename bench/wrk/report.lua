-- wrk script for every wrk load of the harness.
-- WRK_PIPELINE=N (N > 1): each write carries N requests (HTTP/1.1 pipelining); wrk counts every response.
-- Without it no request() is defined, so wrk keeps its static, precomputed request (no Lua per request).
-- done() prints one machine-readable line that bench/lib/loads.js parses (latencies in microseconds).

local depth = tonumber(os.getenv("WRK_PIPELINE") or "1") or 1

if depth > 1 then
  init = function(args)
    local r = {}
    for i = 1, depth do
      r[i] = wrk.format(nil, wrk.path)
    end
    batch = table.concat(r)
  end
  request = function()
    return batch
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  local p = function(q) return latency:percentile(q) end
  io.write(string.format(
    'WRKJSON {"duration_us":%d,"requests":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"lat_min":%d,"lat_mean":%.1f,"lat_max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}\n',
    summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max, p(50), p(90), p(99), p(99.9)))
end
