-- Stores a bot's subscription and bumps the subscriptions' version, so that an escalation
-- being created against an older version matches again.
-- KEYS[1] bot subscriptions
-- own ARGV: [1] bot id, [2] serialized BotSubscription
-- Returns {'OK', new version}.
redis.call('HSET', KEYS[1], ARGV[BL_ARG0 + 1], ARGV[BL_ARG0 + 2])
return {'OK', redis.call('HINCRBY', KEYS[1], '_version', 1)}
