-- ARGV: 3 conv, 4 by agent, 5 to agent ('' = back to the queue), 6 is_lead ('1'/'0'),
-- 7 agent timeout: the receiving agent must be online and recently seen, as online_agents() says.
-- Returns {'ok', position-or-agent} or {error code, detail}.
local conv, by, to, lead = ARGV[3], ARGV[4], ARGV[5], ARGV[6] == '1'
local state = state_of(conv)
if state ~= 'assigned' then return {'invalid', state} end
local agent = get(conv, 'agent')
if agent ~= by and not lead then return {'not_yours', agent} end
if to == '' then
  return {'ok', tostring(requeue(conv, 'transfer', by))}
end
if to == agent then return {'same_agent', agent} end
if not available(to, ARGV[7]) then return {'offline', to} end
redis.call('ZREM', chats_key(agent), conv)
redis.call('ZADD', chats_key(to), NOW, conv)
redis.call('ZADD', ASSIGNED, NOW, conv)
redis.call('HSET', conv_key(conv), 'agent', to, 'previous_agent', agent, 'assigned_at', NOW,
           'updated_at', NOW)
redis.call('HINCRBY', conv_key(conv), 'transfers', 1)
record(conv, {type = 'transferred', from = 'assigned', to = 'assigned', previous_agent = agent,
              agent = to, by = by})
return {'ok', to}
