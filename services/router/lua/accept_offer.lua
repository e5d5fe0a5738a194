-- Accepts a pending offer: the first accept wins; the escalation becomes ACCEPTED, the helper
-- joins its thread (opened with the escalation), the reservation turns into a held help
-- thread, and the other helpers' offers (when it was offered to several at once) give their
-- capacity back.
-- KEYS[1] escalation, KEYS[2] helper presence, KEYS[3] offerable index, KEYS[4] timers,
-- KEYS[5] helper's pending offers, KEYS[6] thread, KEYS[7] thread members,
-- KEYS[8] thread messages, KEYS[9] requester's thread index, KEYS[10] helper's thread index,
-- KEYS[11] thread read markers, then per other pending helper: presence hash, pending offers
-- own ARGV: [1] escalation id, [2] expected version, [3] helper, [4] timer member,
-- [5] thread id, [6] requester, [7] system message, [8] its sequence number, [9] n, then the n
-- other pending helpers
-- Returns {'OK'}, {'CONFLICT'} (escalation or thread changed) or {'LAPSED'} (deadline passed).
local id, version, helper = ARGV[BL_ARG0 + 1], ARGV[BL_ARG0 + 2], ARGV[BL_ARG0 + 3]
local seq = ARGV[BL_ARG0 + 8]
local cur = redis.call('HMGET', KEYS[1], 'version', 'state', 'offer_deadline')
if cur[1] ~= version or cur[2] ~= '2' then return {'CONFLICT'} end
local offers = bl_offers(KEYS[1])
local others = tonumber(ARGV[BL_ARG0 + 9])
local mine = false
for _, o in ipairs(offers) do mine = mine or o[1] == helper end
if not mine or #offers ~= others + 1 then return {'CONFLICT'} end
if tostring(tonumber(redis.call('HGET', KEYS[6], 'last_seq') or '0') + 1) ~= seq then
  return {'CONFLICT'}
end
if tonumber(cur[3]) < BL_NOW then return {'LAPSED'} end
redis.call('HINCRBY', KEYS[2], 'offers', -1)
-- Taking on work ends the helper's idle time (finishing it starts the clock afresh).
redis.call('HSET', KEYS[2], 'missed', 0, 'idle_since', BL_NOW)
bl_refresh_offerable(KEYS[2], KEYS[3], helper)
redis.call('SREM', KEYS[5], id)
redis.call('HSET', KEYS[1], 'state', 3, 'version', tonumber(version) + 1, 'helper', helper,
           'thread', ARGV[BL_ARG0 + 5], 'accept_time', BL_NOW)
redis.call('HDEL', KEYS[1], 'offers', 'offer_time', 'offer_deadline')
for i = 1, others do
  bl_free_offer(KEYS[10 + 2 * i], KEYS[3], KEYS[11 + 2 * i], ARGV[BL_ARG0 + 9 + i], id, nil)
end
redis.call('ZREM', KEYS[4], ARGV[BL_ARG0 + 4])
redis.call('HSET', KEYS[6], 'last_seq', seq, 'last_activity', BL_NOW)
redis.call('SADD', KEYS[7], ARGV[BL_ARG0 + 6], helper)
redis.call('HSET', KEYS[8], seq, ARGV[BL_ARG0 + 7])
redis.call('ZADD', KEYS[9], BL_NOW, ARGV[BL_ARG0 + 5])
redis.call('ZADD', KEYS[10], BL_NOW, ARGV[BL_ARG0 + 5])
-- The helper wrote the system message by accepting: it is read for them.
redis.call('HSET', KEYS[11], helper, seq)
bl_append_events()
return {'OK'}
