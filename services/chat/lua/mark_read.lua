-- Moves a read marker forward (never back) and tells the other participants.
-- KEYS[1] read markers
-- own ARGV: [1] person, [2] sequence number
-- Returns {'OK', marker} when it moved, {'SAME', marker} when it was already there or beyond.
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[BL_ARG0 + 1]) or '0')
local seq = tonumber(ARGV[BL_ARG0 + 2])
if seq <= current then return {'SAME', current} end
redis.call('HSET', KEYS[1], ARGV[BL_ARG0 + 1], seq)
bl_append_events()
return {'OK', seq}
