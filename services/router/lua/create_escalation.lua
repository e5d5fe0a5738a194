-- Stores a new escalation in the queue, unless the requester already created one with the same
-- request id (then returns that one).
-- KEYS[1] escalation hash, KEYS[2] request-id key, KEYS[3] queue, KEYS[4] queue requirements,
-- KEYS[5] escalations by creation time, KEYS[6] timers, KEYS[7..] skill indexes of the required
-- skills
-- own ARGV: [1] escalation id, [2] serialized immutable part, [3] queue score,
-- [4] requirements (for the queue), [5] number of skills n, [6..5+n] skill names in KEYS order,
-- then pairs of (timer member, due time in ms)
-- Returns {'OK'}, {'EXISTS', id} or {'UNKNOWN_SKILL', name}.
local id = ARGV[BL_ARG0 + 1]
local existing = redis.call('GET', KEYS[2])
if existing then return {'EXISTS', existing} end
local nskills = tonumber(ARGV[BL_ARG0 + 5])
for k = 7, BL_NKEYS do
  if redis.call('EXISTS', KEYS[k]) == 0 then return {'UNKNOWN_SKILL', ARGV[BL_ARG0 + k - 1]} end
end
for a = BL_ARG0 + 6 + nskills, tonumber(ARGV[5]) - 1, 2 do
  redis.call('ZADD', KEYS[6], ARGV[a + 1], ARGV[a])
end
redis.call('HSET', KEYS[1], 'proto', ARGV[BL_ARG0 + 2], 'state', 1, 'version', 1)
redis.call('SET', KEYS[2], id, 'EX', 86400)
bl_queue_add(KEYS[3], ARGV[BL_ARG0 + 3], id)
redis.call('HSET', KEYS[4], id, ARGV[BL_ARG0 + 4])
redis.call('ZADD', KEYS[5], BL_NOW, id)
bl_append_events()
return {'OK'}
