/**
 * A QueryRunner for several instances around the in-process one. Node only (ioredis pub/sub).
 * It renews the leases of this instance's queries, and carries stops to whichever runs them.
 */
import type { Redis } from 'ioredis'
import type { RedisLimiter } from './redis-limiter.ts'
import { createSilentLogger, type Logger } from '../logger.ts'
import type { RedisRegistry } from './redis-registry.ts'
import type { QueryRunner } from '../queries/runner.ts'

/** The reason given to a local query whose lease was taken from it (it ends as recorded). */
const LEASE_LOST_REASON = 'The query lost its lease: another instance has ended it.'

export interface ClusterRunnerOptions {
  /** Runs queries in this process (createQueryRunner over the Redis limiter). */
  inner: QueryRunner
  limiter: RedisLimiter
  registry: RedisRegistry
  redis: Redis
  /** A connection for subscriptions only. */
  subscriber: Redis
  prefix: string
  /** How often leases are renewed; well under the lease (default 1 s). */
  heartbeatMs: number
  logger?: Logger
}

export interface ClusterRunner extends QueryRunner {
  /** One lease renewal now (the heartbeat does it on its own). */
  renew(): Promise<void>
  close(): Promise<void>
}

interface StopMessage {
  id: string
  reason: string
}

export function createClusterRunner(options: ClusterRunnerOptions): ClusterRunner {
  const { inner, limiter, registry, redis, subscriber } = options
  const logger = options.logger ?? createSilentLogger()
  const channel = `${options.prefix}stop`

  const onMessage = (from: string, text: string) => {
    if (from !== channel) return
    let message: StopMessage
    try {
      message = JSON.parse(text) as StopMessage
    } catch {
      return
    }
    if (!registry.holds(message.id)) return
    inner.abort(message.id, message.reason).catch((err: unknown) => {
      logger.warn({ err, queryId: message.id }, 'stop from another instance failed')
    })
  }
  subscriber.on('message', onMessage)
  const subscribed = subscriber.subscribe(channel)

  let renewing: Promise<void> | null = null
  function renew(): Promise<void> {
    renewing ??= (async () => {
      const lost = await registry.renewLeases()
      for (const { id, state } of lost) {
        // Finished here: nothing to do. Failed by a sweeper (this instance was silent past its
        // lease) or deleted: whatever still runs here must stop, its result is not wanted.
        if (state !== 'SUCCESSFUL') await inner.abort(id, LEASE_LOST_REASON)
      }
    })().finally(() => (renewing = null))
    return renewing
  }
  const heartbeat = setInterval(() => {
    renew().catch((err: unknown) => logger.warn({ err }, 'query lease renewal failed'))
  }, options.heartbeatMs)
  heartbeat.unref()

  return {
    async start(record, query, credentials) {
      await subscribed
      await inner.start(record, query, credentials)
    },
    async abort(id, reason) {
      // A query runs on the instance that recorded it, which holds its lease.
      if (registry.holds(id)) return inner.abort(id, reason)
      // Elsewhere: the instance that runs it stops it and records the same FAILED result.
      const record = await registry.get(id)
      if (record?.state !== 'RUNNING') return false
      await redis.publish(channel, JSON.stringify({ id, reason } satisfies StopMessage))
      return true
    },
    abortAll: (reason) => inner.abortAll(reason),
    // Live bytes only where the query runs; elsewhere the follower waits for the stored file.
    follow: inner.follow,
    get active() {
      return limiter.active
    },
    get queued() {
      return limiter.queued
    },
    countQueued: () => limiter.countQueued(),
    renew,
    async close() {
      clearInterval(heartbeat)
      subscriber.off('message', onMessage)
      await subscriber.unsubscribe(channel).catch(() => {})
    },
  }
}
