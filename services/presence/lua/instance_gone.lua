-- A chat instance stopped renewing its lease (it died, or lost Redis for too long): everyone
-- with a stream on it gets a liveness check now. A renewed lease means it is back: nothing to do.
-- KEYS[1] instances, KEYS[2] the instance's people, KEYS[3] liveness queue
-- own ARGV: [1] instance id
-- Returns {'GONE', number of people to check} or {'ALIVE'}.
local instance = ARGV[BL_ARG0 + 1]
local until_ms = redis.call('ZSCORE', KEYS[1], instance)
if until_ms and tonumber(until_ms) > BL_NOW then return {'ALIVE'} end
local people = redis.call('SMEMBERS', KEYS[2])
for _, p in ipairs(people) do redis.call('ZADD', KEYS[3], BL_NOW, p) end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], instance)
return {'GONE', #people}
