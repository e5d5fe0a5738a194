-- Offers a queued escalation to one helper, reserving one unit of the helper's capacity: the
-- check (escalation unchanged and QUEUED, helper offerable now and not among those who
-- declined) and the reservation are one atomic step, so capacity is never exceeded and an
-- escalation is never offered twice. The offer is a lease: its timer takes it back.
-- KEYS[1] escalation, KEYS[2] helper presence, KEYS[3] offerable index, KEYS[4] queue,
-- KEYS[5] queue requirements, KEYS[6] timers, KEYS[7] helper's pending offers,
-- KEYS[8] declined set, KEYS[9] offered-to set, KEYS[10] round-robin pointer
-- own ARGV: [1] escalation id, [2] expected version, [3] helper, [4] offer id, [5] deadline ms,
-- [6] timer member, [7] '1': the helper may be in the on-call index instead (an URGENT
-- escalation, by policy), [8] '1': set the round-robin pointer to the helper
-- Returns {'OK'}, {'CONFLICT'} (escalation changed) or {'HELPER_GONE'} (not offerable now).
local id, version, helper = ARGV[BL_ARG0 + 1], ARGV[BL_ARG0 + 2], ARGV[BL_ARG0 + 3]
local cur = redis.call('HMGET', KEYS[1], 'version', 'state')
if cur[1] ~= version or cur[2] ~= '1' then return {'CONFLICT'} end
local free = redis.call('ZSCORE', KEYS[3], helper) or
             (ARGV[BL_ARG0 + 7] == '1' and redis.call('ZSCORE', BL_ON_CALL_INDEX, helper))
if not free or redis.call('SISMEMBER', KEYS[8], helper) == 1 then return {'HELPER_GONE'} end
if ARGV[BL_ARG0 + 8] == '1' then redis.call('SET', KEYS[10], helper) end
redis.call('HINCRBY', KEYS[2], 'load', 1)
redis.call('HINCRBY', KEYS[2], 'offers', 1)
bl_refresh_offerable(KEYS[2], KEYS[3], helper)
redis.call('SADD', KEYS[7], id)
redis.call('SADD', KEYS[9], helper)
redis.call('HSET', KEYS[1], 'state', 2, 'version', tonumber(version) + 1,
           'offer_id', ARGV[BL_ARG0 + 4], 'offer_helper', helper, 'offer_time', BL_NOW,
           'offer_deadline', ARGV[BL_ARG0 + 5])
redis.call('HSETNX', KEYS[1], 'first_offer_time', BL_NOW)
redis.call('ZREM', KEYS[4], id)
redis.call('HDEL', KEYS[5], id)
redis.call('ZADD', KEYS[6], ARGV[BL_ARG0 + 5], ARGV[BL_ARG0 + 6])
bl_append_events()
return {'OK'}
