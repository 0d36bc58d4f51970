-- Spring Cloud Gateway's RedisRateLimiter script, copied unchanged below this header (plus a final newline) from
-- github.com/spring-cloud/spring-cloud-gateway, commit 5227205c743d6d2b743bedf2f58cc76c65ca7408,
-- spring-cloud-gateway-server-webflux/src/main/resources/META-INF/scripts/request_rate_limiter.lua
-- (last changed in c85a3ee58b7fe4b792d0800df3ad21b38d0f1f87). Copyright the Spring Cloud Gateway authors,
-- Apache License 2.0 (https://www.apache.org/licenses/LICENSE-2.0), the licence of gatecheck too.
-- RedisRateLimiter calls it with KEYS = request_rate_limiter.{<route>.<id>}.tokens / .timestamp and
-- ARGV = replenishRate, burstCapacity, "" (so `now` is Redis TIME in whole seconds), requestedTokens.
redis.replicate_commands()

local tokens_key = KEYS[1]
local timestamp_key = KEYS[2]

local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local now = tonumber(ARGV[3]) or redis.call('TIME')[1]
local requested = tonumber(ARGV[4])

local fill_time = capacity / rate
local ttl = math.floor(fill_time * 2)

local last_tokens = tonumber(redis.call("get", tokens_key)) or capacity
local last_refreshed = tonumber(redis.call("get", timestamp_key)) or 0

local delta = math.max(0, now-last_refreshed)
local filled_tokens = math.min(capacity, last_tokens+(delta*rate))
local allowed = filled_tokens >= requested
local new_tokens = allowed and filled_tokens - requested or filled_tokens

if ttl > 0 then
  redis.call("setex", tokens_key, ttl, new_tokens)
  redis.call("setex", timestamp_key, ttl, now)
end

return { allowed and 1 or 0, new_tokens }
