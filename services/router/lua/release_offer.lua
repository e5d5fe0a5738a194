-- Takes a pending offer back from its helper (declined, lapsed, or withdrawn because the
-- helper left) and puts the escalation back in the queue; the helper is not offered it again.
-- KEYS[1] escalation, KEYS[2] helper presence, KEYS[3] offerable index, KEYS[4] timers,
-- KEYS[5] helper's pending offers, KEYS[6] queue, KEYS[7] queue requirements,
-- KEYS[8] declined set
-- own ARGV: [1] escalation id, [2] expected version, [3] helper, [4] timer member,
-- [5] queue score, [6] requirements, [7] '1' when the offer lapsed (counts as missed)
-- Returns {'OK', missed offers in a row} or {'CONFLICT'}.
local id, version, helper = ARGV[BL_ARG0 + 1], ARGV[BL_ARG0 + 2], ARGV[BL_ARG0 + 3]
local cur = redis.call('HMGET', KEYS[1], 'version', 'state', 'offer_helper')
if cur[1] ~= version or cur[2] ~= '2' or cur[3] ~= helper then return {'CONFLICT'} end
redis.call('HINCRBY', KEYS[2], 'load', -1)
redis.call('HINCRBY', KEYS[2], 'offers', -1)
local missed = 0
if ARGV[BL_ARG0 + 7] == '1' then
  missed = redis.call('HINCRBY', KEYS[2], 'missed', 1)
else
  redis.call('HSET', KEYS[2], 'missed', 0)
end
bl_refresh_offerable(KEYS[2], KEYS[3], helper)
redis.call('SREM', KEYS[5], id)
redis.call('SADD', KEYS[8], helper)
redis.call('HSET', KEYS[1], 'state', 1, 'version', tonumber(version) + 1)
redis.call('HDEL', KEYS[1], 'offer_id', 'offer_helper', 'offer_time', 'offer_deadline')
redis.call('ZREM', KEYS[4], ARGV[BL_ARG0 + 4])
bl_queue_add(KEYS[6], ARGV[BL_ARG0 + 5], id)
redis.call('HSET', KEYS[7], id, ARGV[BL_ARG0 + 6])
bl_append_events()
return {'OK', missed}
