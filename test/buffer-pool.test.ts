/** The buffers kept for reuse: one size, at most `keep` of them, others ignored. Portable. */
import { describe, expect, it } from 'vitest'
import { BufferPool } from '../src/buffer-pool.ts'

describe('buffer-pool', () => {
  it('answers a buffer given back before making a new one', () => {
    const pool = new BufferPool(16, 2)
    const first = pool.take()
    expect(first.byteLength).toBe(16)
    pool.give(first.subarray(3, 5))
    expect(pool.take().buffer).toBe(first.buffer)
    expect(pool.take().buffer).not.toBe(first.buffer)
  })

  it('keeps at most `keep` buffers, and none of another size', () => {
    const pool = new BufferPool(16, 2)
    const taken = [pool.take(), pool.take(), pool.take()]
    pool.give(new Uint8Array(32))
    for (const buffer of taken) pool.give(buffer)
    const again = [pool.take(), pool.take(), pool.take()].map((b) => b.buffer)
    expect(again.filter((buffer) => taken.some((t) => t.buffer === buffer))).toHaveLength(2)
  })
})
