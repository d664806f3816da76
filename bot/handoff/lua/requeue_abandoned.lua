-- ARGV: 3 timeout seconds. An agent is gone since they set themselves offline, or since their
-- last heartbeat while nominally online; after `timeout` their chats go back to the queue. A
-- chat assigned, or given to another agent, after the caller read who holds what is left for
-- the next round (its keys were not declared).
local timeout = tonumber(ARGV[3])
local now = tonumber(NOW)
local moved = {}
for _, conv in ipairs(redis.call('ZRANGE', ASSIGNED, 0, -1)) do
  local agent = declared('conv', conv) and get(conv, 'agent')
  if agent and declared('agent', agent) then
    local gone_since
    if redis.call('SISMEMBER', ONLINE, agent) == 0 then
      gone_since = tonumber(redis.call('HGET', agent_key(agent), 'offline_at') or '')
    end
    if not gone_since then
      gone_since = tonumber(redis.call('ZSCORE', SEEN, agent) or '') or tonumber(get(conv, 'assigned_at'))
    end
    if gone_since and now - gone_since >= timeout then
      requeue(conv, 'abandoned', '')
      moved[#moved + 1] = conv
    end
  end
end
return moved
