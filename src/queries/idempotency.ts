/**
 * Idempotency-Key on submit: the same key and request from the same user get the same query.
 * Portable. Keys are remembered in a bounded cache; a miss asks the registry (after a restart).
 */
import { LRUCache } from 'lru-cache'
import type { QueryRecord, ResultOptions, UpstreamQuery } from '../domain/query.ts'
import type { Registry } from '../registry/types.ts'
import { sha256Hex } from '../sha256.ts'

export interface IdempotencyKeys {
  /** The query an owner submitted earlier under `key`, or `null`. */
  find(owner: string, key: string): Promise<QueryRecord | null>
  remember(owner: string, key: string, id: string): void
}

export function createIdempotencyKeys(registry: Registry, max: number): IdempotencyKeys {
  /** owner + key → query id. */
  const keys = new LRUCache<string, string>({ max })
  const toEntry = (owner: string, key: string) => `${owner}\n${key}`
  return {
    async find(owner, key) {
      const id = keys.get(toEntry(owner, key))
      if (id) {
        const record = await registry.get(id)
        if (record) return record
      }
      const records = await registry.list()
      const found = records.find((r) => r.owner === owner && r.idempotency?.key === key) ?? null
      if (found) keys.set(toEntry(owner, key), found.id)
      return found
    },
    remember(owner, key, id) {
      keys.set(toEntry(owner, key), id)
    },
  }
}

/** What makes two submits the same request: the query and how its result is written. */
export function hashRequest(query: UpstreamQuery, options: ResultOptions): Promise<string> {
  return sha256Hex(JSON.stringify([query, options]))
}
