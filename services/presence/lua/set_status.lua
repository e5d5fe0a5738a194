-- Sets the status a person chose and keeps the offerable index in step.
-- KEYS[1] person hash, KEYS[2] presence hash, KEYS[3] offerable index
-- own ARGV: [1] person id, [2] status (PresenceStatus number), [3] reason, [4] routing channel
-- Returns {'OK', presence fields...} or {'NOT_FOUND'}.
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
local id, status, reason = ARGV[BL_ARG0 + 1], ARGV[BL_ARG0 + 2], ARGV[BL_ARG0 + 3]
local was_offerable = redis.call('ZSCORE', KEYS[3], id) ~= false
local old = redis.call('HGET', KEYS[2], 'status')
if old ~= status then
  redis.call('HSET', KEYS[2], 'status', status, 'since', BL_NOW)
  -- Coming back to AVAILABLE starts the idle clock afresh and forgives missed offers.
  if status == BL_AVAILABLE then redis.call('HSET', KEYS[2], 'idle_since', BL_NOW, 'missed', 0) end
end
-- Setting a status is a sign of life; OFFLINE is leaving.
redis.call('HSET', KEYS[2], 'reason', reason, 'alive', status == '6' and '0' or '1')
local offerable = bl_refresh_offerable(KEYS[2], KEYS[3], id)
if offerable and not was_offerable then
  redis.call('PUBLISH', ARGV[BL_ARG0 + 4], 'available ' .. id)
elseif status ~= BL_AVAILABLE and tonumber(redis.call('HGET', KEYS[2], 'offers') or '0') > 0 then
  -- Pending offers of someone who is no longer available are withdrawn by the routers.
  redis.call('PUBLISH', ARGV[BL_ARG0 + 4], 'unavailable ' .. id)
end
bl_append_events()
return {'OK', redis.call('HGETALL', KEYS[2])}
