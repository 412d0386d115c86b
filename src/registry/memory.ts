/**
 * In-memory registry of query records, bounded by count (lru-cache). Portable.
 * One process only; a shared registry (Redis, Durable Objects) implements the same contract.
 */
import { LRUCache } from 'lru-cache'
import type { QueryRecord, Registry } from './types.ts'

export interface MemoryRegistryOptions {
  /** Records kept at most; the least recently used finished ones go first. */
  maxRecords: number
  /** Called for a record pushed out by the bound, so its blob can be removed too. */
  onEvict?: (record: QueryRecord) => void
}

export function createMemoryRegistry(options: MemoryRegistryOptions): Registry {
  const records = new LRUCache<string, QueryRecord>({
    max: options.maxRecords,
    dispose: (record, _id, reason) => {
      if (reason === 'evict') options.onEvict?.(record)
    },
  })
  // Records are copied in and out so callers never share mutable state with the registry,
  // as they would not with a remote one. (structuredClone was the hot spot of a status poll.)
  return {
    async create(record) {
      records.set(record.id, copyRecord(record))
    },
    async get(id) {
      const record = records.get(id)
      return record ? copyRecord(record) : null
    },
    async update(id, patch) {
      const record = records.get(id, { updateAgeOnGet: false })
      if (!record) return null
      const next = copyRecord({ ...record, ...patch, id })
      records.set(id, next, { noUpdateTTL: true })
      return copyRecord(next)
    },
    async delete(id) {
      return records.delete(id)
    },
    async list() {
      return [...records.values()].map(copyRecord)
    },
  }
}

/** A deep copy of a record: plain data, nested at most one level. */
function copyRecord(record: QueryRecord): QueryRecord {
  const copy: QueryRecord = { ...record, options: { ...record.options } }
  if (record.metadata) {
    copy.metadata = { names: [...record.metadata.names], types: [...record.metadata.types] }
  }
  if (record.idempotency) copy.idempotency = { ...record.idempotency }
  return copy
}
