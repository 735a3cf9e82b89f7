-- wrk: PUT every key bench-0 .. bench-(KEYS-1) once, in order (then again from the start), so that a
-- GET run that follows finds every key. Thread t of T (T = THREADS env, default 2) writes keys
-- t-1, t-1+T, t-1+2T, ...; a thread stops once it has had an answer for each of its keys (run with
-- a generous -d); check that RESULT requests >= KEYS with no errors.
local dir = "/work/auth-bench/bench/wrk/"
local common = dofile(dir .. "common.lua")
local values
local headers = { ["Content-Type"] = "application/octet-stream" }
if os.getenv("CAIRN_TOKEN") and os.getenv("CAIRN_TOKEN") ~= "" then headers["Authorization"] = "Bearer " .. os.getenv("CAIRN_TOKEN") end
local threads = tonumber(os.getenv("THREADS") or "2")
local n = 0
local answered = 0

setup = common.setup
done = common.done

function init(args)
  common.configure(args)
  common.seed()
  values = common.value_pool(16)
end

function request()
  local key = ((thread_id - 1) + threads * n) % common.keys
  n = n + 1
  return wrk.format("PUT", "/kv/" .. common.prefix .. key, headers, values[math.random(1, #values)])
end

function response(status, headers, body)
  answered = answered + 1
  if answered == math.ceil(common.keys / threads) + 64 then
    -- wrk's main thread sleeps for the whole -d: tell the caller (it sends SIGINT once all are done)
    local flag = os.getenv("PREFILL_FLAG")
    if flag then local f = io.open(flag .. "." .. thread_id, "w"); f:write("done\n"); f:close() end
    wrk.thread:stop()
  end
end
