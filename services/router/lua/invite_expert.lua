-- Brings an expert into an accepted escalation's thread, with a system message.
-- KEYS[1] escalation, KEYS[2] thread, KEYS[3] thread members, KEYS[4] thread messages,
-- KEYS[5] the expert's thread index, KEYS[6] the escalation's experts
-- own ARGV: [1] escalation id, [2] expected version, [3] expert, [4] thread id,
-- [5] system message, [6] its seq
-- Returns {'OK'}, {'ALREADY'} or {'CONFLICT'}.
local version, expert, seq = ARGV[BL_ARG0 + 2], ARGV[BL_ARG0 + 3], ARGV[BL_ARG0 + 6]
local cur = redis.call('HMGET', KEYS[1], 'version', 'state')
if cur[1] ~= version or cur[2] ~= '3' then return {'CONFLICT'} end
if redis.call('SISMEMBER', KEYS[3], expert) == 1 then return {'ALREADY'} end
if tostring(tonumber(redis.call('HGET', KEYS[2], 'last_seq') or '0') + 1) ~= seq then
  return {'CONFLICT'}
end
redis.call('SADD', KEYS[3], expert)
redis.call('SADD', KEYS[6], expert)
redis.call('ZADD', KEYS[5], BL_NOW, ARGV[BL_ARG0 + 4])
redis.call('HSET', KEYS[1], 'version', tonumber(version) + 1)
redis.call('HSET', KEYS[4], seq, ARGV[BL_ARG0 + 5])
redis.call('HSET', KEYS[2], 'last_seq', seq, 'last_activity', BL_NOW)
bl_append_events()
return {'OK'}
