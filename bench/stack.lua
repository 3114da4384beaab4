-- wrk script of bench/stack.sh.
--
-- BENCH_USERS=file    each request is POST /api/v1/auth/login with the next
--                     user of the file ("email<TAB>password" lines, from
--                     bench/stack.pl users), with its right password;
--                     without it the request is wrk's static one (-H)
-- BENCH_TOKENS=file   each request is POST /api/v1/orders of one unit,
-- BENCH_PRODUCTS=file with the next access token of the file (one a line),
-- BENCH_KIND=spread   of the first product of BENCH_PRODUCTS (ids, one a
--                     line), or with BENCH_KIND=spread of the next one in
--                     turn
-- BENCH_OUT=file      done() writes one line of key=value results there:
--                     requests, duration_us, non2xx, errors, p50_ms, p99_ms

local users = {}
local users_file = os.getenv("BENCH_USERS")
if users_file ~= nil and users_file ~= "" then
    for line in assert(io.open(users_file, "r")):lines() do
        local email, password = line:match("^([^\t]+)\t(.+)$")
        if email then
            table.insert(users, string.format(
                '{"email":"%s","password":"%s"}', email, password))
        end
    end
    assert(#users > 0, "no users in " .. users_file)
end

local function read_lines(file)
    local lines = {}
    for line in assert(io.open(file, "r")):lines() do
        if line ~= "" then
            table.insert(lines, line)
        end
    end
    assert(#lines > 0, "nothing in " .. file)
    return lines
end

local tokens, products = {}, {}
local tokens_file = os.getenv("BENCH_TOKENS")
if tokens_file ~= nil and tokens_file ~= "" then
    tokens = read_lines(tokens_file)
    products = read_lines(assert(os.getenv("BENCH_PRODUCTS")))
    if os.getenv("BENCH_KIND") ~= "spread" then
        products = { products[1] }
    end
end

local next_thread = 0

function setup(thread)
    thread:set("first", next_thread)
    next_thread = next_thread + 1
end

local i = nil

if #users > 0 then
    function request()
        -- each thread starts at a user of its own, so that the threads do
        -- not walk the list in step
        if i == nil then
            i = (first or 0) * 7
        end
        i = i % #users + 1
        return wrk.format("POST", "/api/v1/auth/login",
                          { ["Content-Type"] = "application/json" }, users[i])
    end
end

if #tokens > 0 then
    local p = nil
    function request()
        if i == nil then
            i = (first or 0) * 7
            p = (first or 0) * 37
        end
        i = i % #tokens + 1
        p = p % #products + 1
        return wrk.format("POST", "/api/v1/orders", {
            ["Content-Type"] = "application/json",
            ["Authorization"] = "Bearer " .. tokens[i] },
            string.format('{"items":[{"product_id":"%s","quantity":1}]}',
                          products[p]))
    end
end

function done(summary, latency, requests)
    local out = assert(io.open(assert(os.getenv("BENCH_OUT")), "w"))
    local e = summary.errors
    out:write(string.format(
        "requests=%d duration_us=%d non2xx=%d errors=%d p50_ms=%.3f " ..
        "p99_ms=%.3f\n",
        summary.requests, summary.duration, e.status,
        e.connect + e.read + e.write + e.timeout,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000))
    out:close()
end
