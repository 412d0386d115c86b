/**
 * Node wiring of REGISTRY=redis: connections, the shared registry, the cluster-wide limiter,
 * query leases, the sweeper of dead instances, and cross-instance stops. Node only.
 */
import { randomUUID } from 'node:crypto'
import type { RedisSettings } from '../../config/cluster-settings.ts'
import type { Config } from '../../config/config.ts'
import { createClusterRunner, type ClusterRunner } from '../../cluster/cluster-runner.ts'
import { startDeadInstanceSweeper } from '../../cluster/dead-instance-sweeper.ts'
import { closeRedis, connectRedis } from '../../cluster/redis-client.ts'
import {
  createRedisLimiter,
  type RedisLimiter,
  type RedisLimiterOptions,
} from '../../cluster/redis-limiter.ts'
import type { Logger } from '../../logger.ts'
import { createRedisRegistry, type RedisRegistry } from '../../cluster/redis-registry.ts'
import { createRedisDeliveries } from '../../cluster/redis-webhooks.ts'
import type { PendingDeliveries, WebhookNotifier } from '../../webhooks/types.ts'
import { toRedactedUrl } from '../../redact-url.ts'
import { createQueryRunner, type QueryRunner } from '../../queries/runner.ts'
import type { BlobStore } from '../../store/types.ts'

type RunnerDeps = Parameters<typeof createQueryRunner>[0]

export interface NodeCluster {
  registry: RedisRegistry
  /** The runner of this instance: in-process queries under cluster-wide limits and leases. */
  createRunner(deps: RunnerDeps): QueryRunner
  /** Pending webhook deliveries shared by every instance, each attempt claimed by one. */
  webhookDeliveries(maxPending: number): PendingDeliveries
  /** Where the sweeper sends the events of the queries of dead instances it ends. */
  useWebhooks(webhooks: WebhookNotifier): void
  /** Stops heartbeats and sweeps and closes the connections; after the queries have ended. */
  close(): Promise<void>
}

export interface NodeClusterOptions {
  store: BlobStore
  logger: Logger
  now: () => number
  /** Removes the files of a record the registry evicted. */
  onEvict: (id: string) => void
}

export interface ClusterInstanceOptions extends RedisLimiterOptions {
  registry: RedisRegistry
  heartbeatMs: number
}

export interface ClusterInstance {
  /** Slots and queue shared by every instance on the Redis. */
  limiter: RedisLimiter
  /** A runner of in-process queries under the cluster-wide limits, leases and stops. */
  createRunner(deps: RunnerDeps): ClusterRunner
}

export async function startNodeCluster(
  config: Config,
  settings: RedisSettings,
  options: NodeClusterOptions,
): Promise<NodeCluster> {
  const { store, logger } = options
  const instanceId = randomUUID()
  const redis = await connectRedis(settings.url, 'kylin-async-gateway', logger)
  const subscriber = await connectRedis(settings.url, 'kylin-async-gateway-events', logger).catch(
    async (error: unknown) => {
      await closeRedis(redis)
      throw error
    },
  )
  // Renewed three times or more per lease, so one late heartbeat never loses anything.
  const heartbeatMs = Math.min(1000, Math.floor(settings.leaseMs / 3))
  // The retention sweep deletes a finished record with its result; the TTL only catches a record
  // the sweep missed, so it runs past the sweep's next two turns.
  const retentionSweepMs = Math.min(config.resultRetainMs, 3_600_000)
  const registry = createRedisRegistry({
    redis,
    prefix: settings.keyPrefix,
    maxRecords: config.maxQueries,
    recordTtlMs: config.resultRetainMs + 2 * retentionSweepMs + 60_000,
    leaseMs: settings.leaseMs,
    onEvict: options.onEvict,
    subscriber,
  })
  const instance = createClusterInstance({
    redis,
    subscriber,
    registry,
    prefix: settings.keyPrefix,
    max: config.maxConcurrentQueries,
    maxPerKey: config.maxConcurrentPerUser,
    leaseMs: settings.leaseMs,
    heartbeatMs,
    instanceId,
    logger,
  })
  let webhooks: WebhookNotifier | undefined
  const sweeper = startDeadInstanceSweeper({
    registry,
    store,
    logger,
    now: options.now,
    intervalMs: heartbeatMs,
    onFailed: async (record) => {
      if (record.callbackUrl) await webhooks?.queryEnded(record, record.callbackUrl)
    },
  })
  const runners: ClusterRunner[] = []

  if (config.store === 'memory') {
    logger.warn(
      { store: config.store },
      'REGISTRY=redis with STORE=memory: other instances cannot read results kept here',
    )
  }
  logger.info(
    {
      registry: 'redis',
      redis: toRedactedUrl(settings.url),
      keyPrefix: settings.keyPrefix,
      leaseMs: settings.leaseMs,
      instanceId,
    },
    `registry, slots and queue in redis ${toRedactedUrl(settings.url)} (prefix ${settings.keyPrefix})`,
  )

  return {
    registry,
    createRunner(deps) {
      const runner = instance.createRunner(deps)
      runners.push(runner)
      return runner
    },
    useWebhooks(notifier) {
      webhooks = notifier
    },
    webhookDeliveries: (maxPending) =>
      createRedisDeliveries({ redis, prefix: settings.keyPrefix, maxPending }),
    async close() {
      sweeper.stop()
      for (const runner of runners) await runner.close()
      await instance.limiter.close()
      await registry.close()
      await Promise.all([closeRedis(redis), closeRedis(subscriber)])
    },
  }
}

/** One instance's share of the cluster, on its pair of connections. */
export function createClusterInstance(options: ClusterInstanceOptions): ClusterInstance {
  const { registry, ...limiterOptions } = options
  const { redis, subscriber, prefix, heartbeatMs, logger } = options
  const limiter = createRedisLimiter(limiterOptions)
  return {
    limiter,
    createRunner: (deps) =>
      createClusterRunner({
        inner: createQueryRunner(deps, limiter),
        limiter,
        registry,
        redis,
        subscriber,
        prefix,
        heartbeatMs,
        logger,
      }),
  }
}
