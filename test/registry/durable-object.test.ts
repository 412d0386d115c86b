/**
 * The registry over one Durable Object per query, with in-memory stand-ins for the objects: what
 * it asks of them. workerd itself runs it in the conformance suite (test/conformance/workerd).
 */
import { describe, expect, it } from 'vitest'
import type { QueryRecord } from '../../src/domain/query.ts'
import {
  createDurableObjectRegistry,
  type QueryObjectApi,
} from '../../src/registry/durable-object.ts'
import { createListIndex, type IndexStorage } from '../../src/registry/list-index.ts'
import { createMemoryStore } from '../../src/store/memory.ts'
import { describeLookupContract } from './contract.ts'

/** Durable Object storage's ordered listing, over a Map: prefix, exclusive end, reverse, limit. */
function toIndexStorage(own: Map<string, unknown>): IndexStorage {
  return {
    put: async (key, value) => void own.set(key, structuredClone(value)),
    delete: async (key) => own.delete(key),
    list: async ({ prefix, end, reverse, limit }) => {
      const keys = [...own.keys()]
        .filter((key) => key.startsWith(prefix) && (end === undefined || key < end))
        .sort()
      if (reverse) keys.reverse()
      return new Map(keys.slice(0, limit).map((key) => [key, structuredClone(own.get(key))]))
    },
  }
}

/** Objects by name, each with its own storage, as a namespace gives them out. */
function createObjects() {
  const storage = new Map<string, Map<string, unknown>>()
  const calls: string[] = []
  const objects = (name: string): QueryObjectApi => {
    const own = storage.get(name) ?? new Map<string, unknown>()
    storage.set(name, own)
    const read = async () => (own.get('record') as QueryRecord | undefined) ?? null
    const index = createListIndex(toIndexStorage(own))
    return {
      create: async (record) => void own.set('record', structuredClone(record)),
      read: async () => structuredClone(await read()),
      update: async (patch) => {
        const record = await read()
        if (!record || record.state !== 'RUNNING') return null
        const next = { ...record, ...patch }
        own.set('record', next)
        return structuredClone(next)
      },
      updateShadow: async (shadow) => {
        const record = await read()
        if (!record) return null
        const next = { ...record, shadow }
        own.set('record', next)
        return structuredClone(next)
      },
      remove: async () => own.delete('record'),
      // Never answers on its own: the abort below must.
      waitForChange: () => new Promise<QueryRecord | null>(() => {}),
      start: async () => {},
      abort: async () => false,
      follow: async () => null,
      pointTo: async (id) => void own.set('pointer', id),
      pointer: async () => (own.get('pointer') as string | undefined) ?? null,
      dropPointer: async (id) => {
        if (own.get('pointer') === id) own.delete('pointer')
      },
      listPut: (summary) => index.put(summary),
      listDrop: (position) => index.drop(position),
      listPage: async (query) => {
        calls.push(`listPage ${name}`)
        return index.page(query)
      },
    }
  }
  return { objects, storage, calls }
}

describeLookupContract('durable-object', async () =>
  createDurableObjectRegistry({
    objects: createObjects().objects,
    store: createMemoryStore({ maxBytes: 1024 }),
  }),
)

const record = (id: string, owner: string, key?: string): QueryRecord => ({
  id,
  owner,
  project: 'p',
  options: { separator: ',', includeHeader: false, fileName: 'result' },
  state: 'RUNNING',
  rows: 0,
  bytes: 0,
  createdAt: 1,
  updatedAt: 1,
  ...(key ? { idempotency: { key, requestHash: 'h' } } : {}),
})

describe('registry/durable-object', () => {
  it('finds a query by owner and Idempotency-Key through one index object, not a listing', async () => {
    const { objects, storage } = createObjects()
    const registry = createDurableObjectRegistry({
      objects,
      store: createMemoryStore({ maxBytes: 1024 }),
    })
    await registry.create(record('a', 'ANALYST', 'nightly'))
    await registry.create(record('b', 'MODELER', 'nightly'))
    // Records, one index object per keyed record, and the list objects (each owner's, all).
    expect(storage.size).toBe(7)
    expect((await registry.findByIdempotencyKey('ANALYST', 'nightly'))?.id).toBe('a')
    expect((await registry.findByIdempotencyKey('MODELER', 'nightly'))?.id).toBe('b')
    expect(await registry.findByIdempotencyKey('ANALYST', 'other')).toBeNull()
    expect(await registry.delete('a')).toBe(true)
    expect(await registry.findByIdempotencyKey('ANALYST', 'nightly')).toBeNull()
  })

  it('ignores an index entry whose record went away or changed hands', async () => {
    const { objects } = createObjects()
    const registry = createDurableObjectRegistry({
      objects,
      store: createMemoryStore({ maxBytes: 1024 }),
    })
    await registry.create(record('a', 'ANALYST', 'k'))
    await objects('a').remove()
    expect(await registry.findByIdempotencyKey('ANALYST', 'k')).toBeNull()
  })

  it('reads a page from one list object, with live progress of its running queries', async () => {
    const { objects, calls } = createObjects()
    const registry = createDurableObjectRegistry({
      objects,
      store: createMemoryStore({ maxBytes: 1024 }),
    })
    await registry.create(record('a', 'ANALYST'))
    await registry.create(record('b', 'ANALYST'))
    await registry.update('a', { rows: 42, bytes: 420 })
    const page = await registry.listPage({ owner: 'ANALYST', limit: 10 })
    expect(calls).toEqual(['listPage list:"ANALYST"'])
    expect(page.queries.find((q) => q.id === 'a')).toMatchObject({ rows: 42, bytes: 420 })
    // An end the index did not hear of (the record changed in its object alone) shows, and heals.
    await objects('b').update({ state: 'FAILED', finishedAt: 5 })
    const failed = await registry.listPage({ owner: 'ANALYST', limit: 10, state: 'RUNNING' })
    expect(failed.queries.map((q) => q.id)).toEqual(['a'])
    const all = await registry.listPage({ limit: 10, state: 'FAILED' })
    expect(all.queries.map((q) => q.id)).toEqual(['b'])
    // A record gone from its object leaves the list.
    await objects('a').remove()
    expect((await registry.listPage({ owner: 'ANALYST', limit: 10 })).queries).toEqual([
      expect.objectContaining({ id: 'b', state: 'FAILED' }),
    ])
  })

  it("answers a wait at once when the caller's signal aborts, with the record as it is", async () => {
    const { objects } = createObjects()
    const registry = createDurableObjectRegistry({
      objects,
      store: createMemoryStore({ maxBytes: 1024 }),
    })
    await registry.create(record('w', 'ANALYST'))
    const controller = new AbortController()
    const waiting = registry.waitForChange!('w', 0, 60_000, controller.signal)
    controller.abort()
    expect(await waiting).toMatchObject({ id: 'w', state: 'RUNNING' })
  })
})
