/**
 * The small JSON record kept beside each result, from which a registry can be rebuilt (fs store
 * after a restart, the Durable Object registry's listing). Portable.
 */
import { toRecordKey, toResultKey } from '../domain/query-id.ts'
import type { QueryRecord } from '../domain/query.ts'
import type { BlobStore } from '../store/types.ts'
import type { Registry } from './types.ts'

/** A record file is small; anything larger is not one of ours. */
const MAX_RECORD_BYTES = 1024 * 1024

/** Persists a record beside its result, so a restarted gateway can rebuild the registry. */
export async function writeRecordFile(deps: { store: BlobStore }, record: QueryRecord) {
  const bytes = new TextEncoder().encode(JSON.stringify(record))
  await deps.store.put(
    toRecordKey(record.id),
    new ReadableStream({
      start(controller) {
        controller.enqueue(bytes)
        controller.close()
      },
    }),
  )
}

/**
 * After a query's last write: a delete that ran meanwhile (here or on another instance) may have
 * removed the files before they were written, so they are removed again. `true`: still there.
 */
export async function removeFilesIfDeleted(
  deps: { store: BlobStore; registry: Pick<Registry, 'get'> },
  id: string,
): Promise<boolean> {
  if (await deps.registry.get(id)) return true
  await Promise.all([deps.store.delete(toResultKey(id)), deps.store.delete(toRecordKey(id))])
  return false
}

/** The record kept beside a result; `null` when it is missing, too large or not one of ours. */
export async function readRecordFile(store: BlobStore, id: string): Promise<QueryRecord | null> {
  const blob = await store.get(toRecordKey(id))
  if (!blob) return null
  if (blob.size > MAX_RECORD_BYTES) {
    await blob.body.cancel()
    return null
  }
  try {
    const record = JSON.parse(await new Response(blob.body).text()) as Partial<QueryRecord>
    const valid =
      record.id === id &&
      typeof record.owner === 'string' &&
      typeof record.project === 'string' &&
      (record.state === 'RUNNING' || record.state === 'SUCCESSFUL' || record.state === 'FAILED') &&
      typeof record.options?.separator === 'string' &&
      typeof record.createdAt === 'number' &&
      typeof record.bytes === 'number'
    return valid ? (record as QueryRecord) : null
  } catch {
    return null
  }
}
