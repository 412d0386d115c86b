/**
 * A registry over one Durable Object per query (Workers), with index objects beside them: an
 * Idempotency-Key or reuse pointer, each owner's query list and everyone's. Portable: it sees the
 * objects only through `QueryObjectApi`, which the Worker entry builds from the namespace.
 */
import { toRecordKey } from '../domain/query-id.ts'
import type { BlobStore } from '../store/types.ts'
import type { Credentials } from '../domain/caller.ts'
import type { QueryRecord, ShadowVerdict, UpstreamQuery } from '../domain/query.ts'
import type { ListPage, ListPosition, ListQuery, QuerySummary, Registry } from './types.ts'
import { toSummary } from './list-page.ts'
import { isReusableBy } from './reusable.ts'

/** The RPC methods of a query's Durable Object (src/runtime/workers/query-object.ts). */
export interface QueryObjectApi {
  create(record: QueryRecord): Promise<void>
  read(): Promise<QueryRecord | null>
  update(patch: Partial<Omit<QueryRecord, 'id'>>): Promise<QueryRecord | null>
  /** Sets the shadow verdict whatever the record's state; `null` when there is no record. */
  updateShadow(shadow: ShadowVerdict): Promise<QueryRecord | null>
  remove(): Promise<boolean>
  /** The record once its version is past `afterVersion` (`null`: deleted), or after `timeoutMs`. */
  waitForChange(afterVersion: number, timeoutMs: number): Promise<QueryRecord | null>
  start(record: QueryRecord, query: UpstreamQuery, credentials: Credentials): Promise<void>
  abort(reason: string): Promise<boolean>
  /**
   * The live bytes of the query running in this object (a stream over RPC), `'followers-full'`,
   * or `null`: `FollowResult` of queries/live-results.ts.
   */
  follow(): Promise<ReadableStream<Uint8Array> | 'followers-full' | null>
  /** As the index object of an Idempotency-Key: remember, read or drop the query id. */
  pointTo(id: string): Promise<void>
  pointer(): Promise<string | null>
  dropPointer(id: string): Promise<void>
  /** As a list index object (list-index.ts): add or replace, drop, read a page. */
  listPut(summary: QuerySummary): Promise<void>
  listDrop(position: ListPosition): Promise<void>
  listPage(query: ListQuery): Promise<ListPage>
}

/** The object that indexes one owner's Idempotency-Key: a name no query id can take. */
export const toIdempotencyObjectName = (owner: string, key: string) =>
  `idempotency:${JSON.stringify([owner, key])}`

/** The list index object of one owner's queries, or (no owner) of everyone's. */
export const toListObjectName = (owner?: string) =>
  owner === undefined ? 'list:*' : `list:${JSON.stringify(owner)}`

/** The object that points at the last SUCCESSFUL query of a reuse key. */
export const toReuseObjectName = (reuseKey: string) => `reuse:${reuseKey}`

/**
 * RUNNING queries of a page whose live record is read for their progress and state (the index
 * learns only of starts and ends); past this many a page shows what the index holds.
 */
const LIVE_READS_PER_PAGE = 100

/** Finds the object of a query id (`namespace.get(namespace.idFromName(id))`). */
export type QueryObjectDirectory = (id: string) => QueryObjectApi

export interface DurableObjectRegistryOptions {
  objects: QueryObjectDirectory
  /** Lists queries: every query has a record file beside its result in the store. */
  store: BlobStore
}

export function createDurableObjectRegistry(options: DurableObjectRegistryOptions): Registry {
  const { objects, store } = options

  /** Tells the list objects (owner's, everyone's) and the reuse pointer where a record is. */
  async function index(record: QueryRecord): Promise<void> {
    const summary = toSummary(record)
    await Promise.all([
      objects(toListObjectName(record.owner)).listPut(summary),
      objects(toListObjectName()).listPut(summary),
      record.state === 'SUCCESSFUL' && record.reuseKey
        ? objects(toReuseObjectName(record.reuseKey)).pointTo(record.id)
        : undefined,
    ])
  }

  async function unindex(record: QueryRecord): Promise<void> {
    await Promise.all([
      objects(toListObjectName(record.owner)).listDrop(record),
      objects(toListObjectName()).listDrop(record),
      record.reuseKey ? objects(toReuseObjectName(record.reuseKey)).dropPointer(record.id) : null,
      record.idempotency
        ? objects(toIdempotencyObjectName(record.owner, record.idempotency.key)).dropPointer(
            record.id,
          )
        : null,
    ])
  }

  /** The live state of a page's RUNNING queries: progress, an end the index missed, a delete. */
  async function refresh(page: ListPage, query: ListQuery): Promise<ListPage> {
    const running = page.queries
      .filter((summary) => summary.state === 'RUNNING')
      .slice(0, LIVE_READS_PER_PAGE)
    if (running.length === 0) return page
    const live = new Map<string, QuerySummary | null>()
    await Promise.all(
      running.map(async (summary) => {
        const record = await objects(summary.id).read()
        live.set(summary.id, record ? toSummary(record) : null)
        // Healed here: a record gone, or ended without the index hearing of it.
        if (!record) {
          await Promise.all([
            objects(toListObjectName(summary.owner)).listDrop(summary),
            objects(toListObjectName()).listDrop(summary),
          ])
        } else if (record.state !== 'RUNNING') await index(record)
      }),
    )
    const queries: QuerySummary[] = []
    for (const summary of page.queries) {
      const now = live.has(summary.id) ? live.get(summary.id) : summary
      if (now && (query.state === undefined || now.state === query.state)) queries.push(now)
    }
    return { queries, next: page.next }
  }

  return {
    async create(record) {
      await objects(record.id).create(record)
      const { idempotency } = record
      await Promise.all([
        idempotency
          ? objects(toIdempotencyObjectName(record.owner, idempotency.key)).pointTo(record.id)
          : undefined,
        index(record),
      ])
    },
    get: (id) => objects(id).read(),
    async update(id, patch) {
      const next = await objects(id).update(patch)
      // Progress stays in the record; the index hears of the end (state, counts, time).
      if (next && next.state !== 'RUNNING') await index(next)
      return next
    },
    updateShadow: (id, shadow) => objects(id).updateShadow(shadow),
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
      if (record) await unindex(record)
      return objects(id).remove()
    },
    async listPage(query) {
      const page = await objects(toListObjectName(query.owner)).listPage(query)
      return refresh(page, query)
    },
    async findReusable(owner, reuseKey) {
      const id = await objects(toReuseObjectName(reuseKey)).pointer()
      if (id === null) return null
      const record = await objects(id).read()
      // The pointer outlives a record its object dropped on its own: check it still matches.
      return isReusableBy(record, owner, reuseKey) ? record : null
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
