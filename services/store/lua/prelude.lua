-- Helpers shared by every Backline script; ScriptCall prepends this file to each script.
--
-- ARGV layout common to all scripts (built by ScriptCall in C++):
--   ARGV[1] event pub/sub channel     ARGV[2] event log max length (entries per user)
--   ARGV[3] event log max age (ms)    ARGV[4] now, ms since the epoch (the service's clock)
--   ARGV[5] index in ARGV where the event block starts
--   ARGV[6 .. ARGV[5]-1]   the script's own arguments
--   ARGV[ARGV[5]]          number of events, then per event: stream key index, last key index,
--                          user id, serialized Event (those keys come after the script's own)
local BL_NOW = tonumber(ARGV[4])
local BL_ARG0 = 5  -- the script's own arguments are ARGV[BL_ARG0 + i], i >= 1
-- The script's own keys are KEYS[1..BL_NKEYS]; the event logs' keys follow them.
local BL_NKEYS = #KEYS - 2 * tonumber(ARGV[tonumber(ARGV[5])])

-- Appends one event to a user's log, trims the log to its retention, remembers the newest cursor
-- (so that resume can tell a trimmed log from an empty one) and announces it on the channel.
-- Stream ids come from the Redis clock, so age trimming uses it too.
local function bl_append_event(stream, last, user, payload)
  local prev = redis.call('GET', last) or '0-0'
  local id = redis.call('XADD', stream, 'MAXLEN', '~', ARGV[2], '*', 'p', prev, 'e', payload)
  local t = redis.call('TIME')
  local min_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[3])
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

local BL_AVAILABLE = '1'  -- PresenceStatus.PRESENCE_STATUS_AVAILABLE

-- Makes the offerable index agree with a person's presence hash: a person is offerable when
-- AVAILABLE, alive and below capacity. Returns true when offerable.
local function bl_refresh_offerable(presence, offerable, person)
  local f = redis.call('HMGET', presence, 'status', 'load', 'capacity', 'alive', 'idle_since')
  local ok = f[1] == BL_AVAILABLE and f[4] == '1' and
             tonumber(f[2] or '0') < tonumber(f[3] or '0')
  if ok then
    redis.call('ZADD', offerable, tonumber(f[5] or '0'), person)
  else
    redis.call('ZREM', offerable, person)
  end
  return ok
end
