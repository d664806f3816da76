-- ARGV: 3 conv, 4 agent. Only a queued chat can be claimed; the first caller wins.
local conv = ARGV[3]
if state_of(conv) ~= 'queued' then return 0 end
assign(conv, ARGV[4])
return 1
