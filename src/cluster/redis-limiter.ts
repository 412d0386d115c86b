/**
 * The Limiter on Redis: MAX_CONCURRENT_QUERIES, MAX_CONCURRENT_PER_USER and the queue hold
 * across every gateway instance. Node only (ioredis). Slots and queue places are leases an
 * instance renews while it lives, so a dead instance's places come back by themselves.
 */
import type { Redis } from 'ioredis'
import { createLuaScript, type LuaScript } from './redis-client.ts'
import type { Limiter } from '../queries/limiter.ts'
import { createSilentLogger, type Logger } from '../logger.ts'
import { ENQUEUE_LUA, RELEASE_LUA, SYNC_LUA } from './redis-limiter-lua.ts'

const enqueueScript = createLuaScript(ENQUEUE_LUA)
const releaseScript = createLuaScript(RELEASE_LUA)
const syncScript = createLuaScript(SYNC_LUA)

export interface RedisLimiterOptions {
  /** Commands and scripts. */
  redis: Redis
  /** A connection for subscriptions only (Redis keeps a subscribed connection for that). */
  subscriber: Redis
  /** Put before every key and channel, e.g. `kag:`. */
  prefix: string
  max: number
  maxPerKey: number
  /** How long a slot or queue place of a silent instance stays taken. */
  leaseMs: number
  /** How often leases are renewed and missed wake-ups looked for (default: lease / 3, ≤ 1 s). */
  heartbeatMs?: number
  /** Unique per instance: every token it queues starts with it. */
  instanceId: string
  logger?: Logger
}

export interface RedisLimiter extends Limiter {
  /** Queries waiting for a slot across the cluster, read from Redis now. */
  countQueued(): Promise<number>
  /** One heartbeat now: renew, purge what expired, hand out free slots. */
  sync(): Promise<void>
  /** Stops the heartbeat; waiters still queued here are rejected. */
  close(): Promise<void>
}

interface Waiter {
  key: string
  grant(): void
  fail(error: unknown): void
}

type Reply = [number, number, string[], string[]]

export function createRedisLimiter(options: RedisLimiterOptions): RedisLimiter {
  const { redis, subscriber, prefix } = options
  const logger = options.logger ?? createSilentLogger()
  const keys = [
    `${prefix}slots`,
    `${prefix}slot-users`,
    `${prefix}queue`,
    `${prefix}queue-leases`,
    `${prefix}queue-users`,
    `${prefix}queue-seq`,
  ]
  const channel = `${prefix}slot-granted`
  const common = [options.max, options.maxPerKey, options.leaseMs, channel]
  const waiting = new Map<string, Waiter>()
  const holding = new Set<string>()
  let sequence = 0
  // The cluster's figures as of the last script that ran here (heartbeat at the latest).
  let active = 0
  let queued = 0

  function grantHere(token: string) {
    const waiter = waiting.get(token)
    if (!waiter) return
    waiting.delete(token)
    holding.add(token)
    waiter.grant()
  }

  async function step(script: LuaScript, args: (string | number)[]): Promise<Reply> {
    const reply = (await script.run(redis, keys, [...common, ...args])) as Reply
    active = Number(reply[0])
    queued = Number(reply[1])
    for (const token of reply[2]) grantHere(token)
    for (const token of reply[3]) {
      if (holding.has(token)) logger.warn({ token }, 'a slot lease lapsed while its query ran')
    }
    return reply
  }

  const onMessage = (from: string, message: string) => {
    if (from !== channel) return
    for (const token of message.split(' ')) grantHere(token)
  }
  subscriber.on('message', onMessage)
  const subscribed = subscriber.subscribe(channel)

  let syncing: Promise<void> | null = null
  function sync(): Promise<void> {
    syncing ??= (async () => {
      const holders = [...holding]
      const waiters = [...waiting].flatMap(([token, waiter]) => [token, waiter.key])
      await step(syncScript, [holders.length, ...holders, ...waiters])
    })().finally(() => (syncing = null))
    return syncing
  }
  const heartbeatMs = options.heartbeatMs ?? Math.min(1000, Math.floor(options.leaseMs / 3))
  const heartbeat = setInterval(() => {
    sync().catch((err: unknown) => logger.warn({ err }, 'limiter heartbeat failed'))
  }, heartbeatMs)
  heartbeat.unref()

  const release = (token: string) =>
    step(releaseScript, [token]).then(
      () => {},
      (err: unknown) => logger.warn({ err }, 'slot not released; its lease will lapse'),
    )

  async function acquire(key: string, signal?: AbortSignal): Promise<string> {
    await subscribed
    if (signal?.aborted) throw signal.reason
    const token = `${options.instanceId}:${++sequence}`
    await new Promise<void>((resolve, reject) => {
      const withdraw = () => {
        if (!waiting.delete(token)) return
        reject(signal?.reason)
        // Also gives the slot back if it was granted a moment ago and the news is on its way.
        void release(token)
      }
      waiting.set(token, {
        key,
        grant: () => {
          signal?.removeEventListener('abort', withdraw)
          resolve()
        },
        fail: (error) => {
          signal?.removeEventListener('abort', withdraw)
          reject(error)
        },
      })
      signal?.addEventListener('abort', withdraw, { once: true })
      step(enqueueScript, [token, key]).catch((error: unknown) => {
        const waiter = waiting.get(token)
        if (!waiter) return
        waiting.delete(token)
        waiter.fail(error)
        void release(token)
      })
    })
    return token
  }

  return {
    async run(task, signal, key = '') {
      const token = await acquire(key, signal)
      try {
        return await task()
      } finally {
        holding.delete(token)
        await release(token)
      }
    },
    get active() {
      return active
    },
    get queued() {
      return queued
    },
    async countQueued() {
      const reply = await step(syncScript, [0])
      return Number(reply[1])
    },
    sync,
    async close() {
      clearInterval(heartbeat)
      subscriber.off('message', onMessage)
      await subscriber.unsubscribe(channel).catch(() => {})
      for (const [token, waiter] of waiting) {
        waiting.delete(token)
        waiter.fail(new Error('The gateway is shutting down.'))
      }
    },
  }
}
