-- A desktop session shows a sign of life: a heartbeat (`h:<expiry>`, re-checked at the expiry)
-- or an event stream opened on a chat instance (`i:<instance>`, alive as long as the instance).
-- The person is alive again; if they were away for less than the grace period, the status they
-- had chosen applies again.
-- KEYS[1] person hash, KEYS[2] presence hash, KEYS[3] offerable index, KEYS[4] sessions,
-- KEYS[5] liveness queue, KEYS[6] people of the instance (for streams; else unused)
-- own ARGV: [1] person id, [2] session id, [3] session value, [4] liveness check time ('' for
-- none), [5] '1' for a stream session
-- Returns {'OK', presence fields..., session count} or {'NOT_FOUND'}.
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
local id = ARGV[BL_ARG0 + 1]
local check_at = ARGV[BL_ARG0 + 4]
bl_touch_session(KEYS[2], KEYS[4], KEYS[5], ARGV[BL_ARG0 + 5] == '1' and KEYS[6] or nil, id,
                 ARGV[BL_ARG0 + 2], ARGV[BL_ARG0 + 3], check_at ~= '' and check_at or nil)
bl_refresh_offerable(KEYS[2], KEYS[3], id)
return {'OK', redis.call('HGETALL', KEYS[2]), redis.call('HLEN', KEYS[4])}
