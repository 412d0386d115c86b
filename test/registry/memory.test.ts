/** The in-memory registry: copies in and out, updates, bounded size with eviction callback. */
import { describe, expect, it } from 'vitest'
import { createMemoryRegistry } from '../../src/registry/memory.ts'
import type { QueryRecord } from '../../src/registry/types.ts'

const record = (id: string): QueryRecord => ({
  id,
  owner: 'ADMIN',
  project: 'learn_kylin',
  options: { separator: ',', includeHeader: false, fileName: 'result' },
  state: 'RUNNING',
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

  it('evicts the least recently used record past the bound and reports it', async () => {
    const evicted: string[] = []
    const registry = createMemoryRegistry({ maxRecords: 2, onEvict: (r) => evicted.push(r.id) })
    await registry.create(record('a'))
    await registry.create(record('b'))
    await registry.get('a')
    await registry.create(record('c'))
    expect(evicted).toEqual(['b'])
    expect(await registry.get('b')).toBeNull()
    await registry.delete('a')
    expect(evicted).toEqual(['b'])
  })
})
