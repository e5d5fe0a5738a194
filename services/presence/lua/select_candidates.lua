-- Ranks the people who may be offered work now and meet every requirement: best proficiency
-- (in the weakest of the required skills) first, then longest idle, then id — or, by policy,
-- longest idle only; least loaded (then longest idle); or round robin (by id, starting after
-- the last person offered, kept in a pointer key by the router).
--
-- The work is done by Redis's own set operations, not by walking people in Lua: the
-- intersection of "offerable now" (scored by idle-since), the skill indexes (scored by
-- proficiency), the language index and the ring's team or site (and its role set, when it names
-- one) is stored in a scratch key with score = idle_since - weakest proficiency * W (W = 1e13 to
-- rank by proficiency, 0 to rank by idle time only), so ascending score order is the ranking
-- (milliseconds since the epoch stay far below 1e13, and the sums are exact in a double).
-- Several role sets are not unioned into a key of their own (that costs Redis more than the
-- whole intersection): the walk checks the few people it looks at against them instead.
-- KEYS[1] pool: the offerable index (or the on-call index), KEYS[2] language index,
-- KEYS[3] excluded-people set, KEYS[4], KEYS[5] scratch keys (deleted before returning),
-- KEYS[6] scope set (team or site), KEYS[7] round-robin pointer, KEYS[8 .. 7+R] role sets, then
-- one skill index per requirement
-- own ARGV: [1] limit, [2] person never to return (the requester), [3] '1' to filter by language,
-- [4] '1' to skip the excluded set, [5] '1' to filter by the scope set, [6] R, the number of role
-- sets (their union filters), [7] only this person ('' for anyone), [8] order: 'p' proficiency,
-- 'P' proficiency for one skill among the offerable (read from the free indexes when they are
-- complete), 'i' longest idle, 'l' least loaded, 'r' round robin, [9..] minimum proficiency per
-- requirement, in KEYS order
-- (KEYS that a flag or the order switches off are not read.)
-- Returns {id, proficiency, idle_since, load, ...}, best first.
local limit = tonumber(ARGV[BL_ARG0 + 1])
local requester = ARGV[BL_ARG0 + 2]
local by_language = ARGV[BL_ARG0 + 3] == '1'
local with_excluded = ARGV[BL_ARG0 + 4] == '1'
local with_scope = ARGV[BL_ARG0 + 5] == '1'
local nroles = tonumber(ARGV[BL_ARG0 + 6])
local only = ARGV[BL_ARG0 + 7]
local order = ARGV[BL_ARG0 + 8]
local scratch, scratch2 = KEYS[4], KEYS[5]
local first_skill = 8 + nroles
local nskills = BL_NKEYS - first_skill + 1
local mins, lowest = {}, 5
for s = 1, nskills do
  mins[s] = tonumber(ARGV[BL_ARG0 + 8 + s])
  if mins[s] < lowest then lowest = mins[s] end
end

local function qualifies(id)
  if id == requester then return false end
  if with_excluded and redis.call('SISMEMBER', KEYS[3], id) == 1 then return false end
  for s = 1, nskills do
    if tonumber(redis.call('ZSCORE', KEYS[first_skill + s - 1], id) or '0') < mins[s] then
      return false
    end
  end
  return true
end

-- One person (the mentor ring): check them directly.
if only ~= '' then
  local idle = redis.call('ZSCORE', KEYS[1], only)
  if not idle or not qualifies(only) then return {} end
  if by_language and redis.call('SISMEMBER', KEYS[2], only) == 0 then return {} end
  if with_scope and redis.call('SISMEMBER', KEYS[6], only) == 0 then return {} end
  local weakest = 5
  for s = 1, nskills do
    weakest = math.min(weakest, tonumber(redis.call('ZSCORE', KEYS[first_skill + s - 1], only)))
  end
  return {only, weakest, tonumber(idle), tonumber(redis.call('ZSCORE', BL_LOAD_INDEX, only) or '0')}
end

local function load_of(id) return tonumber(redis.call('ZSCORE', BL_LOAD_INDEX, id) or '0') end
local function in_roles(id)
  if nroles == 0 then return true end
  for r = 1, nroles do
    if redis.call('SISMEMBER', KEYS[7 + r], id) == 1 then return true end
  end
  return false
end

