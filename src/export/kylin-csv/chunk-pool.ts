/**
 * Output chunks lent to the consumer and given back once it has written them, so a long export
 * fills the same few buffers again and again instead of leaving a fresh one per chunk for the
 * collector (~80 MB of them in a 1M-row CSV, which grew the malloc heap by ~35 MiB before a
 * collection freed them; README, Performance). Hand-written for that measured need. Portable.
 */
import { BufferPool } from '../../buffer-pool.ts'
import { OUT_SIZE } from './constants.ts'

/**
 * Lent buffers of every export of this process, each the size of the transcoder's output
 * buffer: enough for a few exports' queues and store batches (~30 chunks each) to lend without
 * allocating.
 */
const shared = new BufferPool(OUT_SIZE, 128)

/** One transcoder's lending: it takes back only what it lent, and each chunk once. */
export class ChunkPool {
  /** Buffers out with the consumer. */
  private readonly lent = new WeakSet<ArrayBufferLike>()

  constructor(private readonly pool: BufferPool = shared) {}

  /** A copy of `bytes` (at most OUT_SIZE, a whole output buffer) in a buffer of the pool's. */
  lend(bytes: Uint8Array): Uint8Array {
    const buffer = this.pool.take()
    buffer.set(bytes)
    this.lent.add(buffer.buffer)
    return buffer.subarray(0, bytes.length)
  }

  /** Takes back a chunk `lend` made, which its consumer will no longer read; ignores any other. */
  giveBack(chunk: Uint8Array): void {
    if (this.lent.delete(chunk.buffer)) this.pool.give(chunk)
  }
}
