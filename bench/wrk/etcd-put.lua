-- wrk: etcd v3 JSON gateway put, POST <ETCD_API>/kv/put {"key": b64, "value": b64}, keys uniform
-- in [0, KEYS). ETCD_API is the gateway prefix (default /v3; etcd 3.3 used /v3beta, 3.2 /v3alpha).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local api = os.getenv("ETCD_API") or "/v3"
local headers = { ["Content-Type"] = "application/json" }
local encoded_values

setup = common.setup
done = common.done

function init(args)
  common.configure(args)
  common.seed()
  encoded_values = {}
  for i, v in ipairs(common.value_pool(16)) do
    encoded_values[i] = common.base64(v)
  end
end

function request()
  local body = '{"key":"' .. common.base64(common.random_key()) .. '","value":"'
    .. encoded_values[math.random(1, #encoded_values)] .. '"}'
  return wrk.format("POST", api .. "/kv/put", headers, body)
end
