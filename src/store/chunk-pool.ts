/**
 * Output buffers an export fills, hands on to a store and gets back once their bytes are kept: a fresh
 * 1 MiB buffer costs page faults, and V8 counts it as external memory, 64 MiB of which bring on a
 * full collection (measured: a 1M-row export allocated ~180 MiB so). A chunk comes back only when
 * its last holder calls `recycleChunk` (the fs store, once its write is done); one that is also
 * kept elsewhere is first given up with `keepChunk`; any other chunk is left to the GC as before.
 * Portable.
 */

const owners = new WeakMap<ArrayBufferLike, ChunkPool>()

export class ChunkPool {
  private readonly free: Uint8Array[] = []

  /** Buffers of `size` bytes, at most `keep` of them held while unused. */
  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {}

  /** A buffer of `size` bytes: one given back, or a new one. */
  take(): Uint8Array {
    const buffer = this.free.pop() ?? new Uint8Array(this.size)
    owners.set(buffer.buffer, this)
    return buffer
  }

  give(buffer: ArrayBufferLike): void {
    if (this.free.length < this.keep) this.free.push(new Uint8Array(buffer))
  }
}

/** Its holder is done with the chunk's bytes: a pool's buffer goes back to be filled again. */
export function recycleChunk(chunk: Uint8Array): void {
  const pool = owners.get(chunk.buffer)
  if (pool === undefined) return
  owners.delete(chunk.buffer)
  pool.give(chunk.buffer)
}

/** The chunk is kept beyond its last holder (a follower's queue): it never goes back. */
export function keepChunk(chunk: Uint8Array): void {
  owners.delete(chunk.buffer)
}
