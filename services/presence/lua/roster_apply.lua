-- Applies a roster change the service computed, provided the roster is still the version the
-- service read (otherwise CONFLICT and nothing changes).
-- KEYS[1] roster version, KEYS[2] offerable index, further keys as the commands reference them
-- own ARGV: [1] expected version, then commands up to the event block:
--   'C', n, command, key index, n arguments   a Redis command on KEYS[key index]
--   'R', presence key index, person id        make the offerable index agree with the person
local version = redis.call('GET', KEYS[1]) or '0'
if version ~= ARGV[BL_ARG0 + 1] then return {'CONFLICT', version} end
local i = BL_ARG0 + 2
local stop = tonumber(ARGV[5])
while i < stop do
  if ARGV[i] == 'R' then
    bl_refresh_offerable(KEYS[tonumber(ARGV[i + 1])], KEYS[2], ARGV[i + 2])
    i = i + 3
  else
    local n = tonumber(ARGV[i + 1])
    local cmd = {ARGV[i + 2], KEYS[tonumber(ARGV[i + 3])]}
    for j = 1, n do cmd[#cmd + 1] = ARGV[i + 3 + j] end
    redis.call(unpack(cmd))
    i = i + 4 + n
  end
end
bl_append_events()
return {'OK', redis.call('INCR', KEYS[1])}
