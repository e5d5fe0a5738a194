-- Claims due timers for this router instance: each claimed timer is pushed back by a lease, so
-- that if this instance dies before handling it, another instance claims it again once the
-- lease runs out. Handlers are idempotent (they check the escalation's version).
-- KEYS[1] timers
-- own ARGV: [1] lease ms, [2] max count
-- Returns the claimed members.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', BL_NOW, 'LIMIT', 0, ARGV[BL_ARG0 + 2])
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], BL_NOW + tonumber(ARGV[BL_ARG0 + 1]), member)
end
return due
