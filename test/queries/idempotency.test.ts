/** Idempotency-Key look-ups: by owner and key, from the cache or, on a miss, the registry. */
import { describe, expect, it } from 'vitest'
import type { QueryRecord } from '../../src/domain/query.ts'
import { createIdempotencyKeys, hashRequest } from '../../src/queries/idempotency.ts'
import { createMemoryRegistry } from '../../src/registry/memory.ts'

const options = { separator: ',', includeHeader: false, fileName: 'result' }
const query = { sql: 'select 1', project: 'p', offset: 0, limit: 0, acceptPartial: false }

function toRecord(id: string, owner: string, key?: string): QueryRecord {
  return {
    id,
    owner,
    project: 'p',
    options,
    state: 'RUNNING',
    rows: 0,
    bytes: 0,
    createdAt: 1,
    updatedAt: 1,
    ...(key ? { idempotency: { key, requestHash: 'h' } } : {}),
  }
}

describe('queries/idempotency', () => {
  it('finds a query by its owner and key in the registry, and no other user’s', async () => {
    const registry = createMemoryRegistry({ maxRecords: 10 })
    await registry.create(toRecord('a', 'ANALYST', 'k1'))
    const keys = createIdempotencyKeys(registry, 10)
    expect((await keys.find('ANALYST', 'k1'))?.id).toBe('a')
    expect(await keys.find('MODELER', 'k1')).toBeNull()
    expect(await keys.find('ANALYST', 'k2')).toBeNull()
  })

  it('remembers a key it was told, and forgets it once the query is gone', async () => {
    const registry = createMemoryRegistry({ maxRecords: 10 })
    await registry.create(toRecord('b', 'ANALYST'))
    const keys = createIdempotencyKeys(registry, 10)
    keys.remember('ANALYST', 'k', 'b')
    expect((await keys.find('ANALYST', 'k'))?.id).toBe('b')
    await registry.delete('b')
    expect(await keys.find('ANALYST', 'k')).toBeNull()
  })

  it('hashes the query and its result options, so any difference is another request', async () => {
    const same = await hashRequest(query, options)
    expect(await hashRequest({ ...query }, { ...options })).toBe(same)
    expect(await hashRequest({ ...query, limit: 1 }, options)).not.toBe(same)
    expect(await hashRequest(query, { ...options, separator: ';' })).not.toBe(same)
  })
})
