-- An event stream closed: its session outlives it by the liveness timeout (as if it had just
-- heartbeaten), so that a desktop that reconnects within it — to any instance — loses nothing.
-- Only if the session is still the one this instance holds (it may have reconnected elsewhere).
-- KEYS[1] sessions, KEYS[2] liveness queue
-- own ARGV: [1] person id, [2] session id, [3] the value this instance wrote, [4] expiry ms
if redis.call('HGET', KEYS[1], ARGV[BL_ARG0 + 2]) == ARGV[BL_ARG0 + 3] then
  redis.call('HSET', KEYS[1], ARGV[BL_ARG0 + 2], 'h:' .. ARGV[BL_ARG0 + 4])
  redis.call('ZADD', KEYS[2], 'GT', ARGV[BL_ARG0 + 4], ARGV[BL_ARG0 + 1])
end
return {'OK'}
