-- wrk: GET /kv/<prefix><n>, n uniform in [0, KEYS); prefill the keys first. See common.lua.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")
local headers = {}
local query = os.getenv("QUERY") and os.getenv("QUERY") ~= "" and ("?" .. os.getenv("QUERY")) or ""

-- CAIRN_TOKEN (environment): the bearer token to send.
if os.getenv("CAIRN_TOKEN") and os.getenv("CAIRN_TOKEN") ~= "" then headers["Authorization"] = "Bearer " .. os.getenv("CAIRN_TOKEN") end

setup = common.setup
done = common.done

function init(args)
  common.configure(args)
  common.seed()
end

function request()
  return wrk.format("GET", "/kv/" .. common.random_key() .. query, headers)
end
