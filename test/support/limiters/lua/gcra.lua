-- GCRA with redis-cell's semantics (CL.THROTTLE key max_burst count_per_period period 1), written for
-- gatecheck's limiter harness (test/support/limiters/redis.ts); redis-cell itself is a Redis module that
-- Debian does not package. As in redis-cell and throttled: emission interval T = period/count,
-- delay variation tolerance = T*(max_burst+1), so a new or idle key gets max_burst+1 at once.
-- KEYS[1]: the key's TAT. ARGV: max_burst, count_per_period, period_sec.
-- Returns {allowed (1/0), limit, remaining, retry_after_ms (-1 when allowed), reset_after_ms}.
local max_burst = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local period = tonumber(ARGV[3])

-- Redis's clock, in microseconds (the script's writes are replicated as effects, so TIME is allowed).
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

local interval = period * 1000000 / count
local tolerance = interval * (max_burst + 1)
local limit = max_burst + 1

local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then
  tat = now
end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if now < allow_at then
  -- Limited: the state is left alone.
  return { 0, limit, 0, math.ceil((allow_at - now) / 1000), math.ceil((tat - now) / 1000) }
end
local reset_after = new_tat - now
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil(reset_after / 1000) + 1)
return { 1, limit, math.floor((tolerance - reset_after) / interval), -1, math.ceil(reset_after / 1000) }
