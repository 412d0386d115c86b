/**
 * The shared BlobStore contract suite: every driver (memory, fs, later R2 and S3) runs it.
 * Uses only the BlobStore interface and Web streams, so it runs wherever the driver does.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { BlobStore } from '../../src/store/types.ts'

export interface StoreUnderTest {
  store: BlobStore
  cleanup?: () => Promise<void>
}

/** Deterministic pseudo-random bytes (every value 0–255 occurs), so failures are reproducible. */
export function makeBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length)
  let state = seed >>> 0 || 1
  for (let i = 0; i < length; i++) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    out[i] = state & 0xff
  }
  return out
}

/** Splits `bytes` at uneven points (sizes cycle through `sizes`), as a network stream would. */
export function splitBytes(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = []
  let offset = 0
  for (let i = 0; offset < bytes.byteLength; i++) {
    const size = sizes[i % sizes.length] ?? 1
    chunks.push(bytes.slice(offset, offset + size))
    offset += size
  }
  return chunks
}

/** A pull-based stream over `chunks`, one chunk per pull. */
export function streamOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let index = 0
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = chunks[index++]
        if (chunk) controller.enqueue(chunk)
        else controller.close()
      },
    },
    { highWaterMark: 0 },
  )
}

/** A stream that delivers `chunks`, then fails with `error` instead of ending. */
export function failingStreamOf(
  chunks: readonly Uint8Array[],
  error: Error,
): ReadableStream<Uint8Array> {
  let index = 0
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = chunks[index++]
        if (chunk) controller.enqueue(chunk)
        else controller.error(error)
      },
    },
    { highWaterMark: 0 },
  )
}

/** A stream of `chunks` that records whether it was cancelled. */
export function trackedStreamOf(chunks: readonly Uint8Array[]): {
  stream: ReadableStream<Uint8Array>
  cancelled: () => boolean
} {
  let index = 0
  let wasCancelled = false
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = chunks[index++]
        if (chunk) controller.enqueue(chunk)
        else controller.close()
      },
      cancel() {
        wasCancelled = true
      },
    },
    { highWaterMark: 0 },
  )
  return { stream, cancelled: () => wasCancelled }
}

/** A stream the test drives by hand, recording whether the consumer cancelled it. */
export function controlledStream(): {
  stream: ReadableStream<Uint8Array>
  controller: ReadableStreamDefaultController<Uint8Array>
  cancelled: () => boolean
} {
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined
  let wasCancelled = false
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c
    },
    cancel() {
      wasCancelled = true
    },
  })
  if (!controller) throw new Error('ReadableStream did not call start synchronously')
  return { stream, controller, cancelled: () => wasCancelled }
}

export async function readBytes(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let length = 0
  const reader = stream.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
    length += value.byteLength
  }
  const out = new Uint8Array(length)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}

export async function listKeys(store: BlobStore): Promise<string[]> {
  const keys: string[] = []
  for await (const key of store.list()) keys.push(key)
  return keys.sort()
}

/** Lets pending stream reads and writes run (a few macrotasks, so fs callbacks get a turn). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 5))
}

const encoder = new TextEncoder()
const text = (value: string) => encoder.encode(value)

/** -1 when equal, else the first differing offset (a length mismatch counts as one). */
function firstDifference(actual: Uint8Array, expected: Uint8Array): number {
  const length = Math.min(actual.byteLength, expected.byteLength)
  for (let i = 0; i < length; i++) if (actual[i] !== expected[i]) return i
  return actual.byteLength === expected.byteLength ? -1 : length
}

/** Reports the first differing offset rather than letting vitest diff megabytes of numbers. */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.byteLength).toBe(expected.byteLength)
  expect(firstDifference(actual, expected)).toBe(-1)
}

async function getBytes(store: BlobStore, key: string): Promise<Uint8Array | null> {
  const object = await store.get(key)
  return object ? readBytes(object.body) : null
}

/** Neither get, head nor list knows the key. */
export async function expectAbsent(store: BlobStore, key: string): Promise<void> {
  expect(await store.get(key)).toBeNull()
  expect(await store.head(key)).toBeNull()
  expect(await listKeys(store)).not.toContain(key)
}

