/**
 * The Redis registry's Lua scripts: every change of a record is one atomic script. Plain text.
 * Fields are JSON-encoded hash values, so `state` of a running record reads '"RUNNING"'.
 */

const PRELUDE = `
local RUNNING = '"RUNNING"'
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- Recency for eviction: a counter, not a clock, so instances with skewed clocks agree.
local function touch(index, seq, id)
  redis.call('ZADD', index, redis.call('INCR', seq), id)
end
-- The Idempotency-Key index entry of a record (prefix .. 'idem:' .. sha1(owner \\n key)), or nil.
local function idem_key(prefix, record_key)
  local raw = redis.call('HGET', record_key, 'idempotency')
  if not raw then return nil end
  local owner = cjson.decode(redis.call('HGET', record_key, 'owner'))
  return prefix .. 'idem:' .. redis.sha1hex(owner .. '\\n' .. cjson.decode(raw).key)
end
-- A record key is prefix .. 'q:' .. id.
local function prefix_of(record_key, id)
  return string.sub(record_key, 1, #record_key - #id - 2)
end
-- Removes a record's index entry, if it still points at this record.
local function drop_idem(prefix, record_key, id)
  local key = idem_key(prefix, record_key)
  if key and redis.call('GET', key) == id then redis.call('DEL', key) end
end
-- Every change of a record (update, delete, eviction) is announced on prefix .. 'changes' with its
-- id, from inside the script: no change is made without its message.
local function announce(prefix, id)
  redis.call('PUBLISH', prefix .. 'changes', id)
end
-- One more change of a record: its version counts them (waiters and event ids compare it).
local function bump(record_key)
  redis.call('HINCRBY', record_key, 'version', 1)
end
-- The query list: a sorted set of everyone's queries and one per owner, all scores 0, members
-- createdAt in 15 digits .. ':' .. id, so lexical order is list order (registry/list-page.ts).
local function list_member(record_key, id)
  local created = redis.call('HGET', record_key, 'createdAt')
  if not created then return nil end
  return string.rep('0', 15 - #created) .. created .. ':' .. id
end
local function owner_list(prefix, record_key)
  local owner = redis.call('HGET', record_key, 'owner')
  if not owner then return nil end
  return prefix .. 'owner:' .. redis.sha1hex(cjson.decode(owner))
end
local function add_listed(prefix, record_key, id)
  local member = list_member(record_key, id)
  local own = owner_list(prefix, record_key)
  if not member or not own then return end
  redis.call('ZADD', prefix .. 'listed', 0, member)
  redis.call('ZADD', own, 0, member)
end
local function drop_listed(prefix, record_key, id)
  local member = list_member(record_key, id)
  local own = owner_list(prefix, record_key)
  if not member or not own then return end
  redis.call('ZREM', prefix .. 'listed', member)
  redis.call('ZREM', own, member)
end
-- Result reuse: prefix .. 'reuse:' .. the record's reuse key → the id of the SUCCESSFUL record
-- that finished last with it; it expires with that record.
local function reuse_key(prefix, record_key)
  local raw = redis.call('HGET', record_key, 'reuseKey')
  if not raw then return nil end
  return prefix .. 'reuse:' .. cjson.decode(raw)
end
local function point_reuse(prefix, record_key, id, ttl)
  if redis.call('HGET', record_key, 'state') ~= '"SUCCESSFUL"' then return end
  local key = reuse_key(prefix, record_key)
  if key then redis.call('SET', key, id, 'PX', ttl) end
end
local function drop_reuse(prefix, record_key, id)
  local key = reuse_key(prefix, record_key)
  if key and redis.call('GET', key) == id then redis.call('DEL', key) end
end
-- Everything that points at a record, before it goes.
local function drop_pointers(prefix, record_key, id)
  drop_idem(prefix, record_key, id)
  drop_reuse(prefix, record_key, id)
  drop_listed(prefix, record_key, id)
end
-- A finished record and its index entry expire together.
local function expire_with_idem(prefix, record_key, ttl)
  redis.call('PEXPIRE', record_key, ttl)
  local key = idem_key(prefix, record_key)
  if key then redis.call('PEXPIRE', key, ttl) end
end
`

/**
 * KEYS: record, index, seq, running. ARGV: id, maxRecords, leaseMs, ttlMs, prefix, state,
 * field, value, … Makes room first by evicting the least recently used finished records (never
 * a running one); answers {'ok', evicted ids} or {'full'}.
 */
