-- ARGV: 3 conv. The customer went back to the bot while waiting.
local conv = ARGV[3]
local state = state_of(conv)
if state == 'bot' then return {'noop', state} end
if state ~= 'queued' then return {'invalid', state} end
redis.call('ZREM', QUEUE, conv)
redis.call('HSET', conv_key(conv), 'state', 'bot', 'cancelled_at', NOW, 'updated_at', NOW)
record(conv, {type = 'cancelled', from = 'queued', to = 'bot', by = 'customer'})
return {'ok', 'bot'}
