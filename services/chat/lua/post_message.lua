-- Appends a message to a thread and delivers it to every participant's event log, once: a post
-- with a client message id already stored returns the stored message instead.
-- KEYS[1] thread, KEYS[2] participants set, KEYS[3] messages, KEYS[4] client ids,
-- KEYS[5] read markers, KEYS[5 + i] participant i's thread index
-- own ARGV: [1] sender, [2] client id field ('' for none), [3] sequence number,
-- [4] serialized message, [5] number of participants, [5 + i] participant i
-- Returns {'OK'}, {'EXISTS', stored message}, {'NOT_FOUND'}, {'NOT_MEMBER'} or {'CONFLICT'}
-- (the sequence or the participants changed since the service read the thread).
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_FOUND'} end
local sender, cmid, seq = ARGV[BL_ARG0 + 1], ARGV[BL_ARG0 + 2], ARGV[BL_ARG0 + 3]
if redis.call('SISMEMBER', KEYS[2], sender) == 0 then return {'NOT_MEMBER'} end
if cmid ~= '' then
  local stored = redis.call('HGET', KEYS[4], cmid)
  if stored then return {'EXISTS', redis.call('HGET', KEYS[3], stored)} end
end
if tostring(tonumber(redis.call('HGET', KEYS[1], 'last_seq') or '0') + 1) ~= seq then
  return {'CONFLICT'}
end
local n = tonumber(ARGV[BL_ARG0 + 5])
if redis.call('SCARD', KEYS[2]) ~= n then return {'CONFLICT'} end
for i = 1, n do
  if redis.call('SISMEMBER', KEYS[2], ARGV[BL_ARG0 + 5 + i]) == 0 then return {'CONFLICT'} end
end
redis.call('HSET', KEYS[3], seq, ARGV[BL_ARG0 + 4])
redis.call('HSET', KEYS[1], 'last_seq', seq, 'last_activity', BL_NOW)
if cmid ~= '' then redis.call('HSET', KEYS[4], cmid, seq) end
-- The sender has read their own message.
redis.call('HSET', KEYS[5], sender, seq)
local thread = redis.call('HGET', KEYS[1], 'id')
for i = 1, n do redis.call('ZADD', KEYS[5 + i], BL_NOW, thread) end
bl_append_events()
return {'OK'}
