-- Takes pending offers back from some of their helpers (declined, lapsed, or withdrawn because
-- a helper left); those helpers are not offered the escalation again. While other helpers
-- still hold offers it stays OFFERED (its deadline timer is renamed for the new version);
-- once nobody does, it goes back to the queue.
-- KEYS[1] escalation, KEYS[2] offerable index, KEYS[3] timers, KEYS[4] queue,
-- KEYS[5] queue requirements, KEYS[6] declined set, then per released helper: presence hash,
-- pending offers
-- own ARGV: [1] escalation id, [2] expected version, [3] timer member, [4] queue score,
-- [5] requirements, [6] '1' when the offers lapsed (each counts as missed), [7] the timer
-- member for the next version (used while offers remain), [8] n, then n helper ids
-- Returns {'OK', missed offers in a row per released helper...} or {'CONFLICT'}.
local id, version = ARGV[BL_ARG0 + 1], ARGV[BL_ARG0 + 2]
local cur = redis.call('HMGET', KEYS[1], 'version', 'state', 'offer_deadline')
if cur[1] ~= version or cur[2] ~= '2' then return {'CONFLICT'} end
local offers = bl_offers(KEYS[1])
local n = tonumber(ARGV[BL_ARG0 + 8])
local released = {}
for i = 1, n do released[ARGV[BL_ARG0 + 8 + i]] = i end
local remaining, found = {}, 0
for _, o in ipairs(offers) do
  if released[o[1]] then found = found + 1 else remaining[#remaining + 1] = o end
end
if found ~= n then return {'CONFLICT'} end
local out = {'OK'}
local missed = ARGV[BL_ARG0 + 6] == '1' and 'lapsed' or 'answered'
for i = 1, n do
  local helper = ARGV[BL_ARG0 + 8 + i]
  out[#out + 1] = bl_free_offer(KEYS[5 + 2 * i], KEYS[2], KEYS[6 + 2 * i], helper, id, missed)
  redis.call('SADD', KEYS[6], helper)
end
redis.call('ZREM', KEYS[3], ARGV[BL_ARG0 + 3])
if #remaining > 0 then
  redis.call('HSET', KEYS[1], 'version', tonumber(version) + 1, 'offers', bl_offers_text(remaining))
  redis.call('ZADD', KEYS[3], cur[3], ARGV[BL_ARG0 + 7])
else
  redis.call('HSET', KEYS[1], 'state', 1, 'version', tonumber(version) + 1)
  redis.call('HDEL', KEYS[1], 'offers', 'offer_time', 'offer_deadline')
  bl_queue_add(KEYS[4], ARGV[BL_ARG0 + 4], id)
  redis.call('HSET', KEYS[5], id, ARGV[BL_ARG0 + 5])
end
bl_append_events()
return out
