-- wrk script of scripts/bench-blob.sh (azlite and Azurite alike).
-- Args (after --): <get|put> <path> <sas-query> <name-tag> <max-requests-per-thread>
--   get: GET <path>?<sas> (the same blob every time)
--   put: PUT <path><tag>-<thread>-<n>?<sas>, a 4096-byte body, x-ms-blob-type: BlockBlob,
--        a new name every request.
-- Bounded in count: a thread stops itself after max-requests-per-thread requests (wrk's -d
-- bounds the time). No per-request signing: the SAS is computed once, up front.
local tid = 0
function setup(thread)
  tid = tid + 1
  thread:set("tid", tid)
end

local mode, path, sas, tag, maxreq
local n = 0
function init(args)
  mode = args[1] or "get"
  path = args[2] or "/"
  sas = args[3] or ""
  tag = args[4] or "r"
  maxreq = tonumber(args[5] or "1000000")
  if sas ~= "" then sas = "?" .. sas end
  wrk.headers["x-ms-version"] = "2021-08-06"
  if mode == "put" then
    wrk.method = "PUT"
    wrk.body = string.rep("x", 4096)
    wrk.headers["x-ms-blob-type"] = "BlockBlob"
    wrk.headers["Content-Type"] = "application/octet-stream"
  else
    wrk.method = "GET"
    wrk.body = nil
  end
end

function request()
  n = n + 1
  if n > maxreq then wrk.thread:stop() end
  if mode == "put" then
    return wrk.format(nil, path .. tag .. "-" .. tid .. "-" .. n .. sas)
  end
  return wrk.format(nil, path .. sas)
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f non2xx=%d errors=%d\n",
    summary.requests, summary.requests / secs, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end
