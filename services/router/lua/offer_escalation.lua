-- Offers a queued escalation to one helper, or to a small group at once, reserving one unit of
-- each helper's capacity: the checks (escalation unchanged and QUEUED, every helper offerable
-- now and not among those who declined) and the reservations are one atomic step, so capacity
-- is never exceeded and an escalation is never offered twice. The offers are a lease: their
-- timer takes them back.
-- KEYS[1] escalation, KEYS[2] offerable index, KEYS[3] queue, KEYS[4] queue requirements,
-- KEYS[5] timers, KEYS[6] declined set, KEYS[7] offered-to set, KEYS[8] round-robin pointer,
-- KEYS[9] the escalations announced as waiting, then per helper: presence hash, pending offers
-- own ARGV: [1] escalation id, [2] expected version, [3] deadline ms, [4] timer member,
-- [5] '1': set the round-robin pointer to the first helper, [6] n, the number of helpers, then
-- per helper: id, offer id, '1' when they may be in the on-call index instead (an URGENT
-- escalation, by policy)
-- Returns {'OK', 1 if it had been announced as waiting (it no longer is), else 0}, {'CONFLICT'}
-- (escalation changed) or {'HELPER_GONE', helper} (that helper is not offerable now; nothing was
-- changed).
local id, version = ARGV[BL_ARG0 + 1], ARGV[BL_ARG0 + 2]
local cur = redis.call('HMGET', KEYS[1], 'version', 'state')
if cur[1] ~= version or cur[2] ~= '1' then return {'CONFLICT'} end
local n = tonumber(ARGV[BL_ARG0 + 6])
for i = 1, n do
  local a = BL_ARG0 + 6 + (i - 1) * 3
  local helper = ARGV[a + 1]
  local free = redis.call('ZSCORE', KEYS[2], helper) or
               (ARGV[a + 3] == '1' and redis.call('ZSCORE', BL_ON_CALL_INDEX, helper))
  if not free or redis.call('SISMEMBER', KEYS[6], helper) == 1 then
    return {'HELPER_GONE', helper}
  end
end
local offers = {}
for i = 1, n do
  local a = BL_ARG0 + 6 + (i - 1) * 3
  local helper = ARGV[a + 1]
  local presence, pending = KEYS[8 + 2 * i], KEYS[9 + 2 * i]
  redis.call('HINCRBY', presence, 'load', 1)
  redis.call('HINCRBY', presence, 'offers', 1)
  bl_refresh_offerable(presence, KEYS[2], helper)
  redis.call('SADD', pending, id)
  redis.call('SADD', KEYS[7], helper)
  offers[i] = {helper, ARGV[a + 2]}
end
if ARGV[BL_ARG0 + 5] == '1' then redis.call('SET', KEYS[8], offers[1][1]) end
redis.call('HSET', KEYS[1], 'state', 2, 'version', tonumber(version) + 1,
           'offers', bl_offers_text(offers), 'offer_time', BL_NOW,
           'offer_deadline', ARGV[BL_ARG0 + 3])
redis.call('HSETNX', KEYS[1], 'first_offer_time', BL_NOW)
redis.call('ZREM', KEYS[3], id)
redis.call('HDEL', KEYS[4], id)
redis.call('ZADD', KEYS[5], ARGV[BL_ARG0 + 3], ARGV[BL_ARG0 + 4])
local announced = redis.call('SREM', KEYS[9], id)
bl_append_events()
return {'OK', announced}
