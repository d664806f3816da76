-- KEYS[7]: a sorted set of conversation ids. Returns {conv, {field, value, ...}, ...} in order,
-- read in one step so a page shows one consistent moment.
local out = {}
for _, conv in ipairs(redis.call('ZRANGE', KEYS[7], 0, -1)) do
  out[#out + 1] = conv
  out[#out + 1] = redis.call('HGETALL', conv_key(conv))
end
return out
