/**
 * Pooled output chunks: a buffer comes back only when its last holder recycles it, never when it
 * was kept elsewhere, and the pool holds no more than it may; through the fs store, a producer that
 * refills every buffer it gets back still leaves every byte it wrote on disk. Node (the fs store).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ChunkPool, keepChunk, recycleChunk } from '../../src/store/chunk-pool.ts'
import { createFsStore } from '../../src/store/fs.ts'

describe('store/chunk-pool', () => {
  it('gives a recycled buffer out again, and a new one otherwise', () => {
    const pool = new ChunkPool(1024, 2)
    const first = pool.take()
    const second = pool.take()
    expect(first.buffer).not.toBe(second.buffer)
    recycleChunk(first)
    expect(pool.take().buffer).toBe(first.buffer)
    expect(pool.take().buffer).not.toBe(second.buffer)
  })

  it('never gives back a chunk that is kept elsewhere, or recycled twice', () => {
    const pool = new ChunkPool(1024, 4)
    const kept = pool.take()
    keepChunk(kept)
    recycleChunk(kept)
    expect(pool.take().buffer).not.toBe(kept.buffer)
    const twice = pool.take()
    recycleChunk(twice)
    recycleChunk(twice)
    expect(pool.take().buffer).toBe(twice.buffer)
    expect(pool.take().buffer).not.toBe(twice.buffer)
  })

  it('keeps at most as many unused buffers as it was told, and ignores chunks of no pool', () => {
    const pool = new ChunkPool(16, 1)
    const [a, b] = [pool.take(), pool.take()]
    recycleChunk(a)
    recycleChunk(b)
    recycleChunk(new Uint8Array(16))
    expect(pool.take().buffer).toBe(a.buffer)
    expect(pool.take().buffer).not.toBe(b.buffer)
  })

  describe('through the fs store', () => {
    let dir: string
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'kylin-gateway-chunk-pool-'))
    })
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true })
    })

    it.each([
      // Written whole: each comes back once its write is done, so most takes reuse one.
      ['whole 1 MiB chunks', 1024 * 1024, 20],
      // Joined into 1 MiB batches: all come back at the copy, the pool keeps two of them.
      ['chunks joined into batches', 96 * 1024, 1],
    ])(
      'writes every byte though each buffer is refilled once it comes back (%s)',
      async (_, size, reuses) => {
        const store = createFsStore({ dir })
        const pool = new ChunkPool(size, 2)
        const count = 40
        let made = 0
        let reused = 0
        const seen = new Set<ArrayBufferLike>()
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (made === count) return controller.close()
            const chunk = pool.take()
            if (seen.has(chunk.buffer)) reused++
            seen.add(chunk.buffer)
            chunk.fill(made++ % 251)
            controller.enqueue(chunk)
          },
        })
        const { size: written } = await store.put('result.csv', body)
        expect(written).toBe(count * size)
        const file = await readFile(join(dir, 'result.csv'))
        for (let i = 0; i < count; i++) {
          const part = file.subarray(i * size, (i + 1) * size)
          expect(
            part.every((b) => b === i % 251),
            `chunk ${i}`,
          ).toBe(true)
        }
        expect(reused).toBeGreaterThanOrEqual(reuses)
      },
    )
  })
})
