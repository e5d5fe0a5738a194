-- Ranks the people who may be offered work now and meet every requirement: best proficiency
-- (in the weakest of the required skills) first, then longest idle, then id.
--
-- The work is done by Redis's own set intersection, not by walking people in Lua: the
-- intersection of "offerable now" (scored by idle-since), the skill indexes (scored by
-- proficiency) and the language index is stored in a scratch key with
-- score = idle_since - weakest proficiency * 1e13, so ascending score order is the ranking
-- (milliseconds since the epoch stay far below 1e13, and the sums are exact in a double).
-- KEYS[1] offerable index, KEYS[2] language index, KEYS[3] excluded-people set,
-- KEYS[4] scratch key (deleted before returning), KEYS[5..] one skill index per requirement
-- own ARGV: [1] limit, [2] person never to return (the requester), [3] '1' to filter by
-- language (else KEYS[2] is not read), [4] '1' to skip members of the excluded set (else
-- KEYS[3] is not read), [5..] minimum proficiency per requirement, in KEYS order
-- Returns {id, proficiency, idle_since, ...}, best first.
local limit = tonumber(ARGV[BL_ARG0 + 1])
local requester = ARGV[BL_ARG0 + 2]
local by_language = ARGV[BL_ARG0 + 3] == '1'
local with_excluded = ARGV[BL_ARG0 + 4] == '1'
local scratch = KEYS[4]
local nskills = BL_NKEYS - 4
local mins, lowest = {}, 5
for s = 1, nskills do
  mins[s] = tonumber(ARGV[BL_ARG0 + 4 + s])
  if mins[s] < lowest then lowest = mins[s] end
end
local W = 1e13

-- The weakest proficiency of everyone with all the skills (one skill: that skill's index).
local skills_key = KEYS[5]
if nskills > 1 then
  local args = {'ZINTERSTORE', scratch, nskills}
  for s = 1, nskills do args[#args + 1] = KEYS[4 + s] end
  args[#args + 1] = 'AGGREGATE'
  args[#args + 1] = 'MIN'
  redis.call(unpack(args))
  skills_key = scratch
end
if by_language then
  redis.call('ZINTERSTORE', scratch, 3, KEYS[1], skills_key, KEYS[2], 'WEIGHTS', 1, -W, 0)
else
  redis.call('ZINTERSTORE', scratch, 2, KEYS[1], skills_key, 'WEIGHTS', 1, -W)
end

-- Walk the ranking from the top; below the lowest minimum nobody can qualify.
local out, offset, chunk = {}, 0, limit + 16
while #out < 3 * limit do
  local page = redis.call('ZRANGEBYSCORE', scratch, '-inf', '(' .. string.format('%.0f', (1 - lowest) * W),
                          'WITHSCORES', 'LIMIT', offset, chunk)
  if #page == 0 then break end
  for i = 1, #page, 2 do
    local id, score = page[i], tonumber(page[i + 1])
    local weakest = math.ceil(-score / W)
    local idle = score + weakest * W
    local ok = id ~= requester and
               (not with_excluded or redis.call('SISMEMBER', KEYS[3], id) == 0)
    for s = 1, nskills do
      if not ok then break end
      if nskills > 1 or mins[s] > lowest then
        ok = tonumber(redis.call('ZSCORE', KEYS[4 + s], id) or '0') >= mins[s]
      end
    end
    if ok then
      out[#out + 1] = id
      out[#out + 1] = weakest
      out[#out + 1] = idle
      if #out >= 3 * limit then break end
    end
  end
  offset = offset + chunk
end
redis.call('DEL', scratch)
return out
