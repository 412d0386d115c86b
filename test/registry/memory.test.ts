/** The in-memory registry: copies in and out, updates, bounded size with eviction callback. */
import { describe, expect, it } from 'vitest'
import { GatewayError } from '../../src/errors.ts'
import { createMemoryRegistry } from '../../src/registry/memory.ts'
import type { QueryRecord, QueryState } from '../../src/registry/types.ts'
import { describeRegistryContract } from './contract.ts'

const record = (id: string, state: QueryState = 'RUNNING'): QueryRecord => ({
  id,
  owner: 'ADMIN',
  project: 'learn_kylin',
  options: { separator: ',', includeHeader: false, fileName: 'result' },
  state,
  rows: 0,
  bytes: 0,
  createdAt: 1,
  updatedAt: 1,
})

describe('createMemoryRegistry', () => {
  it('stores, updates, lists and deletes records', async () => {
    const registry = createMemoryRegistry({ maxRecords: 10 })
    await registry.create(record('a'))
    expect(await registry.get('a')).toEqual(record('a'))
    const updated = await registry.update('a', { state: 'SUCCESSFUL', bytes: 10 })
    expect(updated).toMatchObject({ id: 'a', state: 'SUCCESSFUL', bytes: 10, owner: 'ADMIN' })
    expect(await registry.list()).toHaveLength(1)
    expect(await registry.delete('a')).toBe(true)
    expect(await registry.delete('a')).toBe(false)
    expect(await registry.get('a')).toBeNull()
    expect(await registry.update('a', { state: 'FAILED' })).toBeNull()
  })

  it('never shares mutable state with callers', async () => {
    const registry = createMemoryRegistry({ maxRecords: 10 })
    const original = record('a')
    await registry.create(original)
    original.state = 'FAILED'
    const read = await registry.get('a')
    read!.owner = 'MALLORY'
    expect(await registry.get('a')).toMatchObject({ state: 'RUNNING', owner: 'ADMIN' })
  })

  it('evicts the least recently used finished record past the bound and reports it', async () => {
    const evicted: string[] = []
    const registry = createMemoryRegistry({ maxRecords: 2, onEvict: (r) => evicted.push(r.id) })
    await registry.create(record('a', 'SUCCESSFUL'))
    await registry.create(record('b', 'FAILED'))
    await registry.get('a')
    await registry.create(record('c'))
    expect(evicted).toEqual(['b'])
    expect(await registry.get('b')).toBeNull()
    await registry.delete('a')
    expect(evicted).toEqual(['b'])
  })

  it('never evicts a running record: the least recently used finished one goes', async () => {
    const evicted: string[] = []
    const registry = createMemoryRegistry({ maxRecords: 3, onEvict: (r) => evicted.push(r.id) })
    await registry.create(record('old-running'))
    await registry.create(record('finished', 'SUCCESSFUL'))
    await registry.create(record('new-running'))
    await registry.create(record('next'))
    expect(evicted).toEqual(['finished'])
    expect(await registry.get('old-running')).toMatchObject({ state: 'RUNNING' })
    // Progress and the final state still reach a running record at the bound.
    expect(await registry.update('old-running', { state: 'SUCCESSFUL' })).not.toBeNull()
    await registry.create(record('last'))
    expect(evicted).toEqual(['finished', 'old-running'])
    expect((await registry.list()).map((r) => r.id).sort()).toEqual(['last', 'new-running', 'next'])
  })

  it('refuses a new record with 429 while every record is running, until one finishes', async () => {
    const evicted: string[] = []
    const registry = createMemoryRegistry({ maxRecords: 2, onEvict: (r) => evicted.push(r.id) })
    await registry.create(record('a'))
    await registry.create(record('b'))
    const refusal = await registry.create(record('c')).then(
      () => null,
      (error: unknown) => error,
    )
    expect(refusal).toBeInstanceOf(GatewayError)
    expect(refusal).toMatchObject({ status: 429, errorCode: 'KE-020040002' })
    expect((refusal as GatewayError).headers['Retry-After']).toBe('5')
    expect((refusal as Error).message).toBe(
      'All 2 queries the gateway keeps (MAX_QUERIES) are still running, so no new query can be recorded. Please wait for one to finish and try again.',
    )
    expect(evicted).toEqual([])
    expect(await registry.get('c')).toBeNull()
    expect((await registry.list()).map((r) => r.id).sort()).toEqual(['a', 'b'])

    await registry.update('b', { state: 'FAILED' })
    await registry.create(record('c'))
    expect(evicted).toEqual(['b'])
    expect(await registry.get('a')).toMatchObject({ state: 'RUNNING' })
  })
})

// The contract every registry keeps (test/registry/contract.ts); Redis runs it too.
describeRegistryContract('memory', async (maxRecords) => {
  const evicted: string[] = []
  const registry = createMemoryRegistry({ maxRecords, onEvict: (r) => evicted.push(r.id) })
  return { registry, evicted }
})