-- One skill, by proficiency, among the offerable: the free indexes hold them by skill and level,
-- longest idle first (equal times by id, as Redis orders equal scores) — the ranking itself. Walk
-- them from the best level down and check the few people looked at; no intersection, so the cost
-- does not grow with the number of people available.
if order == 'P' then
  if redis.call('EXISTS', bl_index_beside(KEYS[1], 'free_ready')) == 1 then
    local skill = string.sub(KEYS[first_skill], #bl_index_beside(KEYS[1], 'skill:') + 1)
    local out, chunk = {}, limit + 16
    for level = 5, math.max(mins[1], 1), -1 do
      local key, offset = bl_index_beside(KEYS[1], 'free:' .. skill .. ':' .. level), 0
      while #out < 4 * limit do
        local page = redis.call('ZRANGE', key, offset, offset + chunk - 1, 'WITHSCORES')
        for i = 1, #page, 2 do
          local id = page[i]
          if id ~= requester and
             (not with_excluded or redis.call('SISMEMBER', KEYS[3], id) == 0) and
             (not by_language or redis.call('SISMEMBER', KEYS[2], id) == 1) and
             (not with_scope or redis.call('SISMEMBER', KEYS[6], id) == 1) and in_roles(id) then
            out[#out + 1] = id
            out[#out + 1] = level
            out[#out + 1] = tonumber(page[i + 1])
            out[#out + 1] = load_of(id)
            if #out == 4 * limit then break end
          end
        end
        if #page < 2 * chunk then break end
        offset = offset + chunk
      end
      if #out == 4 * limit then break end
    end
    return out
  end
  order = 'p'  -- not complete yet: rank by intersecting the indexes
end
local W = order == 'p' and 1e13 or 0

-- The weakest proficiency of everyone with all the skills (one skill: that skill's index).
local skills_key = KEYS[first_skill]
if nskills > 1 then
  local args = {'ZINTERSTORE', scratch2, nskills}
  for s = 1, nskills do args[#args + 1] = KEYS[first_skill + s - 1] end
  args[#args + 1] = 'AGGREGATE'
  args[#args + 1] = 'MIN'
  redis.call(unpack(args))
  skills_key = scratch2
end
local inputs, weights = {KEYS[1], skills_key}, {1, -1e13}
if by_language then inputs[#inputs + 1] = KEYS[2]; weights[#weights + 1] = 0 end
if with_scope then inputs[#inputs + 1] = KEYS[6]; weights[#weights + 1] = 0 end
if nroles == 1 then inputs[#inputs + 1] = KEYS[8]; weights[#weights + 1] = 0 end
local function has_role(id) return nroles < 2 or in_roles(id) end
local args = {'ZINTERSTORE', scratch, #inputs}
for _, k in ipairs(inputs) do args[#args + 1] = k end
args[#args + 1] = 'WEIGHTS'
for _, w in ipairs(weights) do args[#args + 1] = w end
redis.call(unpack(args))

-- Walk the ranking from the top; below the lowest minimum nobody can qualify. The stored score
-- ranks by proficiency; for idle-time order, re-rank the qualifying people by idle time.
local out, offset, chunk = {}, 0, limit + 16
local found = {}
while true do
  local page = redis.call('ZRANGEBYSCORE', scratch, '-inf',
                          '(' .. string.format('%.0f', (1 - lowest) * 1e13), 'WITHSCORES',
                          'LIMIT', offset, chunk)
  if #page == 0 then break end
  for i = 1, #page, 2 do
    local id, score = page[i], tonumber(page[i + 1])
    local weakest = math.ceil(-score / 1e13)
    local idle = score + weakest * 1e13
    local ok = id ~= requester and
               (not with_excluded or redis.call('SISMEMBER', KEYS[3], id) == 0)
    for s = 1, nskills do
      if not ok then break end
      if nskills > 1 or mins[s] > lowest then
        ok = tonumber(redis.call('ZSCORE', KEYS[first_skill + s - 1], id) or '0') >= mins[s]
      end
    end
    if ok and has_role(id) then found[#found + 1] = {id, weakest, idle} end
    if W > 0 and #found >= limit then break end
  end
  if W > 0 and #found >= limit then break end
  offset = offset + chunk
end
if order == 'l' then
  for _, c in ipairs(found) do c[4] = load_of(c[1]) end
end
if order == 'i' or order == 'l' then
  table.sort(found, function(a, b)
    if order == 'l' and a[4] ~= b[4] then return a[4] < b[4] end
    if a[3] ~= b[3] then return a[3] < b[3] end
    return a[1] < b[1]
  end)
elseif order == 'r' then
  -- By id, the first after the last person offered; then around from the start.
  local last = redis.call('GET', KEYS[7]) or ''
  table.sort(found, function(a, b)
    local a_after, b_after = a[1] > last, b[1] > last
    if a_after ~= b_after then return a_after end
    return a[1] < b[1]
  end)
end
for i = 1, math.min(limit, #found) do
  local c = found[i]
  out[#out + 1] = c[1]
  out[#out + 1] = c[2]
  out[#out + 1] = c[3]
  out[#out + 1] = c[4] or load_of(c[1])
end
redis.call('DEL', scratch, scratch2)
return out
