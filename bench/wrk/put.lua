-- wrk: PUT /kv/<prefix><n> with a VALUE_SIZE-byte body, n uniform in [0, KEYS). See common.lua.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local values
local headers = { ["Content-Type"] = "application/octet-stream" }
local query = os.getenv("QUERY") and os.getenv("QUERY") ~= "" and ("?" .. os.getenv("QUERY")) or ""

-- CAIRN_TOKEN (environment): the bearer token to send.
if os.getenv("CAIRN_TOKEN") and os.getenv("CAIRN_TOKEN") ~= "" then headers["Authorization"] = "Bearer " .. os.getenv("CAIRN_TOKEN") end

setup = common.setup
done = common.done

function init(args)
  common.configure(args)
  common.seed()
  values = common.value_pool(16)
end

function request()
  return wrk.format("PUT", "/kv/" .. common.random_key() .. query, headers,
    values[math.random(1, #values)])
end
