-- Lists queued escalations, in queue order, whose requirements a helper meets (skills at the
-- minimum proficiency and the language), so that a helper who becomes free takes the head of
-- the queue at once. Requirements are `language|requester|skill:min;skill:min`; the helper's
-- qualifications come from the person hash (`skills` = `;skill:level;...`, `langs` = `;tag;...`).
-- KEYS[1] queue, KEYS[2] queue requirements, KEYS[3] helper's person hash
-- own ARGV: [1] helper id, [2] max count, [3] how many queue entries to look at
local helper = ARGV[BL_ARG0 + 1]
local limit = tonumber(ARGV[BL_ARG0 + 2])
local quals = redis.call('HMGET', KEYS[3], 'skills', 'langs')
if not quals[1] then return {} end
local levels = {}
for name, level in string.gmatch(quals[1], ';([^;:]+):(%d)') do levels[name] = tonumber(level) end
local langs = quals[2] or ''
local out = {}
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[BL_ARG0 + 3]) - 1)
for _, id in ipairs(ids) do
  local req = redis.call('HGET', KEYS[2], id)
  if req then
    local lang, requester, skills = string.match(req, '^([^|]*)|([^|]*)|(.*)$')
    local ok = requester ~= helper and
               (lang == '' or string.find(langs, ';' .. lang .. ';', 1, true) ~= nil)
    if ok then
      for name, min in string.gmatch(skills, '([^;:]+):(%d)') do
        if (levels[name] or 0) < tonumber(min) then ok = false break end
      end
    end
    if ok then
      out[#out + 1] = id
      if #out >= limit then break end
    end
  end
end
return out
