-- Decides whether a person is still there. Sessions whose heartbeat expired or whose chat
-- instance died are dropped. With none left the person leaves routing (their offers are
-- withdrawn) and is shown OFFLINE, but keeps the status they chose for the grace period: a
-- desktop back within it restores that status; after it the status becomes OFFLINE.
-- KEYS[1] presence, KEYS[2] offerable index, KEYS[3] sessions, KEYS[4] liveness queue,
-- KEYS[5] instances
-- own ARGV: [1] person id, [2] grace period ms
-- Returns {'ALIVE'}, {'AWAY'} (just left, or within grace), {'OFFLINE'} or {'GONE'}.
local id, grace = ARGV[BL_ARG0 + 1], tonumber(ARGV[BL_ARG0 + 2])
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[4], id)
  return {'GONE'}
end
local entries = redis.call('HGETALL', KEYS[3])
local alive, latest = false, nil
for i = 1, #entries, 2 do
  local session, value = entries[i], entries[i + 1]
  local kind, arg = string.sub(value, 1, 1), string.sub(value, 3)
  local ok = false
  if kind == 'h' then
    local expiry = tonumber(arg)
    ok = expiry > BL_NOW
    if ok and (not latest or expiry > latest) then latest = expiry end
  else
    local until_ms = redis.call('ZSCORE', KEYS[5], arg)
    ok = until_ms and tonumber(until_ms) > BL_NOW
  end
  if ok then alive = true else redis.call('HDEL', KEYS[3], session) end
end
if alive then
  -- Streams are watched through their instance; heartbeats need another look at their expiry.
  if latest then redis.call('ZADD', KEYS[4], latest, id) else redis.call('ZREM', KEYS[4], id) end
  return {'ALIVE'}
end
if redis.call('HGET', KEYS[1], 'alive') == '1' then
  redis.call('HSET', KEYS[1], 'alive', '0', 'offline_since', BL_NOW)
  bl_refresh_offerable(KEYS[1], KEYS[2], id)
  redis.call('ZADD', KEYS[4], BL_NOW + grace, id)
  return {'AWAY'}
end
local since = tonumber(redis.call('HGET', KEYS[1], 'offline_since') or '0')
if BL_NOW < since + grace then
  redis.call('ZADD', KEYS[4], since + grace, id)
  return {'AWAY'}
end
if redis.call('HGET', KEYS[1], 'status') ~= BL_OFFLINE then
  redis.call('HSET', KEYS[1], 'status', BL_OFFLINE, 'since', BL_NOW, 'reason', '')
  bl_refresh_offerable(KEYS[1], KEYS[2], id)
end
redis.call('ZREM', KEYS[4], id)
return {'OFFLINE'}
