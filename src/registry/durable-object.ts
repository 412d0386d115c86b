/**
 * A registry over one Durable Object per query (Workers). Portable: it sees the
 * objects only through `QueryObjectApi`, which the Worker entry builds from the namespace.
 */
import { toRecordKey } from '../domain/query-id.ts'
import type { BlobStore } from '../store/types.ts'
import type { Credentials } from '../domain/caller.ts'
import type { QueryRecord, UpstreamQuery } from '../domain/query.ts'
import type { Registry } from './types.ts'

/** The RPC methods of a query's Durable Object (src/runtime/workers/query-object.ts). */
export interface QueryObjectApi {
  create(record: QueryRecord): Promise<void>
  read(): Promise<QueryRecord | null>
  update(patch: Partial<Omit<QueryRecord, 'id'>>): Promise<QueryRecord | null>
  remove(): Promise<boolean>
  /** The record once its version is past `afterVersion` (`null`: deleted), or after `timeoutMs`. */
  waitForChange(afterVersion: number, timeoutMs: number): Promise<QueryRecord | null>
  start(record: QueryRecord, query: UpstreamQuery, credentials: Credentials): Promise<void>
  abort(reason: string): Promise<boolean>
  /** As the index object of an Idempotency-Key: remember, read or drop the query id. */
  pointTo(id: string): Promise<void>
  pointer(): Promise<string | null>
  dropPointer(id: string): Promise<void>
}

/** The object that indexes one owner's Idempotency-Key: a name no query id can take. */
export const toIdempotencyObjectName = (owner: string, key: string) =>
  `idempotency:${JSON.stringify([owner, key])}`

/** Finds the object of a query id (`namespace.get(namespace.idFromName(id))`). */
export type QueryObjectDirectory = (id: string) => QueryObjectApi

export interface DurableObjectRegistryOptions {
  objects: QueryObjectDirectory
  /** Lists queries: every query has a record file beside its result in the store. */
  store: BlobStore
}

export function createDurableObjectRegistry(options: DurableObjectRegistryOptions): Registry {
  const { objects, store } = options
  return {
    async create(record) {
      await objects(record.id).create(record)
      const { idempotency } = record
      if (idempotency) {
        await objects(toIdempotencyObjectName(record.owner, idempotency.key)).pointTo(record.id)
      }
    },
    get: (id) => objects(id).read(),
    update: (id, patch) => objects(id).update(patch),
    async waitForChange(id, afterVersion, timeoutMs, signal) {
      // An RPC cannot be cancelled: an abort answers here at once, and the object's own wait
      // ends with its time limit (callers keep that short).
      if (signal?.aborted) return objects(id).read()
      const waiting = objects(id).waitForChange(afterVersion, timeoutMs)
      if (!signal) return waiting
      let onAbort!: () => void
      const aborted = new Promise<'aborted'>((resolve) => {
        onAbort = () => resolve('aborted')
        signal.addEventListener('abort', onAbort, { once: true })
      })
      try {
        const outcome = await Promise.race([waiting, aborted])
        if (outcome !== 'aborted') return outcome
        waiting.catch(() => {})
        return await objects(id).read()
      } finally {
        signal.removeEventListener('abort', onAbort)
      }
    },
    async delete(id) {
      const record = await objects(id).read()
      if (record?.idempotency) {
        const name = toIdempotencyObjectName(record.owner, record.idempotency.key)
        await objects(name).dropPointer(id)
      }
      return objects(id).remove()
    },
    async findByIdempotencyKey(owner, key) {
      const id = await objects(toIdempotencyObjectName(owner, key)).pointer()
      if (id === null) return null
      const record = await objects(id).read()
      // The pointer outlives a record its object dropped on its own: check it still matches.
      return record && record.owner === owner && record.idempotency?.key === key ? record : null
    },
    async list() {
      const records: QueryRecord[] = []
      for await (const key of store.list()) {
        if (!key.endsWith('.json')) continue
        const id = key.slice(0, -'.json'.length)
        if (key !== toRecordKey(id)) continue
        const record = await objects(id).read()
        if (record) records.push(record)
      }
      return records
    },
  }
}
