-- wrk: compare-and-swap on etcd through its transaction API (v3 JSON gateway): compare the key's
-- mod_revision with the one this client last saw, then put; on a failed compare, range the key to
-- learn its revision. Run with one connection per thread (-t N -c N); MODE as in cas.lua
-- (uncontended: thread t swaps its own keys cas-<t>-<n>; contended: everyone swaps cas-hot).
-- ETCD_API as in etcd-put.lua. Prints RESULT (common.lua) and one CAS line.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local api = os.getenv("ETCD_API") or "/v3"
local headers = { ["Content-Type"] = "application/json" }
local revisions = {}
local current
local encoded_value

setup = common.cas_setup
done = common.cas_done

function init(args)
  common.cas_init(args)
  encoded_value = common.base64(common.value_pool(1)[1])
end

function request()
  current = common.cas_key()
  local key = common.base64(current)
  if common.serial_reads then
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
  if common.serial_reads then
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