export const CREATE_LUA = `${PRELUDE}
local id, max, lease, ttl, prefix = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
local evicted = {}
if redis.call('EXISTS', KEYS[1]) == 0 then
  local need = redis.call('ZCARD', KEYS[2]) - max + 1
  local offset = 0
  while need > 0 do
    local batch = redis.call('ZRANGE', KEYS[2], offset, offset + 99)
    if #batch == 0 then break end
    for _, other in ipairs(batch) do
      if need > 0 and not redis.call('ZSCORE', KEYS[4], other) then
        drop_pointers(prefix, prefix .. 'q:' .. other, other)
        redis.call('DEL', prefix .. 'q:' .. other)
        redis.call('ZREM', KEYS[2], other)
        announce(prefix, other)
        evicted[#evicted + 1] = other
        need = need - 1
      else
        offset = offset + 1
      end
    end
  end
  if need > 0 then return {'full', evicted} end
end
drop_pointers(prefix, KEYS[1], id)
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 7))
local idem = idem_key(prefix, KEYS[1])
if idem then redis.call('SET', idem, id) end
add_listed(prefix, KEYS[1], id)
if ARGV[6] == 'RUNNING' then
  redis.call('ZADD', KEYS[4], now_ms() + lease, id)
else
  redis.call('ZREM', KEYS[4], id)
  expire_with_idem(prefix, KEYS[1], ttl)
  point_reuse(prefix, KEYS[1], id, ttl)
end
touch(KEYS[2], KEYS[3], id)
announce(prefix, id)
return {'ok', evicted}
`

/** KEYS: record, index, seq. ARGV: id. The record's fields (empty when unknown). */
export const GET_LUA = `${PRELUDE}
local fields = redis.call('HGETALL', KEYS[1])
if #fields > 0 then touch(KEYS[2], KEYS[3], ARGV[1]) end
return fields
`

/**
 * KEYS: record, index, seq, running. ARGV: id, ttlMs, field, value, … Only a RUNNING record
 * changes: a finished one is final (a query is never both FAILED and SUCCESSFUL). Answers the
 * record's fields, or nil when it is gone or finished. Finishing drops the lease and starts the TTL.
 */
export const UPDATE_LUA = `${PRELUDE}
if redis.call('HGET', KEYS[1], 'state') ~= RUNNING then return false end
if #ARGV >= 4 then redis.call('HSET', KEYS[1], unpack(ARGV, 3)) end
bump(KEYS[1])
local prefix = prefix_of(KEYS[1], ARGV[1])
if redis.call('HGET', KEYS[1], 'state') ~= RUNNING then
  redis.call('ZREM', KEYS[4], ARGV[1])
  expire_with_idem(prefix, KEYS[1], ARGV[2])
  point_reuse(prefix, KEYS[1], ARGV[1], ARGV[2])
end
touch(KEYS[2], KEYS[3], ARGV[1])
announce(prefix, ARGV[1])
return redis.call('HGETALL', KEYS[1])
`

/**
 * KEYS: record. ARGV: id, shadow (JSON). Sets the shadow verdict whatever the state (the shadow
 * runs after the query ended) and changes nothing else; the record keeps its TTL. Answers the
 * record's fields, or nil when it is gone.
 */
export const UPDATE_SHADOW_LUA = `${PRELUDE}
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[1], 'shadow', ARGV[2])
bump(KEYS[1])
announce(prefix_of(KEYS[1], ARGV[1]), ARGV[1])
return redis.call('HGETALL', KEYS[1])
`

/** KEYS: record, index, running. ARGV: id. 1 when the record was there. */
export const DELETE_LUA = `${PRELUDE}
local prefix = prefix_of(KEYS[1], ARGV[1])
drop_pointers(prefix, KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
local removed = redis.call('DEL', KEYS[1])
if removed == 1 then announce(prefix, ARGV[1]) end
return removed
`

/**
 * KEYS: running. ARGV: leaseMs, prefix, id, … Extends the leases of running queries; answers
 * {id, state or ''} for each id that holds none (finished, deleted, or failed by a sweeper).
 */
export const RENEW_LUA = `${PRELUDE}
local expiry = now_ms() + tonumber(ARGV[1])
local lost = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  if redis.call('ZSCORE', KEYS[1], id) then
    redis.call('ZADD', KEYS[1], 'XX', expiry, id)
  else
    lost[#lost + 1] = id
    lost[#lost + 1] = redis.call('HGET', ARGV[2] .. 'q:' .. id, 'state') or ''
  end
end
return lost
`

/**
 * KEYS: running. ARGV: prefix, ttlMs, field, value, … Applies the fields (a FAILED patch) to
 * every RUNNING record whose lease expired, at most 100 a call; answers their fields.
 */
export const FAIL_EXPIRED_LUA = `${PRELUDE}
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('(%.0f', now_ms()), 'LIMIT', 0, 100)
local failed = {}
for _, id in ipairs(expired) do
  local key = ARGV[1] .. 'q:' .. id
  redis.call('ZREM', KEYS[1], id)
  if redis.call('HGET', key, 'state') == RUNNING then
    redis.call('HSET', key, unpack(ARGV, 3))
    bump(key)
    expire_with_idem(ARGV[1], key, ARGV[2])
    announce(ARGV[1], id)
    failed[#failed + 1] = redis.call('HGETALL', key)
  end
end
return failed
`
