-- Who said they are online and when each agent was last seen, read in one step (a script, not
-- MULTI: redis-py's cluster client has no transactions).
return {redis.call('SMEMBERS', ONLINE), redis.call('ZRANGE', SEEN, 0, -1, 'WITHSCORES')}