const INVALID_KEYS = ['../x', 'a/b', '.', '..', '', 'a\\b', 'k'.repeat(300), '%2e%2e', '.hidden']

export function describeStoreContract(
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
): void {
  describe(`BlobStore contract: ${name}`, () => {
    let store: BlobStore
    let cleanup: (() => Promise<void>) | undefined

    beforeEach(async () => {
      const made = await makeStore()
      store = made.store
      cleanup = made.cleanup
    })

    afterEach(async () => {
      await cleanup?.()
    })

    describe('put and get', () => {
      it('round-trips a single chunk and reports its size', async () => {
        const bytes = text('id,name\n1,ä\n')
        expect(await store.put('single', streamOf([bytes]))).toEqual({ size: bytes.byteLength })
        const object = await store.get('single')
        expect(object?.size).toBe(bytes.byteLength)
        expectSameBytes(await readBytes(object!.body), bytes)
      })

      it('round-trips binary bytes sent in many uneven chunks, empty ones included', async () => {
        const bytes = makeBytes(10_000, 7)
        const chunks = splitBytes(bytes, [1, 0, 3, 255, 1024, 7, 4096])
        expect(await store.put('binary.bin', streamOf(chunks))).toEqual({ size: 10_000 })
        expectSameBytes((await getBytes(store, 'binary.bin'))!, bytes)
      })

      it('round-trips a ~5 MB blob made of many chunks', async () => {
        const bytes = makeBytes(5 * 1024 * 1024 + 123, 42)
        const chunks = splitBytes(bytes, [1000, 16_384, 3, 65_536, 70_001, 512])
        expect(chunks.length).toBeGreaterThan(100)
        expect(await store.put('large', streamOf(chunks))).toEqual({ size: bytes.byteLength })
        expect(await store.head('large')).toEqual({ size: bytes.byteLength })
        expectSameBytes((await getBytes(store, 'large'))!, bytes)
      })

      it('stores an empty blob', async () => {
        expect(await store.put('empty', streamOf([]))).toEqual({ size: 0 })
        expect(await store.head('empty')).toEqual({ size: 0 })
        const object = await store.get('empty')
        expect(object?.size).toBe(0)
        expect((await readBytes(object!.body)).byteLength).toBe(0)
      })

      it('accepts the longest valid key (200 characters)', async () => {
        const key = `q-${'x'.repeat(194)}.csv`
        expect(key).toHaveLength(200)
        await store.put(key, streamOf([text('long')]))
        expect(await getBytes(store, key)).toEqual(text('long'))
        expect(await listKeys(store)).toEqual([key])
      })

      it('replaces the content when a key is overwritten, longer then shorter', async () => {
        await store.put('over', streamOf([text('first version')]))
        await store.put('over', streamOf([text('second, longer version')]))
        expect(await getBytes(store, 'over')).toEqual(text('second, longer version'))
        await store.put('over', streamOf([text('3rd')]))
        expect(await getBytes(store, 'over')).toEqual(text('3rd'))
        expect(await store.head('over')).toEqual({ size: 3 })
        expect(await listKeys(store)).toEqual(['over'])
      })

      it('lets a reader stop early without disturbing the blob', async () => {
        const bytes = makeBytes(300_000, 3)
        await store.put('partial-read', streamOf(splitBytes(bytes, [10_000])))
        const object = await store.get('partial-read')
        const reader = object!.body.getReader()
        const first = await reader.read()
        expect(first.done).toBe(false)
        await reader.cancel()
        expectSameBytes((await getBytes(store, 'partial-read'))!, bytes)
        await store.delete('partial-read')
        await expectAbsent(store, 'partial-read')
      })

      it('runs concurrent puts to different keys', async () => {
        const a = makeBytes(200_000, 11)
        const b = makeBytes(150_000, 12)
        const results = await Promise.all([
          store.put('con-a', streamOf(splitBytes(a, [4096]))),
          store.put('con-b', streamOf(splitBytes(b, [1000]))),
        ])
        expect(results).toEqual([{ size: a.byteLength }, { size: b.byteLength }])
        expectSameBytes((await getBytes(store, 'con-a'))!, a)
        expectSameBytes((await getBytes(store, 'con-b'))!, b)
      })

      it('keeps one whole version when two puts to the same key race', async () => {
        const a = makeBytes(100_000, 21)
        const b = makeBytes(120_000, 22)
        await Promise.all([
          store.put('race', streamOf(splitBytes(a, [3000]))),
          store.put('race', streamOf(splitBytes(b, [5000]))),
        ])
        const stored = (await getBytes(store, 'race'))!
        const same = (x: Uint8Array) => firstDifference(stored, x) === -1
        expect(same(a) || same(b)).toBe(true)
        expect(await listKeys(store)).toEqual(['race'])
      })
    })

    describe('missing keys and delete', () => {
      it('answers null for get and head of a missing key', async () => {
        expect(await store.get('nothing-here')).toBeNull()
        expect(await store.get('nothing-here', { start: 0, end: 0 })).toBeNull()
        expect(await store.head('nothing-here')).toBeNull()
      })

      it('delete removes a blob, and deleting a missing key does not throw', async () => {
        await store.put('doomed', streamOf([text('bye')]))
        await store.put('kept', streamOf([text('stay')]))
        await store.delete('doomed')
        await expectAbsent(store, 'doomed')
        await expect(store.delete('doomed')).resolves.toBeUndefined()
        await expect(store.delete('never-existed')).resolves.toBeUndefined()
        expect(await getBytes(store, 'kept')).toEqual(text('stay'))
      })
    })

    describe('list', () => {
      it('is empty for a new store', async () => {
        expect(await listKeys(store)).toEqual([])
      })

      it('shows complete keys only, never one still being written', async () => {
        await store.put('done-1', streamOf([text('a')]))
        await store.put('done-2.csv', streamOf([text('b')]))
        const writing = controlledStream()
        const pending = store.put('in-progress', writing.stream)
        writing.controller.enqueue(text('half of it'))
        await settle()
        expect(await listKeys(store)).toEqual(['done-1', 'done-2.csv'])
        writing.controller.close()
        await pending
        expect(await listKeys(store)).toEqual(['done-1', 'done-2.csv', 'in-progress'])
      })
    })

    describe('visibility of writes', () => {
      it('does not show a put in progress to get or head, then shows all of it', async () => {
        const writing = controlledStream()
        const pending = store.put('growing', writing.stream)
        writing.controller.enqueue(text('part one, '))
        await settle()
        await expectAbsent(store, 'growing')
        writing.controller.enqueue(text('part two'))
        writing.controller.close()
        expect(await pending).toEqual({ size: 18 })
        expect(await getBytes(store, 'growing')).toEqual(text('part one, part two'))
      })

      it('keeps the old blob readable while an overwrite is in progress', async () => {
        await store.put('old', streamOf([text('old content')]))
        const writing = controlledStream()
        const pending = store.put('old', writing.stream)
        writing.controller.enqueue(text('new'))
        await settle()
        expect(await getBytes(store, 'old')).toEqual(text('old content'))
        writing.controller.close()
        await pending
        expect(await getBytes(store, 'old')).toEqual(text('new'))
      })

      it('rejects a put whose stream errors mid-way and leaves nothing visible', async () => {
        const chunks = splitBytes(makeBytes(50_000, 5), [4096])
        const put = store.put('broken', failingStreamOf(chunks, new Error('upstream went away')))
        await expect(put).rejects.toThrow()
        await expectAbsent(store, 'broken')
      })

      it('leaves an existing blob untouched when an overwrite fails', async () => {
        await store.put('precious', streamOf([text('original')]))
        const put = store.put(
          'precious',
          failingStreamOf([text('replacement that never finishes')], new Error('boom')),
        )
        await expect(put).rejects.toThrow()
        expect(await getBytes(store, 'precious')).toEqual(text('original'))
        expect(await store.head('precious')).toEqual({ size: 8 })
      })

      it('rejects an aborted put, cancels its body and stores nothing', async () => {
        const writing = controlledStream()
        const abort = new AbortController()
        const put = store.put('aborted', writing.stream, { signal: abort.signal })
        writing.controller.enqueue(makeBytes(10_000, 9))
        await settle()
        abort.abort(new Error('client gave up'))
        await expect(put).rejects.toThrow()
        expect(writing.cancelled()).toBe(true)
        await expectAbsent(store, 'aborted')
      })

      it('rejects a put whose signal is already aborted', async () => {
        const put = store.put('too-late', streamOf([text('x')]), { signal: AbortSignal.abort() })
        await expect(put).rejects.toThrow()
        await expectAbsent(store, 'too-late')
      })

      it('leaves an existing blob untouched when an overwrite is aborted', async () => {
        await store.put('guarded', streamOf([text('keep me')]))
        const writing = controlledStream()
        const abort = new AbortController()
        const put = store.put('guarded', writing.stream, { signal: abort.signal })
        writing.controller.enqueue(text('intruder'))
        await settle()
        abort.abort()
        await expect(put).rejects.toThrow()
        expect(await getBytes(store, 'guarded')).toEqual(text('keep me'))
      })
    })

    describe('ranges', () => {
      // 1000 bytes in chunks of 300 / 7 / 450 / ..., so ranges cross chunk boundaries.
      const bytes = makeBytes(1000, 99)
      const size = bytes.byteLength

      beforeEach(async () => {
        await store.put('ranged', streamOf(splitBytes(bytes, [300, 7, 450, 1, 242])))
      })

      async function readRange(start: number, end: number) {
        const object = await store.get('ranged', { start, end })
        expect(object).not.toBeNull()
        return { size: object!.size, body: await readBytes(object!.body) }
      }

      it.each([
        ['the first byte', 0, 0],
        ['a middle slice across chunk boundaries', 250, 760],
        ['a slice inside one chunk', 310, 320],
        ['a slice ending on a chunk boundary', 300, 306],
        ['the last byte', size - 1, size - 1],
        ['the whole blob', 0, size - 1],
      ])('returns %s with the total size', async (_label, start, end) => {
        const result = await readRange(start, end)
        expect(result.size).toBe(size)
        expectSameBytes(result.body, bytes.slice(start, end + 1))
      })

      it('clamps an end past the last byte', async () => {
        const result = await readRange(990, size + 50)
        expect(result.size).toBe(size)
        expectSameBytes(result.body, bytes.slice(990))
      })

      it('answers an empty body with the size for a range starting at or past the end', async () => {
        await store.put('empty', streamOf([]))
        await store.put('five', streamOf([new Uint8Array([1, 2, 3, 4, 5])]))
        for (const [key, start, end, blobSize] of [
          ['empty', 0, 0, 0],
          ['empty', 0, 100, 0],
          ['five', 5, 9, 5],
          ['five', 3, 2, 5],
        ] as const) {
          const object = await store.get(key, { start, end })
          expect(object?.size).toBe(blobSize)
          expect((await readBytes(object!.body)).byteLength).toBe(0)
        }
        const open = await store.get('five', { start: 2, end: Number.POSITIVE_INFINITY })
        expect(await readBytes(open!.body)).toEqual(new Uint8Array([3, 4, 5]))
        expect(await store.get('missing', { start: 3, end: 1 })).toBeNull()
      })
    })

    describe('keys', () => {
      it.each(INVALID_KEYS.map((key) => [JSON.stringify(key.slice(0, 20)), key]))(
        'rejects the invalid key %s in every method',
        async (_label, key) => {
          const invalid = /Invalid store key/
          const body = controlledStream()
          await expect(store.put(key, body.stream)).rejects.toThrow(invalid)
          expect(body.cancelled()).toBe(true)
          await expect(store.get(key)).rejects.toThrow(invalid)
          await expect(store.get(key, { start: 0, end: 0 })).rejects.toThrow(invalid)
          await expect(store.head(key)).rejects.toThrow(invalid)
          await expect(store.delete(key)).rejects.toThrow(invalid)
          expect(() => store.locate(key)).toThrow(invalid)
          expect(await listKeys(store)).toEqual([])
        },
      )

      it('locates a key with a string that contains it', async () => {
        await store.put('located.csv', streamOf([text('here')]))
        const where = store.locate('located.csv')
        expect(typeof where).toBe('string')
        expect(where).toContain('located.csv')
      })

      it('has a driver name', () => {
        expect(store.name).toMatch(/^[a-z0-9-]+$/)
      })
    })
  })
}
