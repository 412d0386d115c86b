/**
 * In-memory registry of query records, bounded by count (lru-cache). Portable.
 * One process only; a shared registry (Redis, Durable Objects) implements the same contract.
 */
import { LRUCache } from 'lru-cache'
import { toRegistryFullError } from './registry-full.ts'
import { createChangeNotifier } from './change-notifier.ts'
import { versionOf, type QueryRecord } from '../domain/query.ts'
import type { Registry } from './types.ts'

export interface MemoryRegistryOptions {
  /** Records kept at most; the least recently used finished ones go first, never a running one. */
  maxRecords: number
  /** Called for a record pushed out by the bound, so its blob can be removed too. */
  onEvict?: (record: QueryRecord) => void
}

export function createMemoryRegistry(options: MemoryRegistryOptions): Registry {
  const { maxRecords } = options
  // lru-cache's own eviction would drop the least recently used record even while its query
  // runs (its result would then land with no record, and its status turn MISSING), so `create`
  // makes room itself first and lru-cache never reaches its bound.
  const records = new LRUCache<string, QueryRecord>({ max: maxRecords })
  /** owner + Idempotency-Key → query id, for the records that carry a key. */
  const byIdempotencyKey = new Map<string, string>()
  const toIndexKey = (owner: string, key: string) => `${owner}\n${key}`
  // Every write below wakes the record's waiters: the change notification is this process's own.
  const changes = createChangeNotifier()

  function forget(record: QueryRecord): void {
    if (!record.idempotency) return
    const indexKey = toIndexKey(record.owner, record.idempotency.key)
    if (byIdempotencyKey.get(indexKey) === record.id) byIdempotencyKey.delete(indexKey)
  }

  function evictOneFinished(): void {
    // From the least recently used on.
    for (const id of records.rkeys()) {
      const record = records.peek(id)
      if (!record || record.state === 'RUNNING') continue
      records.delete(id)
      forget(record)
      changes.notify(id)
      options.onEvict?.(record)
      return
    }
    throw toRegistryFullError(maxRecords)
  }

  // Records are copied in and frozen, so callers never share mutable state with the registry,
  // as they would not with a remote one; reads hand out the frozen record without copying it,
  // since a status poll reads far more often than anything writes.
  return {
    async create(record) {
      if (!records.has(record.id) && records.size >= maxRecords) evictOneFinished()
      const previous = records.peek(record.id)
      if (previous) forget(previous)
      records.set(record.id, toFrozenCopy(record))
      if (record.idempotency) {
        byIdempotencyKey.set(toIndexKey(record.owner, record.idempotency.key), record.id)
      }
      if (previous) changes.notify(record.id)
    },
    async get(id) {
      return records.get(id) ?? null
    },
    peek(id) {
      return records.get(id) ?? null
    },
    async update(id, patch) {
      const record = records.get(id, { updateAgeOnGet: false })
      // A finished record is final, as in every registry: a query is never FAILED and SUCCESSFUL.
      if (!record || record.state !== 'RUNNING') return null
      const next = toFrozenCopy({ ...record, ...patch, id, version: versionOf(record) + 1 })
      records.set(id, next, { noUpdateTTL: true })
      changes.notify(id)
      return next
    },
    async delete(id) {
      const record = records.peek(id)
      if (record) forget(record)
      const deleted = records.delete(id)
      if (deleted) changes.notify(id)
      return deleted
    },
    waitForChange: (id, afterVersion, timeoutMs, signal) =>
      changes.waitForChange(
        id,
        afterVersion,
        timeoutMs,
        async (key) => records.peek(key) ?? null,
        signal,
      ),
    async list() {
      return [...records.values()]
    },
    async findByIdempotencyKey(owner, key) {
      const id = byIdempotencyKey.get(toIndexKey(owner, key))
      return id === undefined ? null : (records.get(id) ?? null)
    },
  }
}

/** A deep copy of a record, frozen all the way down: plain data, nested at most two levels. */
function toFrozenCopy(record: QueryRecord): QueryRecord {
  const copy: QueryRecord = { ...record, options: Object.freeze({ ...record.options }) }
  if (record.metadata) {
    const { names, types, precisions, scales } = record.metadata
    copy.metadata = Object.freeze({
      names: Object.freeze([...names]) as string[],
      types: Object.freeze([...types]) as string[],
      ...(precisions && { precisions: Object.freeze([...precisions]) as (number | null)[] }),
      ...(scales && { scales: Object.freeze([...scales]) as (number | null)[] }),
    })
  }
  if (record.idempotency) copy.idempotency = Object.freeze({ ...record.idempotency })
  return Object.freeze(copy)
}
