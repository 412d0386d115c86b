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
  // as they would not with a remote one.
  return {
    async create(record) {
      records.set(record.id, structuredClone(record))
    },
    async get(id) {
      const record = records.get(id)
      return record ? structuredClone(record) : null
    },
    async update(id, patch) {
      const record = records.get(id, { updateAgeOnGet: false })
      if (!record) return null
      const next = { ...record, ...structuredClone(patch), id }
      records.set(id, next, { noUpdateTTL: true })
      return structuredClone(next)
    },
    async delete(id) {
      return records.delete(id)
    },
    async list() {
      return [...records.values()].map((record) => structuredClone(record))
    },
  }
}
