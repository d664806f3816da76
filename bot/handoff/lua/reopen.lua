-- ARGV: 3 conv, 4 agent, 5 is_lead. A resolved chat back to an agent: bot -> assigned, without
-- the queue. Only a chat whose last handoff ended in a resolve, and (unless a lead) only by the
-- agent it was resolved from.
local conv, agent, lead = ARGV[3], ARGV[4], ARGV[5] == '1'
local state = state_of(conv)
if state ~= 'bot' then return {'invalid', state} end
if get(conv, 'resolved_at') == '' then return {'not_resolved', ''} end
local last = get(conv, 'previous_agent')
if last ~= agent and not lead then return {'not_yours', last} end
redis.call('HDEL', conv_key(conv), 'resolved_at', 'resolved_by')
redis.call('HSET', conv_key(conv), 'state', 'assigned', 'agent', agent, 'assigned_at', NOW,
           'reopened_at', NOW, 'updated_at', NOW)
redis.call('ZADD', ASSIGNED, NOW, conv)
redis.call('ZADD', chats_key(agent), NOW, conv)
at_desk(agent)  -- as a claim is
record(conv, {type = 'reopened', from = 'bot', to = 'assigned', previous_agent = last,
              agent = agent, by = agent})
return {'ok', agent}
