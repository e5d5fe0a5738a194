-- Ends an escalation (CANCELLED, RESOLVED or EXPIRED): frees whatever it held of its helpers
-- (pending offers, or the help thread), takes it out of the queue and the timers, and, when it
-- has a thread, appends the closing system message.
-- KEYS[1] escalation, KEYS[2] queue, KEYS[3] queue requirements, KEYS[4] timers,
-- KEYS[5] helper presence (the accepted helper's), KEYS[6] offerable index, KEYS[7] thread,
-- KEYS[8] thread messages, then per pending offer: presence hash, pending offers
-- own ARGV: [1] escalation id, [2] expected version, [3] new state, [4] time field to stamp,
-- [5] reason, [6] the accepted helper ('' if none), [7] timer member ('' if none), [8] system
-- message ('' if none), [9] its sequence number, [10] n, then the n helpers holding offers
-- Returns {'OK'} or {'CONFLICT'}.
local id, version = ARGV[BL_ARG0 + 1], ARGV[BL_ARG0 + 2]
local helper = ARGV[BL_ARG0 + 6]
local offered = tonumber(ARGV[BL_ARG0 + 10])
local cur = redis.call('HMGET', KEYS[1], 'version', 'state', 'helper')
if cur[1] ~= version then return {'CONFLICT'} end
local state = cur[2]
if state == '2' then
  if #bl_offers(KEYS[1]) ~= offered then return {'CONFLICT'} end
  for i = 1, offered do
    bl_free_offer(KEYS[7 + 2 * i], KEYS[6], KEYS[8 + 2 * i], ARGV[BL_ARG0 + 10 + i], id, nil)
  end
elseif state == '3' then
  if cur[3] ~= helper then return {'CONFLICT'} end
  -- Finishing a help thread starts the helper's idle clock afresh.
  redis.call('HINCRBY', KEYS[5], 'load', -1)
  redis.call('HSET', KEYS[5], 'idle_since', BL_NOW)
  bl_refresh_offerable(KEYS[5], KEYS[6], helper)
elseif state ~= '1' then
  return {'CONFLICT'}
end
local message = ARGV[BL_ARG0 + 8]
if message ~= '' then
  local seq = ARGV[BL_ARG0 + 9]
  if tostring(tonumber(redis.call('HGET', KEYS[7], 'last_seq') or '0') + 1) ~= seq then
    return {'CONFLICT'}
  end
  redis.call('HSET', KEYS[8], seq, message)
  redis.call('HSET', KEYS[7], 'last_seq', seq, 'last_activity', BL_NOW)
end
redis.call('HSET', KEYS[1], 'state', ARGV[BL_ARG0 + 3], 'version', tonumber(version) + 1,
           ARGV[BL_ARG0 + 4], BL_NOW, 'close_reason', ARGV[BL_ARG0 + 5])
redis.call('HDEL', KEYS[1], 'offers', 'offer_time', 'offer_deadline')
redis.call('ZREM', KEYS[2], id)
redis.call('HDEL', KEYS[3], id)
if ARGV[BL_ARG0 + 7] ~= '' then redis.call('ZREM', KEYS[4], ARGV[BL_ARG0 + 7]) end
bl_append_events()
return {'OK'}
