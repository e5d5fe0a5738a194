-- Helpers shared by every Backline script; ScriptCall prepends this file to each script.
--
-- ARGV layout common to all scripts (built by ScriptCall in C++):
--   ARGV[1] event pub/sub channel     ARGV[2] event log max length (entries per user)
--   ARGV[3] event log max age (ms)    ARGV[4] now, ms since the epoch (the service's clock)
--   ARGV[5] index in ARGV where the event block starts
--   ARGV[6] routing wake-up channel   ARGV[7] presence-change channel
--   ARGV[8 .. ARGV[5]-1]   the script's own arguments
--   ARGV[ARGV[5]]          number of events, then per event: stream key index, last key index,
--                          the name to announce (the user id, or the user id, a space and the
--                          desktop session the event came from), serialized Event (those keys
--                          come after the script's own)
-- KEYS: the script's own, then the event logs' (two per event), then the on-call index and the
-- load index (in every call, so that any script can keep them with bl_refresh_offerable).
local BL_NOW = tonumber(ARGV[4])
local BL_ARG0 = 7  -- the script's own arguments are ARGV[BL_ARG0 + i], i >= 1
local BL_ON_CALL_INDEX, BL_LOAD_INDEX = KEYS[#KEYS - 1], KEYS[#KEYS]
-- The script's own keys are KEYS[1..BL_NKEYS].
local BL_NKEYS = #KEYS - 2 - 2 * tonumber(ARGV[tonumber(ARGV[5])])

-- Appends one event to a user's log, trims the log to its retention, remembers the newest cursor
-- (so that resume can tell a trimmed log from an empty one) and announces it on the channel.
-- Stream ids come from the Redis clock, so age trimming counts from the new entry's id.
-- `user` is the name announced: the user id, maybe followed by the session of origin.
local function bl_append_event(stream, last, user, payload)
  local prev = redis.call('GET', last) or '0-0'
  local id = redis.call('XADD', stream, 'MAXLEN', '~', ARGV[2], '*', 'p', prev, 'e', payload)
  local min_ms = tonumber(string.match(id, '^%d+')) - tonumber(ARGV[3])
  redis.call('XTRIM', stream, 'MINID', '~', string.format('%d', math.max(min_ms, 0)))
  redis.call('SET', last, id)
  redis.call('PUBLISH', ARGV[1], user .. '\n' .. id .. '\n' .. prev .. '\n' .. payload)
  return id
end

-- Appends the events of the event block; returns their cursors. Call only once every check has
-- passed.
local function bl_append_events()
  local first = tonumber(ARGV[5])
  local n = tonumber(ARGV[first])
  local cursors = {}
  for i = 0, n - 1 do
    local b = first + 1 + i * 4
    cursors[#cursors + 1] = bl_append_event(KEYS[tonumber(ARGV[b])],
                                            KEYS[tonumber(ARGV[b + 1])], ARGV[b + 2], ARGV[b + 3])
  end
  return cursors
end

-- Queues `id` at `base` (a whole number: priority and call start, see QueueScore) behind every
-- escalation already queued with the same base: up to 255 arrivals within one millisecond keep
-- their order, as k/256 fractions (exact in a double, since bases stay below 2^45).
local function bl_queue_add(queue, base, id)
  redis.call('ZREM', queue, id)
  local b = tonumber(base)
  local last = redis.call('ZREVRANGEBYSCORE', queue, string.format('(%.17g', b + 1),
                          string.format('%.17g', b), 'WITHSCORES', 'LIMIT', 0, 1)
  local score = b
  if last[2] then score = math.min(tonumber(last[2]) + 1 / 256, b + 255 / 256) end
  redis.call('ZADD', queue, string.format('%.17g', score), id)
end

local BL_AVAILABLE = '1'  -- PresenceStatus.PRESENCE_STATUS_AVAILABLE
local BL_ON_CALL = '2'    -- PresenceStatus.PRESENCE_STATUS_ON_CALL
local BL_OFFLINE = '6'    -- PresenceStatus.PRESENCE_STATUS_OFFLINE

-- Makes the offerable index agree with a person's presence hash — a person is offerable when
-- AVAILABLE, alive and below capacity — and announces the change: routers hear `available P`
-- when P became offerable and `unavailable P` when P, holding offers, is no longer AVAILABLE or
-- alive (the router withdraws the offers P may no longer hold); presence watchers hear P. Keeps
-- the on-call index (ON_CALL, alive, below capacity; routers hear `on_call P` when P enters it)
-- and the load index the same way, and the free indexes (Keys::FreeIndex: one per skill and
-- level, named after the offerable index; the presence hash's `skills` are the person's,
-- `free_in` the ones they are listed under now). Every script that changes a presence hash ends
-- with this. Returns true when offerable.
-- A key of the indexes kept beside the offerable index (same prefix): `free:<skill>:<level>`
-- (Keys::FreeIndex), `free_ready` (Keys::FreeIndexReady), `skill:<skill>` (Keys::SkillIndex).
local function bl_index_beside(offerable, name)
  return string.sub(offerable, 1, #offerable - #'offerable') .. name
end

local function bl_refresh_offerable(presence, offerable, person)
  local f = redis.call('HMGET', presence, 'status', 'load', 'capacity', 'alive', 'idle_since',
                       'offers', 'skills', 'free_in')
  local room = f[4] == '1' and tonumber(f[2] or '0') < tonumber(f[3] or '0')
  local ok = f[1] == BL_AVAILABLE and room
  if f[1] == BL_ON_CALL and room then
    if redis.call('ZADD', BL_ON_CALL_INDEX, tonumber(f[5] or '0'), person) == 1 then
      redis.call('PUBLISH', ARGV[6], 'on_call ' .. person)
    end
  else
    redis.call('ZREM', BL_ON_CALL_INDEX, person)
  end
  if f[1] then
    redis.call('ZADD', BL_LOAD_INDEX, tonumber(f[2] or '0'), person)
  else
    redis.call('ZREM', BL_LOAD_INDEX, person)
  end
  local was_idle = redis.call('ZSCORE', offerable, person)
  local was = was_idle ~= false
  local free, had = ok and (f[7] or '') or '', f[8] or ''
  if had ~= free or (ok and tonumber(was_idle or '-1') ~= tonumber(f[5] or '0')) then
    if had ~= free then
      for skill, level in string.gmatch(had, '([^;:]+):(%d+)') do
        redis.call('ZREM', bl_index_beside(offerable, 'free:' .. skill .. ':' .. level), person)
      end
      redis.call('HSET', presence, 'free_in', free)
    end
    for skill, level in string.gmatch(free, '([^;:]+):(%d+)') do
      redis.call('ZADD', bl_index_beside(offerable, 'free:' .. skill .. ':' .. level),
                 tonumber(f[5] or '0'), person)
    end
  end
  if ok then
    redis.call('ZADD', offerable, tonumber(f[5] or '0'), person)
    if not was then redis.call('PUBLISH', ARGV[6], 'available ' .. person) end
  else
    redis.call('ZREM', offerable, person)
    if (f[1] ~= BL_AVAILABLE or f[4] ~= '1') and tonumber(f[6] or '0') > 0 then
      redis.call('PUBLISH', ARGV[6], 'unavailable ' .. person)
    end
  end
  redis.call('PUBLISH', ARGV[7], person)
  return ok
end

-- Pending offers live in the escalation hash's `offers` field, `helper offer-id;...`, the
-- best-ranked helper first (person ids hold neither spaces nor semicolons).
local function bl_offers(escalation)
  local list = {}
  local text = redis.call('HGET', escalation, 'offers') or ''
  for helper, offer in string.gmatch(text, '([^ ;]+) ([^;]+)') do list[#list + 1] = {helper, offer} end
  return list
end

local function bl_offers_text(list)
  local parts = {}
  for i, o in ipairs(list) do parts[i] = o[1] .. ' ' .. o[2] end
  return table.concat(parts, ';')
end

-- Gives back the capacity a pending offer of escalation `id` reserved of `person`. `missed`:
-- 'lapsed' counts one more offer missed in a row, 'answered' forgets the missed ones, nil
-- leaves the count alone (another helper took it). Returns the missed count.
local function bl_free_offer(presence, offerable, pending, person, id, missed)
  redis.call('HINCRBY', presence, 'load', -1)
  redis.call('HINCRBY', presence, 'offers', -1)
  local count = 0
  if missed == 'lapsed' then
    count = redis.call('HINCRBY', presence, 'missed', 1)
  elseif missed == 'answered' then
    redis.call('HSET', presence, 'missed', 0)
  end
  bl_refresh_offerable(presence, offerable, person)
  redis.call('SREM', pending, id)
  return count
end

-- Records that a desktop session of a person is alive (`value` is `h:<expiry ms>` for a
-- heartbeat, `i:<instance>` for an open event stream) and marks the person alive: whatever
-- status they had chosen applies again. `check_at` (may be nil) schedules a liveness check;
-- `instance_people` (may be nil) is the set of people with sessions on that instance.
local function bl_touch_session(presence, sessions, liveness, instance_people, person, session,
                                value, check_at)
  redis.call('HSET', sessions, session, value)
  if check_at then redis.call('ZADD', liveness, 'GT', check_at, person) end
  if instance_people then redis.call('SADD', instance_people, person) end
  redis.call('HSET', presence, 'alive', '1')
  redis.call('HDEL', presence, 'offline_since')
end
