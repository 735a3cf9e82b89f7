-- wrk: compare-and-swap on etcd through its transaction API (v3 JSON gateway): compare the key's
-- mod_revision with the one this client last saw, then put; on a failed compare, range the key to
-- learn its revision. Run with one connection per thread (-t N -c N); MODE as in cas.lua
-- (uncontended: thread t swaps its own keys cas-<t>-<n>; contended: everyone swaps cas-hot).
-- ETCD_API as in etcd-put.lua. Prints RESULT (common.lua) and one CAS line.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local api = os.getenv("ETCD_API") or "/v3"
local mode = os.getenv("MODE") or "uncontended"
local serial_reads = os.getenv("SERIAL_READS") == "1"
local headers = { ["Content-Type"] = "application/json" }
local threads = {}

function setup(thread)
  common.setup(thread)
  threads[#threads + 1] = thread
end

local revisions = {}
local current
local next_index = 0
local encoded_value

function init(args)
  common.configure(args)
  common.seed()
  encoded_value = common.base64(common.value_pool(1)[1])
  won, lost, busy, unknown, other, reads = 0, 0, 0, 0, 0, 0
end

local function key_for_request()
  if mode == "contended" then return "cas-hot" end
  local k = "cas-" .. thread_id .. "-" .. next_index
  next_index = (next_index + 1) % common.keys
  return k
end

function request()
  current = key_for_request()
  local key = common.base64(current)
  if serial_reads then
    return wrk.format("POST", api .. "/kv/range", headers, '{"key":"' .. key .. '"}')
  end
  local body = '{"compare":[{"key":"' .. key .. '","result":"EQUAL","target":"MOD","mod_revision":"' .. (revisions[current] or "0")
    .. '"}],"success":[{"request_put":{"key":"' .. key .. '","value":"' .. encoded_value .. '"}}],'
    .. '"failure":[{"request_range":{"key":"' .. key .. '"}}]}'
  return wrk.format("POST", api .. "/kv/txn", headers, body)
end

function response(status, hdrs, body)
  if status ~= 200 then
    if status == 503 then busy = busy + 1 else other = other + 1 end
    revisions[current] = nil
    return
  end
  if serial_reads then
    reads = reads + 1
    return
  end
  if body:find('"succeeded":%s*true') then
    won = won + 1
    revisions[current] = body:match('"revision":%s*"(%d+)"')
  else
    lost = lost + 1
    revisions[current] = body:match('"mod_revision":%s*"(%d+)"') or "0"
  end
end

function done(summary, latency, requests)
  common.done(summary, latency, requests)
  local t = { won = 0, lost = 0, busy = 0, unknown = 0, other = 0, reads = 0 }
  for _, thread in ipairs(threads) do
    for name, _ in pairs(t) do t[name] = t[name] + (thread:get(name) or 0) end
  end
  local seconds = summary.duration / 1e6
  io.write(string.format("CAS mode=%s won=%d won_per_s=%.1f lost_412=%d busy_503=%d unknown_504=%d other=%d serial_reads=%d\n",
    serial_reads and "serial-read" or mode, t.won, t.won / seconds, t.lost, t.busy, t.unknown, t.other, t.reads))
end
