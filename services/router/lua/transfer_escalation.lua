-- Hands an accepted escalation back to the queue with new required skills: the helper's help
-- thread is freed (they are not offered it again), the thread continues with a system message.
-- KEYS[1] escalation, KEYS[2] helper presence, KEYS[3] offerable index, KEYS[4] queue,
-- KEYS[5] queue requirements, KEYS[6] thread, KEYS[7] thread messages, KEYS[8] declined set
-- own ARGV: [1] escalation id, [2] expected version, [3] helper, [4] serialized immutable part
-- with the new skills, [5] queue score, [6] requirements, [7] system message, [8] its seq
-- Returns {'OK'} or {'CONFLICT'}.
local id, version, helper = ARGV[BL_ARG0 + 1], ARGV[BL_ARG0 + 2], ARGV[BL_ARG0 + 3]
local seq = ARGV[BL_ARG0 + 8]
local cur = redis.call('HMGET', KEYS[1], 'version', 'state', 'helper')
if cur[1] ~= version or cur[2] ~= '3' or cur[3] ~= helper then return {'CONFLICT'} end
if tostring(tonumber(redis.call('HGET', KEYS[6], 'last_seq') or '0') + 1) ~= seq then
  return {'CONFLICT'}
end
redis.call('HINCRBY', KEYS[2], 'load', -1)
redis.call('HSET', KEYS[2], 'idle_since', BL_NOW)
bl_refresh_offerable(KEYS[2], KEYS[3], helper)
redis.call('HSET', KEYS[1], 'proto', ARGV[BL_ARG0 + 4], 'state', 1, 'version',
           tonumber(version) + 1)
redis.call('HDEL', KEYS[1], 'helper')
redis.call('SADD', KEYS[8], helper)
bl_queue_add(KEYS[4], ARGV[BL_ARG0 + 5], id)
redis.call('HSET', KEYS[5], id, ARGV[BL_ARG0 + 6])
redis.call('HSET', KEYS[7], seq, ARGV[BL_ARG0 + 7])
redis.call('HSET', KEYS[6], 'last_seq', seq, 'last_activity', BL_NOW)
bl_append_events()
return {'OK'}
