-- Reads a user's events after a cursor, with the newest cursor ever written, atomically so that
-- the caller can tell "caught up" from "trimmed away".
-- KEYS[1] event stream, KEYS[2] newest-cursor key
-- own ARGV: after cursor (`0-0` for the start), max count
local after = ARGV[BL_ARG0 + 1]
local count = ARGV[BL_ARG0 + 2]
local last = redis.call('GET', KEYS[2]) or '0-0'
local from = '-'
if after ~= '0-0' then from = '(' .. after end
local entries = redis.call('XRANGE', KEYS[1], from, '+', 'COUNT', count)
return {last, entries}
