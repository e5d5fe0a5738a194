-- Claims due members of a queue (a sorted set scored by due time, ms) for the calling instance:
-- each claimed member is pushed back by a lease, so that if the instance dies before handling
-- it, another instance claims it again once the lease runs out. Handlers are idempotent.
-- KEYS[1] the queue
-- own ARGV: [1] lease ms, [2] max count
-- Returns the claimed members.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', BL_NOW, 'LIMIT', 0, ARGV[BL_ARG0 + 2])
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], BL_NOW + tonumber(ARGV[BL_ARG0 + 1]), member)
end
return due
