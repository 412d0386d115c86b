/**
 * In-process BlobStore: blobs held as chunk lists in an lru-cache bounded by total bytes.
 * Portable (Web streams only, no node:*). Lost on restart: for tests and single instances.
 */
import { LRUCache } from 'lru-cache'
import type { BlobInfo, BlobObject, BlobStore, ByteRange, PutOptions } from './types.ts'
import { assertKey, checkPut, readChunks } from './streams.ts'

export interface MemoryStoreOptions {
  /** Upper bound on the stored bytes; least recently used blobs are evicted to stay under it. */
  maxBytes: number
}

interface MemoryEntry {
  /** Never mutated after insertion, so a reader keeps a consistent snapshot across overwrites. */
  readonly chunks: readonly Uint8Array[]
  readonly size: number
}

const DRIVER = 'memory'

export function createMemoryStore(options: MemoryStoreOptions): BlobStore {
  const { maxBytes } = options
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
    throw new Error(`[${DRIVER}] maxBytes must be a positive integer, got ${String(maxBytes)}`)
  }
  const cache = new LRUCache<string, MemoryEntry>({
    maxSize: maxBytes,
    // lru-cache insists on a positive size, so an empty blob is charged one byte.
    sizeCalculation: (entry) => Math.max(1, entry.size),
  })

  return {
    name: DRIVER,

    // Process memory always takes a write, and a probe blob in a full cache would evict a result.
    async probe() {},

    async put(key: string, body: ReadableStream<Uint8Array>, putOptions?: PutOptions) {
      const signal = putOptions?.signal
      checkPut(body, signal, () => assertKey(key))
      const chunks: Uint8Array[] = []
      let size = 0
      for await (const chunk of readChunks(body, signal, DRIVER)) {
        size += chunk.byteLength
        // Fail as soon as the blob cannot fit: lru-cache would otherwise drop it silently, and
        // holding the rest of an oversize stream in memory is exactly what the bound prevents.
        if (size > maxBytes) {
          throw new Error(
            `[${DRIVER}] blob ${key} is larger than the store capacity of ${maxBytes} bytes`,
          )
        }
        // Copy (not Buffer#slice, which is a view): the producer may reuse its buffer, and a small
        // view could pin a large pool that the byte accounting would not see.
        if (chunk.byteLength > 0) chunks.push(new Uint8Array(chunk))
      }
      signal?.throwIfAborted()
      cache.set(key, { chunks, size })
      return { size }
    },

    async get(key: string, range?: ByteRange): Promise<BlobObject | null> {
      assertKey(key)
      const entry = cache.get(key)
      if (!entry) return null
      return { size: entry.size, body: toStream(sliceChunks(entry, range)) }
    },

    async head(key: string): Promise<BlobInfo | null> {
      assertKey(key)
      // peek: asking for the size is not a use, so it does not save a blob from eviction.
      const entry = cache.peek(key)
      return entry ? { size: entry.size } : null
    },

    async delete(key: string): Promise<void> {
      assertKey(key)
      cache.delete(key)
    },

    async *list(): AsyncIterable<string> {
      // Snapshot first: the cache may change while the caller awaits between keys.
      const keys = [...cache.keys()]
      yield* keys
    },

    locate(key: string): string {
      assertKey(key)
      return `memory://${key}`
    },
  }
}

/** The views of `entry` that cover `range`; views, not copies, since entries are immutable. */
function sliceChunks(entry: MemoryEntry, range: ByteRange | undefined): Uint8Array[] {
  if (!range) return [...entry.chunks]
  const start = Math.max(0, range.start)
  const end = Math.min(range.end, entry.size - 1)
  const views: Uint8Array[] = []
  let offset = 0
  for (const chunk of entry.chunks) {
    const chunkEnd = offset + chunk.byteLength
    if (chunkEnd > start && offset <= end) {
      views.push(
        chunk.subarray(Math.max(0, start - offset), Math.min(chunk.byteLength, end + 1 - offset)),
      )
    }
    if (chunkEnd > end) break
    offset = chunkEnd
  }
  return views
}

function toStream(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let index = 0
  // Pull-based: one chunk per read, so a slow consumer does not get everything queued at once.
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
