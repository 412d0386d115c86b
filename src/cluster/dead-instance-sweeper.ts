/**
 * Ends FAILED the queries of a gateway instance that died: their leases lapsed in Redis. Node
 * only (the Redis registry). Every instance sweeps; the registry's script makes each end once.
 */
import type { AppDeps } from '../deps.ts'
import { toRecordKey, toResultKey } from '../domain/query-id.ts'
import type { RedisRegistry } from './redis-registry.ts'
import { writeRecordFile } from '../registry/record-file.ts'
import type { QueryRecord } from '../domain/query.ts'

export const INSTANCE_LOST_MESSAGE =
  'The gateway instance running this query stopped before it finished; no result was kept. Please submit it again.'

/** A shadow run is never taken over by another instance: the lost query's says so. */
export const SHADOW_INSTANCE_LOST_MESSAGE =
  'Skipped: the gateway instance running this query stopped before it ended; shadow runs are not taken over by another instance.'

export interface DeadInstanceSweeperOptions extends Pick<AppDeps, 'store' | 'logger' | 'now'> {
  registry: RedisRegistry
  intervalMs: number
  /** Told of each query ended FAILED here (its webhook is sent from here). */
  onFailed?: (record: QueryRecord) => Promise<void>
}

export interface DeadInstanceSweeper {
  /** One sweep now; answers how many queries it ended. */
  sweep(): Promise<number>
  stop(): void
}

export function startDeadInstanceSweeper(options: DeadInstanceSweeperOptions): DeadInstanceSweeper {
  const { registry, store, logger } = options

  async function sweep(): Promise<number> {
    const failed = await registry.failExpired(INSTANCE_LOST_MESSAGE, options.now())
    for (const found of failed) {
      // A partial result the dead instance left is no result; the record file tells the truth.
      await store.delete(toResultKey(found.id))
      const record =
        found.shadow?.status === 'RUNNING'
          ? ((await registry.updateShadow(found.id, {
              ...found.shadow,
              status: 'SKIPPED',
              message: SHADOW_INSTANCE_LOST_MESSAGE,
              finishedAt: options.now(),
            })) ?? found)
          : found
      await writeRecordFile({ store }, record)
      if (!(await registry.get(record.id))) await store.delete(toRecordKey(record.id))
      logger.warn({ queryId: record.id }, 'query of a stopped instance ended FAILED')
      await options.onFailed?.(record)
    }
    return failed.length
  }

  let sweeping = false
  const timer = setInterval(() => {
    if (sweeping) return
    sweeping = true
    sweep()
      .catch((err: unknown) => logger.warn({ err }, 'sweep of stopped instances failed'))
      .finally(() => (sweeping = false))
  }, options.intervalMs)
  timer.unref()

  return { sweep, stop: () => clearInterval(timer) }
}
