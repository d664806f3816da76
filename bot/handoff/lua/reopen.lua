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
hold(conv, agent, 'reopened_at', NOW)
record(conv, {type = 'reopened', from = 'bot', to = 'assigned', previous_agent = last,
              agent = agent, by = agent})
return {'ok', agent}
