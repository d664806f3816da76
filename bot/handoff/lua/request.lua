-- ARGV: 4 conv, 5 reason, 6 language, 7 name, 8 last_message, 9 priority
-- Returns {state, position, created(0/1)}.
local conv = ARGV[4]
local state = state_of(conv)
if state == 'queued' then
  return {'queued', redis.call('ZRANK', QUEUE, conv) + 1, 0}
end
if state == 'assigned' then
  return {'assigned', 0, 0}
end
local priority = tonumber(ARGV[9])
local seq = redis.call('INCR', P .. 'seq')
-- Higher priority first, then first come first served; exact while seq < 1e10.
local score = string.format('%.0f', -priority * 1e10 + seq)
local key = conv_key(conv)
redis.call('DEL', key)
redis.call('HSET', key, 'state', 'queued', 'reason', ARGV[5], 'language', ARGV[6],
           'name', ARGV[7], 'last_message', ARGV[8], 'priority', ARGV[9], 'seq', seq,
           'score', score, 'queued_at', NOW, 'enqueued_at', NOW, 'updated_at', NOW,
           'transfers', 0)
redis.call('ZADD', QUEUE, score, conv)
local place = redis.call('ZRANK', QUEUE, conv) + 1
redis.call('HSET', key, 'enqueue_place', place)
record(conv, {type = 'queued', from = state, to = 'queued', reason = ARGV[5],
              priority = priority, position = place})
return {'queued', place, 1}
