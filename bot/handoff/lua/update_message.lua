-- ARGV: 3 conv, 4 has_text (1/0), 5 text. Only while a person is involved; never creates a conversation.
local conv = ARGV[3]
local state = state_of(conv)
if state ~= 'queued' and state ~= 'assigned' then return 0 end
local key = conv_key(conv)
redis.call('HINCRBY', key, 'customer_messages', 1)
redis.call('HSET', key, 'last_message_at', NOW)
if ARGV[4] == '1' then redis.call('HSET', key, 'last_message', ARGV[5]) end
-- Not kept in the history: it is not a transition, only a nudge for the queue view.
redis.call('PUBLISH', EVENTS, cjson.encode({type = 'updated', conv = conv,
           state = state, agent = get(conv, 'agent'), at = tonumber(NOW)}))
return 1
