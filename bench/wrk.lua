-- wrk script of bench/run.sh, for one thread (-t1).
--
-- BENCH_OUT=file      done() writes one line of key=value results there.
-- BENCH_TOKENS=file   each request carries the next token of the file (one
--                     a line) as "Authorization: Bearer", beside the -H
--                     headers; when the file is used up the thread stops,
--                     so no token is ever sent twice (the run is then
--                     shorter than -d: duration_us is the real one, and
--                     ran_out=1).  Without it the request is wrk's static
--                     one (headers from -H), no Lua per request.
-- BENCH_DELAY_MS=n    each connection waits n ms before each request: a
--                     paced load of about connections x 1000 / n a second.

local tokens = os.getenv("BENCH_TOKENS")
local threads = {}

-- wrk's own duration is always -d (its main thread sleeps that long), so a
-- thread that ran out of tokens records when it started and stopped
local ffi = require("ffi")
ffi.cdef[[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clk, bench_timespec *ts);
]]
local ts = ffi.new("bench_timespec")

local function now_us()
    ffi.C.clock_gettime(1, ts)     -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if delay_ms ~= nil and delay_ms > 0 then
    function delay()
        return delay_ms
    end
end

function setup(thread)
    table.insert(threads, thread)
end

if tokens ~= nil and tokens ~= "" then
    local fh = assert(io.open(tokens, "r"))
    local last = nil
    local exhausted = false

    request = function()
        local t = nil
        if started_us == nil then
            started_us = now_us()
        end
        if not exhausted then
            t = fh:read("*l")
        end
        if t == nil then
            -- the requests still in flight finish; at most one more
            -- request per connection repeats the last token
            if not exhausted then
                exhausted = true
                stopped_us = now_us()
                wrk.thread:stop()
            end
            t = last
        end
        last = t
        -- wrk.format(nil, nil, headers) would drop the -H headers
        wrk.headers["Authorization"] = "Bearer " .. t
        return wrk.format()
    end
end

function done(summary, latency, requests)
    local out = assert(io.open(assert(os.getenv("BENCH_OUT")), "w"))
    local e = summary.errors
    local duration = summary.duration
    local ran_out = 0
    for _, thread in ipairs(threads) do
        local a, b = thread:get("started_us"), thread:get("stopped_us")
        if a ~= nil and b ~= nil then
            ran_out = 1
            duration = b - a
        end
    end
    out:write(string.format(
        "requests=%d duration_us=%d non2xx=%d errors=%d ran_out=%d\n",
        summary.requests, duration, e.status,
        e.connect + e.read + e.write + e.timeout, ran_out))
    out:close()
end
