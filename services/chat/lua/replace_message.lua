-- Replaces a stored message (an edit or a deletion by its author) if it is still the version the
-- service read, and tells the participants.
-- KEYS[1] thread messages
-- own ARGV: [1] sequence number, [2] the stored message as read, [3] the new message
-- Returns {'OK'} or {'CONFLICT'}.
if redis.call('HGET', KEYS[1], ARGV[BL_ARG0 + 1]) ~= ARGV[BL_ARG0 + 2] then return {'CONFLICT'} end
redis.call('HSET', KEYS[1], ARGV[BL_ARG0 + 1], ARGV[BL_ARG0 + 3])
bl_append_events()
return {'OK'}
