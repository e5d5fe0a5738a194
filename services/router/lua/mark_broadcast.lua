-- Records that a still-waiting escalation was broadcast to its site's supervisors (once), and
-- delivers the notices.
-- KEYS[1] escalation
-- own ARGV: [1] expected version
-- Returns {'OK'} or {'CONFLICT'} (no longer waiting at that version, or already broadcast).
local cur = redis.call('HMGET', KEYS[1], 'version', 'state', 'broadcast_time')
if cur[1] ~= ARGV[BL_ARG0 + 1] or cur[2] ~= '1' or cur[3] then return {'CONFLICT'} end
redis.call('HSET', KEYS[1], 'broadcast_time', BL_NOW)
bl_append_events()
return {'OK'}
