-- Records that a desktop session of a person is alive until a deadline.
-- KEYS[1] person hash, KEYS[2] presence hash, KEYS[3] offerable index, KEYS[4] sessions
-- own ARGV: [1] person id, [2] session id, [3] session expiry (ms), [4] routing channel
-- Returns {'OK', presence fields..., live session count} or {'NOT_FOUND'}.
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
local id = ARGV[BL_ARG0 + 1]
local was_offerable = redis.call('ZSCORE', KEYS[3], id) ~= false
redis.call('ZADD', KEYS[4], ARGV[BL_ARG0 + 3], ARGV[BL_ARG0 + 2])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', BL_NOW)
redis.call('PEXPIREAT', KEYS[4], ARGV[BL_ARG0 + 3])
local status = redis.call('HGET', KEYS[2], 'status') or '6'
if status ~= '6' then redis.call('HSET', KEYS[2], 'alive', '1') end
if bl_refresh_offerable(KEYS[2], KEYS[3], id) and not was_offerable then
  redis.call('PUBLISH', ARGV[BL_ARG0 + 4], 'available ' .. id)
end
return {'OK', redis.call('HGETALL', KEYS[2]), redis.call('ZCARD', KEYS[4])}
