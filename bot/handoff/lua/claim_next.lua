-- ARGV: 3 agent. Takes the head of the queue, or returns false when it is empty.
local head = redis.call('ZRANGE', QUEUE, 0, 0)
if #head == 0 then return false end
assign(head[1], ARGV[3])
return head[1]
