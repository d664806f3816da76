-- ARGV: 4 conv, 5 agent. Only a queued chat can be claimed; the first caller wins.
local conv = ARGV[4]
if state_of(conv) ~= 'queued' then return 0 end
assign(conv, ARGV[5])
return 1
