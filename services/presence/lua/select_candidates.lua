-- Ranks the people who may be offered work now and meet every requirement: best proficiency
-- (in the weakest of the required skills) first, then longest idle, then id.
-- KEYS[1] offerable index, KEYS[2] language index, KEYS[3] excluded-people set,
-- KEYS[4..] one skill index per requirement
-- own ARGV: [1] limit, [2] person never to return (the requester), [3] '1' to filter by
-- language (else KEYS[2] is not read), [4] '1' to skip members of the excluded set (else
-- KEYS[3] is not read), [5..] minimum proficiency per requirement, in KEYS order
-- Returns {id, proficiency, idle_since, ...}, best first.
local limit = tonumber(ARGV[BL_ARG0 + 1])
local requester = ARGV[BL_ARG0 + 2]
local by_language = ARGV[BL_ARG0 + 3] == '1'
local with_excluded = ARGV[BL_ARG0 + 4] == '1'
local nskills = BL_NKEYS - 3
local mins = {}
for s = 1, nskills do mins[s] = tonumber(ARGV[BL_ARG0 + 4 + s]) end

-- Walk whichever is smaller: people offerable now, or people with the first skill.
local candidates
if redis.call('ZCOUNT', KEYS[4], mins[1], '+inf') <= redis.call('ZCARD', KEYS[1]) then
  candidates = redis.call('ZRANGEBYSCORE', KEYS[4], mins[1], '+inf')
else
  candidates = redis.call('ZRANGE', KEYS[1], 0, -1)
end

local ranked = {}
for _, id in ipairs(candidates) do
  local idle = id ~= requester and redis.call('ZSCORE', KEYS[1], id)
  if idle then
    local weakest = 99
    for s = 1, nskills do
      local p = tonumber(redis.call('ZSCORE', KEYS[3 + s], id) or '0')
      if p < mins[s] then weakest = nil break end
      if p < weakest then weakest = p end
    end
    if weakest and (not by_language or redis.call('SISMEMBER', KEYS[2], id) == 1) and
       (not with_excluded or redis.call('SISMEMBER', KEYS[3], id) == 0) then
      ranked[#ranked + 1] = {id, weakest, tonumber(idle)}
    end
  end
end
table.sort(ranked, function(a, b)
  if a[2] ~= b[2] then return a[2] > b[2] end
  if a[3] ~= b[3] then return a[3] < b[3] end
  return a[1] < b[1]
end)
local out = {}
for i = 1, math.min(limit, #ranked) do
  out[#out + 1] = ranked[i][1]
  out[#out + 1] = ranked[i][2]
  out[#out + 1] = ranked[i][3]
end
return out
