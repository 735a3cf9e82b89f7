-- Shared by the wrk scripts in this folder; loaded with dofile from the script's own directory.
--
-- Settings come from script arguments after `--` or from environment variables:
--   KEYS        number of distinct keys, drawn uniformly from [0, KEYS)   (default 100000)
--   VALUE_SIZE  bytes per written value                                    (default 100)
--   KEY_PREFIX  key prefix                                                 (default bench-)
--   NODES       (environment only) host:port,... to spread wrk's threads over (see common.setup)
-- e.g.  wrk -t2 -c64 -d30s -s bench/wrk/put.lua http://127.0.0.1:7070 -- 100000 1024

local common = {}

local function setting(index, name, default)
  local from_args = common.args and common.args[index]
  if from_args ~= nil and from_args ~= "" then return from_args end
  local from_env = os.getenv(name)
  if from_env ~= nil and from_env ~= "" then return from_env end
  return default
end

function common.configure(args)
  common.args = args
  common.keys = tonumber(setting(1, "KEYS", "100000"))
  common.value_size = tonumber(setting(2, "VALUE_SIZE", "100"))
  common.prefix = setting(3, "KEY_PREFIX", "bench-")
  if not common.keys or common.keys < 1 or common.keys > 2147483647 then
    error("KEYS must be an integer in [1, 2^31)")
  end
  if not common.value_size or common.value_size < 0 or common.value_size > 16777216 then
    error("VALUE_SIZE must be an integer in [0, 16 MiB]")
  end
end

-- Servers to spread over: NODES="127.0.0.1:7301,127.0.0.1:7302,..." (environment). wrk takes one
-- URL per process, but each thread can be pointed at its own address: thread i (from 1) talks to
-- node ((i - 1) mod #NODES) + 1, with all of that thread's connections (-c / -t of them). Use a
-- thread count that is a multiple of the node count to load every node equally. Unset: the URL.
local nodes = nil
local function node_addresses()
  local list = os.getenv("NODES")
  if list == nil or list == "" then return nil end
  local addrs = {}
  for host, port in list:gmatch("([^,:%s]+):(%d+)") do
    local found = wrk.lookup(host, port)
    if found == nil or found[1] == nil then error("NODES: cannot resolve " .. host .. ":" .. port) end
    addrs[#addrs + 1] = found[1]
  end
  if #addrs == 0 then error("NODES must look like host:port,host:port") end
  return addrs
end

-- Gives each thread its own random seed (wrk calls setup in the main state, once per thread) and,
-- with NODES set, its server.
local next_thread_id = 0
function common.setup(thread)
  next_thread_id = next_thread_id + 1
  thread:set("thread_id", next_thread_id)
  if nodes == nil then nodes = node_addresses() or false end
  if nodes then
    thread.addr = nodes[((next_thread_id - 1) % #nodes) + 1]
  end
end

function common.seed()
  math.randomseed(os.time() * 1000 + (thread_id or 0))
end

function common.random_key()
  return common.prefix .. math.random(0, common.keys - 1)
end

-- A few random printable values, so that puts do not all carry the same bytes.
function common.value_pool(count)
  local pool = {}
  for v = 1, count do
    local chars = {}
    for i = 1, common.value_size do
      chars[i] = string.char(math.random(97, 122))
    end
    pool[v] = table.concat(chars)
  end
  return pool
end

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

function common.base64(data)
  local out = {}
  local n = #data
  for i = 1, n, 3 do
    local a, b, c = data:byte(i, i + 2)
    local triple = a * 65536 + (b or 0) * 256 + (c or 0)
    local s1 = math.floor(triple / 262144) % 64
    local s2 = math.floor(triple / 4096) % 64
    local s3 = math.floor(triple / 64) % 64
    local s4 = triple % 64
    out[#out + 1] = b64chars:sub(s1 + 1, s1 + 1) .. b64chars:sub(s2 + 1, s2 + 1)
      .. (b and b64chars:sub(s3 + 1, s3 + 1) or "=")
      .. (c and b64chars:sub(s4 + 1, s4 + 1) or "=")
  end
  return table.concat(out)
end

-- One machine-readable line after wrk's own summary.
function common.done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p99.9_ms=%.3f max_ms=%.3f"
      .. " errors_connect=%d errors_read=%d errors_write=%d errors_status=%d errors_timeout=%d\n",
    summary.requests, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.status, e.timeout))
end

-- The compare-and-swap scripts (cas.lua, etcd-cas.lua): MODE (uncontended: thread t cycles over
-- its own keys cas-<t>-<n>, n in [0, KEYS); contended: every thread uses cas-hot) and SERIAL_READS.
common.cas_mode = os.getenv("MODE") or "uncontended"
common.serial_reads = os.getenv("SERIAL_READS") == "1"
local cas_threads = {}
local next_index = 0

function common.cas_setup(thread)
  common.setup(thread)
  cas_threads[#cas_threads + 1] = thread
end

function common.cas_init(args)
  common.configure(args)
  common.seed()
  won, lost, busy, unknown, other, reads = 0, 0, 0, 0, 0, 0
end

function common.cas_key()
  if common.cas_mode == "contended" then return "cas-hot" end
  local k = "cas-" .. thread_id .. "-" .. next_index
  next_index = (next_index + 1) % common.keys
  return k
end

-- RESULT, then one CAS line summed over the threads' counters (won, lost, busy, unknown, other, reads).
function common.cas_done(summary, latency, requests)
  common.done(summary, latency, requests)
  local t = { won = 0, lost = 0, busy = 0, unknown = 0, other = 0, reads = 0 }
  for _, thread in ipairs(cas_threads) do
    for name, _ in pairs(t) do t[name] = t[name] + (thread:get(name) or 0) end
  end
  local seconds = summary.duration / 1e6
  io.write(string.format("CAS mode=%s won=%d won_per_s=%.1f lost_412=%d busy_503=%d unknown_504=%d other=%d serial_reads=%d\n",
    common.serial_reads and "serial-read" or common.cas_mode, t.won, t.won / seconds, t.lost, t.busy, t.unknown, t.other, t.reads))
end

return common
