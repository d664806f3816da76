-- ARGV: 3 conv, 4 agent, 5 by (a lead; the console checks the role), 6 agent timeout.
-- A lead gives a waiting chat to an agent who is available now. Returns {'ok', agent} or
-- {error code, detail}.
local conv, agent, by = ARGV[3], ARGV[4], ARGV[5]
local state = state_of(conv)
if state ~= 'queued' then return {'invalid', state} end
if not available(agent, ARGV[6]) then return {'offline', agent} end
assign(conv, agent, by)
return {'ok', agent}
