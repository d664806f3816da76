-- ARGV: 3 conv, 4 by agent, 5 is_lead. assigned -> resolved -> bot, in one step.
local conv, by, lead = ARGV[3], ARGV[4], ARGV[5] == '1'
local state = state_of(conv)
if state ~= 'assigned' then return {'invalid', state} end
local agent = get(conv, 'agent')
if agent ~= by and not lead then return {'not_yours', agent} end
redis.call('ZREM', chats_key(agent), conv)
redis.call('ZREM', ASSIGNED, conv)
redis.call('HSET', conv_key(conv), 'state', 'bot', 'agent', '', 'previous_agent', agent,
           'resolved_at', NOW, 'resolved_by', by, 'updated_at', NOW)
record(conv, {type = 'resolved', from = 'assigned', to = 'resolved', agent = agent, by = by})
record(conv, {type = 'returned', from = 'resolved', to = 'bot', agent = agent, by = by})
return {'ok', agent}
