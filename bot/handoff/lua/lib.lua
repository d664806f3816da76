-- Shared prelude, prepended to every handoff script by bot/handoff/__init__.py after the key
-- layout's locals (QUEUE, SEQ, ASSIGNED, ONLINE, SEEN, WAITS, EVENTS, conv_key, chats_key,
-- agent_key, history_key, declared), which bot/handoff/keys.py generates: every key is one of
-- KEYS, none is spelled or built here. ARGV[1] now (epoch seconds from the Python clock, so tests
-- can fix time), ARGV[2] history length cap; script arguments start at ARGV[3].
-- Which agent's keys a call touches may only be known after reading the conversation: the
-- caller declares the agent it read, and a script reads every key it needs before its first
-- write, so a key the caller did not declare (it changed in between) stops the script before it
-- changed anything.
local NOW = ARGV[1]
local HISTORY_MAX = tonumber(ARGV[2])
local WAITS_MAX = 20

local function get(conv, field)
  local v = redis.call('HGET', conv_key(conv), field)
  if v == false then return '' end
  return v
end

local function state_of(conv)
  local s = get(conv, 'state')
  if s == '' then return 'bot' end
  return s
end

-- Every transition goes both to the conversation's history and to every open console.
local function record(conv, event)
  event.conv = conv
  event.at = tonumber(NOW)
  local msg = cjson.encode(event)
  local hkey = history_key(conv)
  redis.call('RPUSH', hkey, msg)
  redis.call('LTRIM', hkey, -HISTORY_MAX, -1)
  redis.call('PUBLISH', EVENTS, msg)
end

local function touch_agent(agent)
  redis.call('ZADD', SEEN, NOW, agent)
end

-- The agent took a chat themselves (claim, reopen): seen now, and online if they were not, or
-- the janitor would requeue the chat of an agent who had switched offline at once.
local function at_desk(agent)
  touch_agent(agent)
  if redis.call('SADD', ONLINE, agent) == 1 then
    redis.call('HSET', agent_key(agent), 'online', '1', 'online_since', NOW)
    redis.call('HDEL', agent_key(agent), 'offline_at')
    redis.call('PUBLISH', EVENTS, cjson.encode({type = 'agent_online', agent = agent, at = tonumber(NOW)}))
  end
end

-- Online by their switch and seen within `timeout` seconds: who may be given a chat, the same
-- test as Handoff.presence() in Python.
local function available(agent, timeout)
  local seen = tonumber(redis.call('ZSCORE', SEEN, agent) or '')
  return redis.call('SISMEMBER', ONLINE, agent) == 1 and seen ~= nil
         and tonumber(NOW) - seen <= tonumber(timeout)
end

-- `by` is the agent themselves (a claim) or a lead giving them the chat (an assignment).
local function assign(conv, agent, by)
  by = by or agent
  local enqueued = tonumber(get(conv, 'enqueued_at'))
  local place = tonumber(get(conv, 'enqueue_place'))
  redis.call('ZREM', QUEUE, conv)
  redis.call('HSET', conv_key(conv), 'state', 'assigned', 'agent', agent,
             'assigned_at', NOW, 'updated_at', NOW)
  redis.call('ZADD', ASSIGNED, NOW, conv)
  redis.call('ZADD', chats_key(agent), NOW, conv)
  -- Claiming is proof the agent is at the desk; a lead's assignment is not (they had to be available).
  if by == agent then
    at_desk(agent)
  end
  -- Seconds of waiting per queue place: the measured pace behind the ETA.
  if enqueued and place and place > 0 then
    local per_place = (tonumber(NOW) - enqueued) / place
    if per_place < 0 then per_place = 0 end
    redis.call('LPUSH', WAITS, string.format('%.3f', per_place))
    redis.call('LTRIM', WAITS, 0, WAITS_MAX - 1)
  end
  record(conv, {type = by == agent and 'claimed' or 'assigned', from = 'queued', to = 'assigned',
                agent = agent, by = by})
end

-- Back into the queue with the score it got when first requested: it keeps its original place.
local function requeue(conv, why, by)
  local agent = get(conv, 'agent')
  redis.call('ZREM', chats_key(agent), conv)
  redis.call('ZREM', ASSIGNED, conv)
  local score = get(conv, 'score')
  redis.call('ZADD', QUEUE, score, conv)
  local place = redis.call('ZRANK', QUEUE, conv) + 1
  redis.call('HSET', conv_key(conv), 'state', 'queued', 'agent', '', 'previous_agent', agent,
             'enqueued_at', NOW, 'enqueue_place', place, 'requeued_at', NOW, 'updated_at', NOW)
  redis.call('HDEL', conv_key(conv), 'assigned_at')
  record(conv, {type = 'requeued', from = 'assigned', to = 'queued', previous_agent = agent,
                by = by, why = why, position = place})
  return place
end
