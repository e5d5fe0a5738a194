-- Stores a new escalation in the queue with its timers and opens its thread (the requester and
-- the bots whose subscriptions match), unless the requester already created one with the same
-- request id (then returns that one).
-- KEYS[1] escalation hash, KEYS[2] request-id key, KEYS[3] queue, KEYS[4] queue requirements,
-- KEYS[5] escalations by creation time, KEYS[6] timers, KEYS[7] bot subscriptions,
-- KEYS[8] thread, KEYS[9] thread members, KEYS[10] requester's thread index, KEYS[11] roster
-- stamp, then one skill index per required skill, then each matching bot's thread index
-- own ARGV: [1] escalation id, [2] serialized immutable part, [3] queue score,
-- [4] requirements (for the queue), [5] version of the bot subscriptions the bots were matched
-- against, [6] thread id, [7] site, [8] requester, [9] n skills, [10] m bots, [11] t timers,
-- [12] stamp of the roster the requester's record was read from,
-- then the n skill names (in KEYS order), the m bot ids, and t pairs (timer member, due ms)
-- Returns {'OK'}, {'EXISTS', id}, {'UNKNOWN_SKILL', name}, {'BOTS_CHANGED'} (match again) or
-- {'ROSTER_CHANGED'} (read the requester again).
local id = ARGV[BL_ARG0 + 1]
local existing = redis.call('GET', KEYS[2])
if existing then return {'EXISTS', existing} end
if (redis.call('HGET', KEYS[7], '_version') or '0') ~= ARGV[BL_ARG0 + 5] then
  return {'BOTS_CHANGED'}
end
if (redis.call('GET', KEYS[11]) or '') ~= ARGV[BL_ARG0 + 12] then return {'ROSTER_CHANGED'} end
local nskills, nbots, ntimers = tonumber(ARGV[BL_ARG0 + 9]), tonumber(ARGV[BL_ARG0 + 10]),
                                tonumber(ARGV[BL_ARG0 + 11])
local skill_arg, bot_arg = BL_ARG0 + 12, BL_ARG0 + 12 + nskills
local timer_arg = bot_arg + nbots
for s = 1, nskills do
  if redis.call('EXISTS', KEYS[11 + s]) == 0 then return {'UNKNOWN_SKILL', ARGV[skill_arg + s]} end
end
for t = 0, ntimers - 1 do
  redis.call('ZADD', KEYS[6], ARGV[timer_arg + 2 * t + 2], ARGV[timer_arg + 2 * t + 1])
end
local thread, requester = ARGV[BL_ARG0 + 6], ARGV[BL_ARG0 + 8]
redis.call('HSET', KEYS[1], 'proto', ARGV[BL_ARG0 + 2], 'state', 1, 'version', 1, 'thread', thread)
redis.call('SET', KEYS[2], id, 'EX', 86400)
bl_queue_add(KEYS[3], ARGV[BL_ARG0 + 3], id)
redis.call('HSET', KEYS[4], id, ARGV[BL_ARG0 + 4])
redis.call('ZADD', KEYS[5], BL_NOW, id)
redis.call('HSET', KEYS[8], 'id', thread, 'kind', 1, 'escalation', id, 'site', ARGV[BL_ARG0 + 7],
           'created', BL_NOW, 'last_activity', BL_NOW, 'last_seq', 0)
redis.call('SADD', KEYS[9], requester)
redis.call('ZADD', KEYS[10], BL_NOW, thread)
for b = 1, nbots do
  redis.call('SADD', KEYS[9], ARGV[bot_arg + b])
  redis.call('ZADD', KEYS[11 + nskills + b], BL_NOW, thread)
end
bl_append_events()
return {'OK'}
