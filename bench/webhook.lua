-- wrk script for bench/webhook_bench.py: WeChat-style signed POSTs to /wechat.
--
--   wrk -t8 -c8 -d10s -s bench/webhook.lua http://127.0.0.1:PORT -- MODE DATAFILE MARKER NTHREADS [WARMUP]
--
-- MODE "list": DATAFILE holds pre-signed requests, "target<TAB>body" per line: each with its
--   own nonce, since the webhook binds a signed (timestamp, nonce) to the first message it
--   carried (and in safe mode msg_signature covers the encrypted body). Thread t sends lines
--   t, t+N, t+2N, …; running past the end starts over and is counted in `wraps` (a repeated MsgId = a dedup hit).
-- MARKER: a byte string every good response body must contain (checked in response()).
-- WARMUP: seconds at the start whose responses are checked but neither timed nor counted in
--   the rate (needs FFI): for queues that take a while to fill, e.g. 256 connections on 2 sync
--   workers.
-- Run it with as many threads as connections (-t N -c N): see "Latency" below.
--
-- Window: wrk starts each thread as soon as its init() is done, and only then the clock of its
-- summary, so the first threads run while later ones still read DATAFILE (a safe-mode file is
-- megabytes). The measured window therefore opens when the last thread has sent its first
-- request (plus WARMUP) and closes at the last response; requests/s and the percentiles count
-- the responses that arrived inside it, with their own timestamps (FFI clock).
--
-- Latency: wrk's own statistics, the `latency` object given to done(), are "corrected" for
-- coordinated omission (wrk.c stats_correct: each sample longer than twice the mean interval
-- between a connection's requests is copied again and again, shortened by that interval). A
-- handful of 100 ms stalls at 5000 req/s thus becomes thousands of synthetic samples and the
-- mean latency exceeds connections / throughput, which no closed-loop client can see. So the
-- script times each request itself, from request() to response(), with clock_gettime through
-- LuaJIT's FFI; with one connection per thread the two calls always belong together. wrk's
-- corrected percentiles are reported next to them ("wrk_latency_us"). Without FFI (wrk built
-- on PUC Lua) only wrk's figures exist and "latency_source" says so.
--
-- done() prints one line "BENCH_JSON {…}" that the Python side parses.

local threads = {}

local has_ffi, ffi = pcall(require, "ffi")
local now_us
if has_ffi then
  ffi.cdef[[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clk_id, bench_timespec *tp);
  ]]
  local ts = ffi.new("bench_timespec")
  now_us = function()
    ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
  end
end
local started = nil
-- globals: done() runs in another Lua state and reads them through thread:get()
warm_us = 0
t0, t_last = nil, nil  -- this thread's first request and last response (µs, monotonic)

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local function read_lines(path)
  local lines = {}
  local f = assert(io.open(path, "rb"))
  for line in f:lines() do
    if line:sub(-1) == "\r" then line = line:sub(1, -2) end
    table.insert(lines, line)
  end
  f:close()
  return lines
end

local mode, marker, nthreads
local items, nitems, li = {}, 0, 0
local headers = { ["Content-Type"] = "text/xml" }

-- counters read by done() through thread:get(); globals on purpose
ok, bad_status, bad_body, wraps = 0, 0, 0, 0
first_status, first_body = "", ""  -- the first non-200, the first 200 without MARKER
statuses = {}  -- non-200 status code → count
lat, fin, nlat = {}, {}, 0  -- per response: latency and arrival time (µs)

function init(args)
  mode, marker, nthreads = args[1], args[3], tonumber(args[4])
  warm_us = (tonumber(args[5] or "0") or 0) * 1000000
  local lines = read_lines(args[2])
  for i = 1 + tid, #lines, nthreads do
    local tab = lines[i]:find("\t", 1, true)
    table.insert(items, { lines[i]:sub(1, tab - 1), lines[i]:sub(tab + 1) })
  end
  nitems = #items
end

