/**
 * Pending webhook deliveries in Redis, shared by every instance: a sorted set of ids by due time
 * and a hash of their JSON. Taking due ones is one Lua script that moves them past a claim time,
 * so each attempt is made by one instance; one that dies mid-attempt lets them come due again.
 * Node only (ioredis).
 */
import type { Redis } from 'ioredis'
import type { PendingDeliveries, PendingDelivery } from '../webhooks/types.ts'
import { createLuaScript } from './redis-client.ts'

/** KEYS: due set, bodies. ARGV: id, due time, JSON, bound. 1 kept (or already), 0 full. */
const ADD_LUA = `
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
`

/** KEYS: due set, bodies. ARGV: now, limit, claim-until. The JSON of each delivery taken. */
const CLAIM_LUA = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local taken = {}
for _, id in ipairs(ids) do
  local body = redis.call('HGET', KEYS[2], id)
  if body then
    redis.call('ZADD', KEYS[1], ARGV[3], id)
    taken[#taken + 1] = body
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return taken
`

/** KEYS: due set, bodies. ARGV: id, due time, JSON. Only while it is still pending. */
const RESCHEDULE_LUA = `
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
`

const addScript = createLuaScript(ADD_LUA)
const claimScript = createLuaScript(CLAIM_LUA)
const rescheduleScript = createLuaScript(RESCHEDULE_LUA)

export function createRedisDeliveries(options: {
  redis: Redis
  prefix: string
  maxPending: number
}): PendingDeliveries {
  const { redis } = options
  const keys = [`${options.prefix}webhooks:due`, `${options.prefix}webhooks:body`]
  return {
    async add(delivery) {
      const kept = await addScript.run(redis, keys, [
        delivery.id,
        delivery.dueAt,
        JSON.stringify(delivery),
        options.maxPending,
      ])
      return kept === 1
    },
    async claimDue(now, limit, leaseUntil) {
      const taken = (await claimScript.run(redis, keys, [now, limit, leaseUntil])) as string[]
      return taken.map((json) => JSON.parse(json) as PendingDelivery)
    },
    async reschedule(delivery) {
      await rescheduleScript.run(redis, keys, [
        delivery.id,
        delivery.dueAt,
        JSON.stringify(delivery),
      ])
    },
    async remove(id) {
      await redis.multi().zrem(keys[0]!, id).hdel(keys[1]!, id).exec()
    },
    async nextDueAt() {
      const first = await redis.zrange(keys[0]!, '0', '0', 'WITHSCORES')
      return first.length >= 2 ? Number(first[1]) : null
    },
  }
}
