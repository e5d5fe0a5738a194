-- Adds a participant to an escalation thread (a supervisor joining, an expert invited).
-- KEYS[1] thread, KEYS[2] participants set, KEYS[3] the joiner's thread index
-- own ARGV: [1] thread id, [2] joiner, [3] number of participants the service read
-- Returns {'OK'}, {'ALREADY'}, {'NOT_FOUND'} or {'CONFLICT'} (participants changed meanwhile).
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
if redis.call('SISMEMBER', KEYS[2], ARGV[BL_ARG0 + 2]) == 1 then return {'ALREADY'} end
if redis.call('SCARD', KEYS[2]) ~= tonumber(ARGV[BL_ARG0 + 3]) then return {'CONFLICT'} end
redis.call('SADD', KEYS[2], ARGV[BL_ARG0 + 2])
redis.call('ZADD', KEYS[3], BL_NOW, ARGV[BL_ARG0 + 1])
bl_append_events()
return {'OK'}
