-- wrk: compare-and-swap on Cairn. Run with one connection per thread (-t N -c N): each thread is
-- one client that knows the ETag of the keys it writes and swaps them with PUT + If-Match.
--   MODE=uncontended (default): thread t swaps its own keys cas-<t>-<n>, n cycling over [0, KEYS);
--                               a key it has not written yet is created with If-None-Match: *.
--   MODE=contended:            every thread swaps the one key cas-hot. A thread that lost (412)
--                               takes the current ETag from the answer and tries again.
--   SERIAL_READS=1:            instead, serial reads (GET ?consistency=serial) of the thread's keys.
--   KV_PREFIX (default /kv/):  where the keys live, e.g. /ns/locks/kv/ for a namespace.
-- Prints RESULT (common.lua) and one CAS line: swaps that won, 412s, 503s, 504s, other statuses.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local token = os.getenv("CAIRN_TOKEN")
local prefix = os.getenv("KV_PREFIX") or "/kv/"
local etags = {}
local current
local value

setup = common.cas_setup
done = common.cas_done

function init(args)
  common.cas_init(args)
  value = common.value_pool(1)[1]
end

function request()
  current = common.cas_key()
  local headers = { ["Content-Type"] = "application/octet-stream" }
  if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  if common.serial_reads then
    return wrk.format("GET", prefix .. current .. "?consistency=serial", headers)
  end
  local etag = etags[current]
  if etag == nil then
    headers["If-None-Match"] = "*"
  else
    headers["If-Match"] = etag
  end
  return wrk.format("PUT", prefix .. current, headers, value)
end

function response(status, headers, body)
  local etag = headers["etag"] or headers["ETag"]
  if common.serial_reads then
    if status == 200 or status == 404 then reads = reads + 1 else other = other + 1 end
  elseif status == 200 then
    won = won + 1
    etags[current] = etag
  elseif status == 412 then
    lost = lost + 1
    -- The answer names the current version (none: the key is absent, so create it next).
    etags[current] = etag
  elseif status == 503 then
    busy = busy + 1
  elseif status == 504 then
    unknown = unknown + 1
    -- Whether it took effect is unknown: the next attempt's 412 (or 200) tells the current version.
    etags[current] = nil
  else
    other = other + 1
  end
end
