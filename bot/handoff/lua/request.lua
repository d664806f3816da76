-- ARGV: 3 conv, 4 reason, 5 language, 6 name, 7 last_message, 8 priority
-- Returns {state, position, created(0/1)}.
local conv = ARGV[3]
local state = state_of(conv)
if state == 'queued' then
  return {'queued', redis.call('ZRANK', QUEUE, conv) + 1, 0}
end
if state == 'assigned' then
  return {'assigned', 0, 0}
end
local priority = tonumber(ARGV[8])
local seq = redis.call('INCR', SEQ)
-- Higher priority first, then first come first served; exact while seq < 1e10.
local score = string.format('%.0f', -priority * 1e10 + seq)
local key = conv_key(conv)
redis.call('DEL', key)
redis.call('HSET', key, 'state', 'queued', 'reason', ARGV[4], 'language', ARGV[5],
           'name', ARGV[6], 'last_message', ARGV[7], 'priority', ARGV[8], 'seq', seq,
           'score', score, 'queued_at', NOW, 'enqueued_at', NOW, 'updated_at', NOW,
           'transfers', 0, 'customer_messages', ARGV[7] ~= '' and 1 or 0)
redis.call('ZADD', QUEUE, score, conv)
local place = redis.call('ZRANK', QUEUE, conv) + 1
redis.call('HSET', key, 'enqueue_place', place)
record(conv, {type = 'queued', from = state, to = 'queued', reason = ARGV[4],
              priority = priority, position = place})
return {'queued', place, 1}
