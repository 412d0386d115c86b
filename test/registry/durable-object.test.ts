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
import { createMemoryStore } from '../../src/store/memory.ts'

/** Objects by name, each with its own storage, as a namespace gives them out. */
function createObjects() {
  const storage = new Map<string, Map<string, unknown>>()
  const objects = (name: string): QueryObjectApi => {
    const own = storage.get(name) ?? new Map<string, unknown>()
    storage.set(name, own)
    const read = async () => (own.get('record') as QueryRecord | undefined) ?? null
    return {
      create: async (record) => void own.set('record', record),
      read,
      update: async (patch) => {
        const record = await read()
        if (!record) return null
        const next = { ...record, ...patch }
        own.set('record', next)
        return next
      },
      remove: async () => own.delete('record'),
      // Never answers on its own: the abort below must.
      waitForChange: () => new Promise<QueryRecord | null>(() => {}),
      start: async () => {},
      abort: async () => false,
      pointTo: async (id) => void own.set('pointer', id),
      pointer: async () => (own.get('pointer') as string | undefined) ?? null,
      dropPointer: async (id) => {
        if (own.get('pointer') === id) own.delete('pointer')
      },
    }
  }
  return { objects, storage }
}

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
    // Records, plus one index object per keyed record.
    expect(storage.size).toBe(4)
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
