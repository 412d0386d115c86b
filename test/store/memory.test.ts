/** The memory BlobStore: the shared contract plus its byte-bounded LRU eviction. Portable. */
import { describe, expect, it } from 'vitest'
import { createMemoryStore } from '../../src/store/memory.ts'
import {
  controlledStream,
  describeStoreContract,
  listKeys,
  makeBytes,
  readBytes,
  streamOf,
} from './contract.ts'

describeStoreContract('memory', async () => ({ store: createMemoryStore({ maxBytes: 64 << 20 }) }))

describe('memory store', () => {
  it('is named memory and locates keys as memory:// URLs', () => {
    const store = createMemoryStore({ maxBytes: 1024 })
    expect(store.name).toBe('memory')
    expect(store.locate('q-1.csv')).toBe('memory://q-1.csv')
  })

  it('refuses a capacity that is not a positive integer', () => {
    for (const maxBytes of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => createMemoryStore({ maxBytes })).toThrow(/maxBytes/)
    }
  })

  it('evicts the least recently used blob once the bytes exceed maxBytes', async () => {
    const store = createMemoryStore({ maxBytes: 100 })
    await store.put('a', streamOf([makeBytes(40, 1)]))
    await store.put('b', streamOf([makeBytes(40, 2)]))
    // Reading a makes b the least recently used.
    await readBytes((await store.get('a'))!.body)
    await store.put('c', streamOf([makeBytes(20, 3), makeBytes(20, 4)]))
    expect(await store.head('b')).toBeNull()
    expect(await store.head('a')).toEqual({ size: 40 })
    expect(await store.head('c')).toEqual({ size: 40 })
    expect(await listKeys(store)).toEqual(['a', 'c'])
  })

  it('does not count head as a use when choosing what to evict', async () => {
    const store = createMemoryStore({ maxBytes: 100 })
    await store.put('a', streamOf([makeBytes(50, 1)]))
    await store.put('b', streamOf([makeBytes(50, 2)]))
    await store.head('a')
    await store.put('c', streamOf([makeBytes(50, 3)]))
    expect(await listKeys(store)).toEqual(['b', 'c'])
  })

  it('rejects a blob larger than maxBytes, without reading the rest of it', async () => {
    const store = createMemoryStore({ maxBytes: 100 })
    await store.put('big', streamOf([makeBytes(10, 1)]))
    let pulls = 0
    let cancelled = false
    const endless = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulls++
          controller.enqueue(makeBytes(30, pulls))
        },
        cancel() {
          cancelled = true
        },
      },
      { highWaterMark: 0 },
    )
    await expect(store.put('big', endless)).rejects.toThrow(
      /\[memory\] blob big is larger than the store capacity of 100 bytes/,
    )
    expect(pulls).toBeLessThan(10)
    expect(cancelled).toBe(true)
    // The failed overwrite leaves the earlier blob in place.
    expect(await store.head('big')).toEqual({ size: 10 })
  })

  it('accepts a blob of exactly maxBytes, evicting everything else', async () => {
    const store = createMemoryStore({ maxBytes: 100 })
    await store.put('small', streamOf([makeBytes(10, 1)]))
    await store.put('full', streamOf([makeBytes(60, 2), makeBytes(40, 3)]))
    expect(await listKeys(store)).toEqual(['full'])
  })

  it('keeps its own copy of the bytes a producer hands over', async () => {
    const store = createMemoryStore({ maxBytes: 1024 })
    const reused = new Uint8Array([1, 2, 3])
    const writing = controlledStream()
    const put = store.put('copied', writing.stream)
    writing.controller.enqueue(reused)
    writing.controller.close()
    await put
    reused.fill(0)
    expect(await readBytes((await store.get('copied'))!.body)).toEqual(new Uint8Array([1, 2, 3]))
  })

  it('keeps serving a blob to a reader that started before it was overwritten', async () => {
    const store = createMemoryStore({ maxBytes: 1024 })
    await store.put('snap', streamOf([new Uint8Array([1]), new Uint8Array([2])]))
    const object = await store.get('snap')
    await store.put('snap', streamOf([new Uint8Array([9, 9, 9])]))
    expect(await readBytes(object!.body)).toEqual(new Uint8Array([1, 2]))
  })
})
