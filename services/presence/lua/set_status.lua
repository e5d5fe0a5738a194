-- Sets the status a person chose. When people set their own status that is also a sign of life:
-- their session `status` is touched like a heartbeat.
-- KEYS[1] person hash, KEYS[2] presence hash, KEYS[3] offerable index, KEYS[4] sessions,
-- KEYS[5] liveness queue
-- own ARGV: [1] person id, [2] status (PresenceStatus number), [3] reason,
-- [4] session value to touch ('' when someone else sets the status), [5] liveness check time
-- Returns {'OK', presence fields..., live session count} or {'NOT_FOUND'}.
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
local id, status, reason = ARGV[BL_ARG0 + 1], ARGV[BL_ARG0 + 2], ARGV[BL_ARG0 + 3]
if ARGV[BL_ARG0 + 4] ~= '' then
  bl_touch_session(KEYS[2], KEYS[4], KEYS[5], nil, id, 'status', ARGV[BL_ARG0 + 4],
                   ARGV[BL_ARG0 + 5])
end
if redis.call('HGET', KEYS[2], 'status') ~= status then
  redis.call('HSET', KEYS[2], 'status', status, 'since', BL_NOW)
  -- Coming back to AVAILABLE starts the idle clock afresh and forgives missed offers.
  if status == BL_AVAILABLE then redis.call('HSET', KEYS[2], 'idle_since', BL_NOW, 'missed', 0) end
end
redis.call('HSET', KEYS[2], 'reason', reason)
bl_refresh_offerable(KEYS[2], KEYS[3], id)
bl_append_events()
return {'OK', redis.call('HGETALL', KEYS[2]), redis.call('HLEN', KEYS[4])}
