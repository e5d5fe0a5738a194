-- Sends a typing indicator to the other participants of a thread, without storing it, at most
-- once per two seconds per person and thread.
-- KEYS[1] the rate-limit key of this person and thread
-- own ARGV: [1] serialized Event (Typing), [2..] recipients
-- Returns {'OK'} or {'LIMITED'}.
if not redis.call('SET', KEYS[1], '1', 'PX', 2000, 'NX') then return {'LIMITED'} end
for i = BL_ARG0 + 2, tonumber(ARGV[5]) - 1 do
  -- An announcement with no cursor: delivered live, never logged.
  redis.call('PUBLISH', ARGV[1], ARGV[i] .. '\n\n\n' .. ARGV[BL_ARG0 + 1])
end
return {'OK'}
