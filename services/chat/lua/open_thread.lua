-- Creates a thread unless it exists (direct and team threads have ids derived from who they are
-- between, so opening one twice finds the first).
-- KEYS[1] thread, KEYS[2] participants set (direct threads; else unused),
-- KEYS[2 + i] thread index of person i to list the thread for
-- own ARGV: [1] thread id, [2] kind, [3] team, [4] site, [5] n people to list it for,
-- [5 + i] person i, [6 + n] '1' to add those people as participants (direct threads)
-- Returns {'OK'} or {'EXISTS'}.
if redis.call('EXISTS', KEYS[1]) == 1 then return {'EXISTS'} end
local n = tonumber(ARGV[BL_ARG0 + 5])
redis.call('HSET', KEYS[1], 'id', ARGV[BL_ARG0 + 1], 'kind', ARGV[BL_ARG0 + 2],
           'team', ARGV[BL_ARG0 + 3], 'site', ARGV[BL_ARG0 + 4], 'created', BL_NOW,
           'last_seq', 0, 'last_activity', BL_NOW)
for i = 1, n do
  if ARGV[BL_ARG0 + 6 + n] == '1' then redis.call('SADD', KEYS[2], ARGV[BL_ARG0 + 5 + i]) end
  redis.call('ZADD', KEYS[2 + i], BL_NOW, ARGV[BL_ARG0 + 1])
end
bl_append_events()
return {'OK'}
