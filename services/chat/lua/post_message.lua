-- Appends a message to a thread and delivers it to every participant's event log, once: a post
-- with a client message id already stored returns the stored message instead. A bot's post
-- takes a token from the bot's bucket first; a knowledge-base hit is counted for the service
-- level (per site, bot and article, in the hour it was posted).
-- KEYS[1] thread, KEYS[2] participants set, KEYS[3] messages, KEYS[4] client ids,
-- KEYS[5] read markers, KEYS[6] the sender's rate bucket (bots), KEYS[7] this hour's
-- knowledge-base counters, KEYS[7 + i] participant i's thread index
-- own ARGV: [1] sender, [2] client id field ('' for none), [3] sequence number,
-- [4] serialized message, [5] rate in posts per second ('' for no limit), [6] burst,
-- [7] counter field prefix of a hit ('' for other messages), [8] the hit's title,
-- [9] number of participants, [9 + i] participant i
-- Returns {'OK'}, {'EXISTS', stored message}, {'NOT_FOUND'}, {'NOT_MEMBER'},
-- {'RATE_LIMITED', ms until the next post may go}, {'CONFLICT'} (the participants changed since
-- the service read the thread) or {'SEQ', the thread's last sequence number} (other messages
-- came first: the service numbers the message again).
local t = redis.call('HMGET', KEYS[1], 'id', 'last_seq')
local thread = t[1]
if not thread then return {'NOT_FOUND'} end
local sender, cmid, seq = ARGV[BL_ARG0 + 1], ARGV[BL_ARG0 + 2], ARGV[BL_ARG0 + 3]
local members = {}
for _, m in ipairs(redis.call('SMEMBERS', KEYS[2])) do members[m] = true end
if not members[sender] then return {'NOT_MEMBER'} end
if cmid ~= '' then
  local stored = redis.call('HGET', KEYS[4], cmid)
  if stored then return {'EXISTS', redis.call('HGET', KEYS[3], stored)} end
end
local n = tonumber(ARGV[BL_ARG0 + 9])
for i = 1, n do
  local p = ARGV[BL_ARG0 + 9 + i]
  if not members[p] then return {'CONFLICT'} end
  members[p] = nil
end
if next(members) ~= nil then return {'CONFLICT'} end
local last_seq = t[2] or '0'
if tostring(tonumber(last_seq) + 1) ~= seq then return {'SEQ', last_seq} end
local rate = ARGV[BL_ARG0 + 5]
if rate ~= '' then
  -- Token bucket: `burst` posts at once, refilled at `rate` per second.
  rate = tonumber(rate)
  local burst = tonumber(ARGV[BL_ARG0 + 6])
  local b = redis.call('HMGET', KEYS[6], 'tokens', 'at')
  local tokens = tonumber(b[1]) or burst
  local at = tonumber(b[2]) or BL_NOW
  tokens = math.min(burst, tokens + math.max(0, BL_NOW - at) * rate / 1000)
  if tokens < 1 then return {'RATE_LIMITED', math.ceil((1 - tokens) * 1000 / rate)} end
  redis.call('HSET', KEYS[6], 'tokens', tostring(tokens - 1), 'at', BL_NOW)
  redis.call('PEXPIRE', KEYS[6], math.ceil(burst * 1000 / rate) + 1000)
end
local hit = ARGV[BL_ARG0 + 7]
if hit ~= '' then
  redis.call('HINCRBY', KEYS[7], hit .. '|posted', 1)
  redis.call('HSET', KEYS[7], hit .. '|title', ARGV[BL_ARG0 + 8])
end
redis.call('HSET', KEYS[3], seq, ARGV[BL_ARG0 + 4])
redis.call('HSET', KEYS[1], 'last_seq', seq, 'last_activity', BL_NOW)
if cmid ~= '' then redis.call('HSET', KEYS[4], cmid, seq) end
-- The sender has read their own message.
redis.call('HSET', KEYS[5], sender, seq)
for i = 1, n do redis.call('ZADD', KEYS[7 + i], BL_NOW, thread) end
bl_append_events()
return {'OK'}
