/**
 * The Redis limiter's Lua scripts: one atomic step each for enqueue, release and heartbeat.
 * Plain text. Times are Redis's own clock (TIME), so instances with skewed clocks agree.
 *
 * KEYS: slots (token → lease expiry), slot-users (token → user), queue (token → arrival
 * number), queue-leases (token → lease expiry), queue-users (token → user), queue-seq.
 * ARGV: max, maxPerUser, leaseMs, channel, then the script's own arguments.
 * Every script answers {active, queued, granted tokens, lost tokens}.
 */

const PRELUDE = `
local max, max_per_user, lease, channel = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local before = string.format('(%.0f', now)

-- Holders and waiters whose instance stopped renewing them give their place back.
local function purge()
  for _, token in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', before)) do
    redis.call('ZREM', KEYS[1], token)
    redis.call('HDEL', KEYS[2], token)
  end
  for _, token in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', before)) do
    redis.call('ZREM', KEYS[3], token)
    redis.call('ZREM', KEYS[4], token)
    redis.call('HDEL', KEYS[5], token)
  end
end

-- Free slots go to waiters as the in-memory limiter hands them out: among waiters whose user
-- has room, the one whose user runs the fewest, the longest waiting first. Only the oldest
-- 1000 waiters are looked at, which bounds the script's time.
local function grant()
  local granted = {}
  local active = redis.call('ZCARD', KEYS[1])
  if active >= max then return granted end
  local queue = redis.call('ZRANGE', KEYS[3], 0, 999)
  if #queue == 0 then return granted end
  local users = redis.call('HMGET', KEYS[5], unpack(queue))
  local running = {}
  local holders = redis.call('HGETALL', KEYS[2])
  for i = 2, #holders, 2 do running[holders[i]] = (running[holders[i]] or 0) + 1 end
  local taken = {}
  while active < max do
    local pick, fewest = nil, nil
    for i = 1, #queue do
      if not taken[i] then
        local count = running[users[i] or ''] or 0
        if count < max_per_user and (pick == nil or count < fewest) then
          pick, fewest = i, count
          if count == 0 then break end
        end
      end
    end
    if pick == nil then break end
    taken[pick] = true
    local token, user = queue[pick], users[pick] or ''
    redis.call('ZREM', KEYS[3], token)
    redis.call('ZREM', KEYS[4], token)
    redis.call('HDEL', KEYS[5], token)
    redis.call('ZADD', KEYS[1], now + lease, token)
    redis.call('HSET', KEYS[2], token, user)
    running[user] = (running[user] or 0) + 1
    active = active + 1
    granted[#granted + 1] = token
  end
  -- Waiters on other instances learn of their slot at once; a lost message is caught by the
  -- heartbeat, which finds the token among the slots.
  if #granted > 0 then redis.call('PUBLISH', channel, table.concat(granted, ' ')) end
  return granted
end

local function answer(granted, lost)
  return {redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[3]), granted, lost or {}}
end

local function enqueue(token, user)
  redis.call('ZADD', KEYS[3], redis.call('INCR', KEYS[6]), token)
  redis.call('ZADD', KEYS[4], now + lease, token)
  redis.call('HSET', KEYS[5], token, user)
end
`

/** ARGV[5]: token, ARGV[6]: user. Queues the token, then hands out free slots. */
export const ENQUEUE_LUA = `${PRELUDE}
purge()
enqueue(ARGV[5], ARGV[6])
return answer(grant())
`

/** ARGV[5]: token. Gives back a slot, or a place in the queue (a withdrawn waiter). */
export const RELEASE_LUA = `${PRELUDE}
local token = ARGV[5]
redis.call('ZREM', KEYS[1], token)
redis.call('HDEL', KEYS[2], token)
redis.call('ZREM', KEYS[3], token)
redis.call('ZREM', KEYS[4], token)
redis.call('HDEL', KEYS[5], token)
purge()
return answer(grant())
`

/**
 * ARGV[5]: n; ARGV[6 .. 5+n]: holder tokens; then token, user pairs of waiters. The heartbeat:
 * renews every lease of this instance, re-queues a waiter whose lease lapsed (at the back),
 * answers waiters already granted (a missed message) and holders whose slot is gone.
 */
export const SYNC_LUA = `${PRELUDE}
local holders = tonumber(ARGV[5])
local lost, granted = {}, {}
for i = 6, 5 + holders do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], 'XX', now + lease, ARGV[i])
  else
    lost[#lost + 1] = ARGV[i]
  end
end
for i = 6 + holders, #ARGV, 2 do
  local token, user = ARGV[i], ARGV[i + 1]
  if redis.call('ZSCORE', KEYS[1], token) then
    redis.call('ZADD', KEYS[1], 'XX', now + lease, token)
    granted[#granted + 1] = token
  elseif redis.call('ZSCORE', KEYS[3], token) then
    redis.call('ZADD', KEYS[4], 'XX', now + lease, token)
  else
    enqueue(token, user)
  end
end
purge()
for _, token in ipairs(grant()) do granted[#granted + 1] = token end
return answer(granted, lost)
`