function request()
  if now_us then
    started = now_us()
    if not t0 then t0 = started end
  end
  li = li + 1
  if li > nitems then
    li = 1
    wraps = wraps + 1
  end
  local item = items[li]
  return wrk.format("POST", item[1], headers, item[2])
end

function response(status, hdrs, body)
  if started then
    local now = now_us()
    nlat = nlat + 1
    lat[nlat] = now - started
    fin[nlat] = now
    t_last = now
    started = nil
  end
  if status ~= 200 then
    bad_status = bad_status + 1
    statuses[status] = (statuses[status] or 0) + 1
    if first_status == "" then first_status = status .. " " .. (body or ""):sub(1, 120) end
  elseif not body or not body:find(marker, 1, true) then
    bad_body = bad_body + 1
    if first_body == "" then first_body = (body or ""):sub(1, 120) end
  else
    ok = ok + 1
  end
end

local function json_string(s)
  s = tostring(s):gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end)
  return '"' .. s .. '"'
end

local function percentile(sorted, pct)
  if #sorted == 0 then return 0 end
  local i = math.floor(pct / 100 * #sorted + 0.5)
  if i < 1 then i = 1 end
  if i > #sorted then i = #sorted end
  return sorted[i]
end

function done(summary, latency, requests)
  local sums = { ok = 0, bad_status = 0, bad_body = 0, wraps = 0 }
  local sample_status, sample_body, codes = "", "", {}
  -- the window: from the last thread's first request (+ warm-up) to the last response
  local from, to = nil, nil
  for _, thread in ipairs(threads) do
    local a, b = thread:get("t0"), thread:get("t_last")
    if a and (not from or a > from) then from = a end
    if b and (not to or b > to) then to = b end
  end
  if from then from = from + (threads[1]:get("warm_us") or 0) end
  local all, total = {}, 0
  for _, thread in ipairs(threads) do
    for name, _ in pairs(sums) do
      sums[name] = sums[name] + (thread:get(name) or 0)
    end
    local fs, fb = thread:get("first_status"), thread:get("first_body")
    if sample_status == "" and fs and fs ~= "" then sample_status = fs end
    if sample_body == "" and fb and fb ~= "" then sample_body = fb end
    for code, n in pairs(thread:get("statuses") or {}) do
      codes[code] = (codes[code] or 0) + n
    end
    local l, f = thread:get("lat") or {}, thread:get("fin") or {}
    for i = 1, #l do
      if f[i] >= from and f[i] <= to then
        all[#all + 1] = l[i]
        total = total + l[i]
      end
    end
  end
  local e = summary.errors
  local wrk_lat = string.format('{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}',
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean)
  local own_lat, source = wrk_lat, "wrk (coordinated-omission corrected)"
  local nreq, duration = summary.requests, summary.duration
  if has_ffi and from and to and to > from then
    nreq = #all
    duration = to - from
  end
  if #all > 0 then
    table.sort(all)
    own_lat = string.format('{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}',
      percentile(all, 50), percentile(all, 90), percentile(all, 99), all[#all], total / #all)
    source = "per request (Lua FFI clock)"
  end
  local code_parts = {}
  for code, n in pairs(codes) do
    table.insert(code_parts, string.format('"%d":%d', code, n))
  end
  local parts = {
    '"statuses":{' .. table.concat(code_parts, ",") .. '}',
    string.format('"requests":%d', nreq),
    string.format('"duration_us":%d', duration),
    string.format('"all_requests":%d', summary.requests),
    string.format('"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}',
      e.connect, e.read, e.write, e.status, e.timeout),
    '"latency_us":' .. own_lat,
    '"wrk_latency_us":' .. wrk_lat,
    '"latency_source":' .. json_string(source),
    string.format('"timed":%d', #all),
    string.format('"ok":%d,"bad_status":%d,"bad_body":%d,"wraps":%d',
      sums.ok, sums.bad_status, sums.bad_body, sums.wraps),
    '"first_bad_status":' .. json_string(sample_status),
    '"first_bad_body":' .. json_string(sample_body),
  }
  io.write("BENCH_JSON {" .. table.concat(parts, ",") .. "}\n")
end
