/**
 * Redis connections and Lua scripts for the cluster pieces (registry, limiter, leases). Node only
 * (ioredis). A connection that cannot be made at start-up is one clear line, password hidden.
 */
import { createHash } from 'node:crypto'
import { Redis } from 'ioredis'
import { ConfigError } from '../errors.ts'
import { toRedactedUrl } from '../redact-url.ts'

/** How long start-up waits for Redis before giving up. */
const CONNECT_TIMEOUT_MS = 10_000

export interface RedisErrorLog {
  warn(fields: Record<string, unknown>, message: string): void
}

/**
 * Opens a connection and waits until Redis answers. Commands wait in ioredis's offline queue
 * while it reconnects later, but fail after a few retries rather than hang a request forever.
 */
export async function connectRedis(url: string, name: string, log: RedisErrorLog): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectionName: name,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 3,
  })
  // Without a listener ioredis prints every reconnect failure to stderr itself.
  let lastLogged = 0
  redis.on('error', (error: Error) => {
    if (Date.now() - lastLogged < 10_000) return
    lastLogged = Date.now()
    log.warn({ err: { message: error.message }, connection: name }, 'redis connection error')
  })
  try {
    await redis.connect()
    await redis.ping()
  } catch (error) {
    redis.disconnect()
    const reason = error instanceof Error ? error.message : String(error)
    throw new ConfigError(
      `REDIS_URL (--redis-url) ${toRedactedUrl(url)} cannot be reached: ${reason}`,
    )
  }
  return redis
}

/** Closes a connection politely, or drops it when Redis does not answer. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return
  await Promise.race([
    redis.quit().catch(() => {}),
    new Promise((resolve) => setTimeout(resolve, 1000).unref()),
  ])
  redis.disconnect()
}

export interface LuaScript {
  run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown>
}

/** A script sent once by its SHA-1 (EVALSHA), and in full again after Redis forgot it. */
export function createLuaScript(lua: string): LuaScript {
  const sha = createHash('sha1').update(lua).digest('hex')
  return {
    async run(redis, keys, args) {
      try {
        return await redis.evalsha(sha, keys.length, ...keys, ...args)
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
        return await redis.eval(lua, keys.length, ...keys, ...args)
      }
    },
  }
}
