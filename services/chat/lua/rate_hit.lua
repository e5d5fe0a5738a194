-- Records one person's mark on a knowledge-base hit (helpful or not; a new mark replaces their
-- earlier one) and keeps the hour's counters of the hit's article in step.
-- KEYS[1] the hit's marks (person -> 1 helpful, 0 not), KEYS[2] the counters of the hour the
-- hit was posted in
-- own ARGV: [1] person, [2] '1' helpful or '0' not, [3] counter field prefix of the hit
-- Returns {'OK', helpful count, not helpful count}.
local person, mark, hit = ARGV[BL_ARG0 + 1], ARGV[BL_ARG0 + 2], ARGV[BL_ARG0 + 3]
local names = {['1'] = '|helpful', ['0'] = '|not_helpful'}
local before = redis.call('HGET', KEYS[1], person)
if before ~= mark then
  if before then redis.call('HINCRBY', KEYS[2], hit .. names[before], -1) end
  redis.call('HSET', KEYS[1], person, mark)
  redis.call('HINCRBY', KEYS[2], hit .. names[mark], 1)
end
local helpful, not_helpful = 0, 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do
  if v == '1' then helpful = helpful + 1 else not_helpful = not_helpful + 1 end
end
return {'OK', helpful, not_helpful}
