/**
 * In-memory registry of query records, bounded by count (lru-cache). Portable.
 * One process only; a shared registry (Redis, Durable Objects) implements the same contract.
 * Its indexes (Idempotency-Key, owner, reuse key) are maps kept with the records.
 */
import { LRUCache } from 'lru-cache'
import { toRegistryFullError } from './registry-full.ts'
import { createChangeNotifier } from './change-notifier.ts'
import { versionOf, type QueryRecord } from '../domain/query.ts'
import { collectListPage, compareNewestFirst, toListKey, toSummary } from './list-page.ts'
import { isReusableBy } from './reusable.ts'
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
  /** owner → ids of their records, for the query list. */
  const byOwner = new Map<string, Set<string>>()
  /** reuse key → id of the SUCCESSFUL record that finished last with it. */
  const byReuseKey = new Map<string, string>()

  function remember(record: QueryRecord): void {
    if (record.idempotency) {
      byIdempotencyKey.set(toIndexKey(record.owner, record.idempotency.key), record.id)
    }
    let own = byOwner.get(record.owner)
    if (!own) byOwner.set(record.owner, (own = new Set()))
    own.add(record.id)
    rememberReusable(record)
  }

  function rememberReusable(record: QueryRecord): void {
    if (record.state === 'SUCCESSFUL' && record.reuseKey) byReuseKey.set(record.reuseKey, record.id)
  }

  function forget(record: QueryRecord): void {
    if (record.idempotency) {
      const indexKey = toIndexKey(record.owner, record.idempotency.key)
      if (byIdempotencyKey.get(indexKey) === record.id) byIdempotencyKey.delete(indexKey)
    }
    const own = byOwner.get(record.owner)
    own?.delete(record.id)
    if (own?.size === 0) byOwner.delete(record.owner)
    if (record.reuseKey && byReuseKey.get(record.reuseKey) === record.id) {
      byReuseKey.delete(record.reuseKey)
    }
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
      const frozen = toFrozenCopy(record)
      records.set(record.id, frozen)
      remember(frozen)
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
      rememberReusable(next)
      changes.notify(id)
      return next
    },
    async updateShadow(id, shadow) {
      const record = records.get(id, { updateAgeOnGet: false })
      if (!record) return null
      const next = toFrozenCopy({ ...record, shadow, version: versionOf(record) + 1 })
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
    async listPage(query) {
      // Every record is in this process: the owner's (or all) are sorted, newest first, per call.
      const ids = query.owner === undefined ? records.keys() : (byOwner.get(query.owner) ?? [])
      const listed: QueryRecord[] = []
      for (const id of ids) {
        const record = records.peek(id)
        if (record) listed.push(record)
      }
      listed.sort(compareNewestFirst)
      const keys = listed.map(toListKey)
      return collectListPage(
        query,
        async (before, count) => {
          const start = before === undefined ? 0 : firstBelow(keys, before)
          return listed
            .slice(start, start + count)
            .map((record, i) => ({ key: keys[start + i]!, summary: toSummary(record) }))
        },
        Infinity,
      )
    },
    async findReusable(owner, reuseKey) {
      const id = byReuseKey.get(reuseKey)
      const record = id === undefined ? undefined : records.get(id)
      return record && isReusableBy(record, owner, reuseKey) ? record : null
    },
  }
}

/** The index of the first key below `key` in keys sorted newest (largest) first. */
function firstBelow(keys: string[], key: string): number {
  let low = 0
  let high = keys.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (keys[middle]! >= key) low = middle + 1
    else high = middle
  }
  return low
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
