-- wrk: etcd v3 JSON gateway get, POST <ETCD_API>/kv/range {"key": b64}, keys uniform in
-- [0, KEYS). No "serializable" flag, so every read is linearizable (etcd's default).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local api = os.getenv("ETCD_API") or "/v3"
local headers = { ["Content-Type"] = "application/json" }

setup = common.setup
done = common.done

function init(args)
  common.configure(args)
  common.seed()
end

function request()
  return wrk.format("POST", api .. "/kv/range", headers,
    '{"key":"' .. common.base64(common.random_key()) .. '"}')
end
