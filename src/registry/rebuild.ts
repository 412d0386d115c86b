/**
 * Rebuilds the registry from the records kept beside the results (fs store after a restart).
 * Portable. Finished queries come back as they were; one that was RUNNING ends FAILED.
 */
import type { BlobStore } from '../store/types.ts'
import { isQueryId, toRecordKey, toResultKey } from '../domain/query-id.ts'
import { readRecordFile, writeRecordFile } from './record-file.ts'
import type { Registry } from './types.ts'
import type { QueryRecord } from '../domain/query.ts'

export const RESTART_MESSAGE =
  'The gateway restarted before the query finished; no result was kept. Please submit it again.'

/** A shadow run is not resumed: its verdict says it was lost, with no match either way. */
export const SHADOW_LOST_MESSAGE =
  'The gateway restarted before the shadow run ended; it is not run again, so there is no verdict.'

/** The record with a shadow run it lost (RUNNING) ended FAILED, without a verdict. */
function withLostShadow(record: QueryRecord, now: number): QueryRecord {
  if (record.shadow?.status !== 'RUNNING') return record
  return {
    ...record,
    shadow: { ...record.shadow, status: 'FAILED', message: SHADOW_LOST_MESSAGE, finishedAt: now },
  }
}

export interface RebuildSummary {
  /** SUCCESSFUL and FAILED queries restored as they were. */
  restored: number
  /** Queries that were RUNNING, now FAILED. */
  interrupted: number
  /** Unreadable records, or SUCCESSFUL ones whose result is gone, removed. */
  dropped: number
}

export async function rebuildRegistry(deps: {
  store: BlobStore
  registry: Registry
  now: () => number
  /** Told of each query the restart ended FAILED (its webhook is sent from here). */
  onInterrupted?: (record: QueryRecord) => Promise<void>
}): Promise<RebuildSummary> {
  const summary: RebuildSummary = { restored: 0, interrupted: 0, dropped: 0 }
  const records: QueryRecord[] = []
  for await (const key of deps.store.list()) {
    const id = key.slice(0, -'.json'.length)
    if (!key.endsWith('.json') || !isQueryId(id)) continue
    const record = await readRecordFile(deps.store, id)
    if (record) records.push(record)
    else {
      await deps.store.delete(key)
      summary.dropped++
    }
  }
  // Oldest first, so if there are more than the registry holds, the newest stay.
  records.sort((a, b) => a.createdAt - b.createdAt)
  for (const found of records) {
    const record = withLostShadow(found, deps.now())
    if (record.state === 'RUNNING') {
      await deps.store.delete(toResultKey(record.id))
      const now = deps.now()
      const failed: QueryRecord = {
        ...record,
        state: 'FAILED',
        error: RESTART_MESSAGE,
        updatedAt: now,
        finishedAt: now,
      }
      await writeRecordFile(deps, failed)
      await deps.registry.create(failed)
      await deps.onInterrupted?.(failed)
      summary.interrupted++
      continue
    }
    if (record.state === 'SUCCESSFUL') {
      const blob = await deps.store.head(toResultKey(record.id))
      if (!blob || blob.size !== record.bytes) {
        await deps.store.delete(toResultKey(record.id))
        await deps.store.delete(toRecordKey(record.id))
        summary.dropped++
        continue
      }
    }
    if (record !== found) await writeRecordFile(deps, record)
    await deps.registry.create(record)
    summary.restored++
  }
  return summary
}
