-- ARGV: 3 agent, 4 online ('1'/'0'). Publishes only real changes.
local agent, online = ARGV[3], ARGV[4] == '1'
touch_agent(agent)
if online then
  if redis.call('SADD', ONLINE, agent) == 0 then return 0 end
  redis.call('HSET', agent_key(agent), 'online', '1', 'online_since', NOW)
  redis.call('HDEL', agent_key(agent), 'offline_at')
  redis.call('PUBLISH', EVENTS, cjson.encode({type = 'agent_online', agent = agent, at = tonumber(NOW)}))
else
  if redis.call('SREM', ONLINE, agent) == 0 then return 0 end
  redis.call('HSET', agent_key(agent), 'online', '0', 'offline_at', NOW)
  redis.call('PUBLISH', EVENTS, cjson.encode({type = 'agent_offline', agent = agent, at = tonumber(NOW)}))
end
return 1
