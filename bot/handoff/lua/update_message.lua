-- ARGV: 3 conv, 4 text. Only while a person is involved; never creates a conversation.
local conv = ARGV[3]
local state = state_of(conv)
if state ~= 'queued' and state ~= 'assigned' then return 0 end
redis.call('HSET', conv_key(conv), 'last_message', ARGV[4], 'last_message_at', NOW)
-- Not kept in the history: it is not a transition, only a nudge for the queue view.
redis.call('PUBLISH', EVENTS, cjson.encode({type = 'updated', conv = conv,
           state = state, agent = get(conv, 'agent'), at = tonumber(NOW)}))
return 1
