/**
 * The kernel's fast path through WebAssembly (wasm/, SIMD) where it was chosen and can be had,
 * else the JS one (fast-rows.ts): the same rows, bytes and fallbacks to the row machine. The
 * output buffer is then a view of the instance's memory, which the row machine writes too, and
 * what leaves the transcoder is copied out of it, into batches of up to 1 MiB: as many bytes are
 * copied as a copy per flush would take, and whoever takes the chunks (hashing, the store, the
 * stream between) handles a sixteenth as many. Portable.
 */
import { toKylinCsvKernel } from './kernel-choice.ts'
import { ChunkPool } from '../../store/chunk-pool.ts'
import { FastRows } from './fast-rows.ts'
import type { TranscodeOptions } from './output.ts'
import { ST_CUT, ST_END, ST_ROOM, createRowsKernel, type RowsKernel } from './wasm/rows-kernel.ts'

/** The largest batch handed on; the first ones are smaller, so a short result stays small. */
const BATCH_BYTES = 1024 * 1024

export class WasmRows extends FastRows {
  private readonly kernel: RowsKernel | null
  /** Output copied out of the instance and not yet handed on; null until needed. */
  private batch: Uint8Array | null = null
  private batchPos = 0
  /** Full-size batches, given back once stored (chunk-pool.ts). */
  private readonly batches = new ChunkPool(BATCH_BYTES, 4)

  constructor(options: TranscodeOptions, enqueue: (chunk: Uint8Array) => void) {
    super(options, enqueue)
    this.kernel = toKylinCsvKernel(options.kernel) === 'wasm' ? createRowsKernel(this.sep) : null
    if (this.kernel !== null) this.out = this.kernel.output
  }

  /** Which fast path this transcoder takes. */
  get kernelKind(): 'js' | 'wasm' {
    return this.kernel === null ? 'js' : 'wasm'
  }

  /**
   * As FastRows#fastRows: whole rows from `from`, entered between rows; returns the index
   * reached, a row boundary, with `slowRow` set where the row machine must read the next row.
   * The chunk goes into the instance window by window; a row cut by a window's end (not the
   * chunk's) is read again from the next window.
   */
  protected override fastRows(buf: Uint8Array, from: number, end: number): number {
    const kernel = this.kernel
    if (kernel === null) return super.fastRows(buf, from, end)
    // A buffer grown for a large cell goes out; the kernel's own comes back.
    if (this.out !== kernel.output) this.flush()
    const { input, result } = kernel
    let j = from
    while (j < end) {
      const length = Math.min(end - j, input.length)
      input.set(buf.subarray(j, j + length))
      let at = 0
      let status: number
      for (;;) {
        const pos = this.pos
        at = kernel.rows(length, at, pos, this.state)
        this.pos = result[0]!
        this.state = result[1]!
        this.rows += result[2]!
        status = result[3]!
        if (status !== ST_ROOM) break
        // The output is full: flush and go on, unless a whole empty buffer took no row.
        if (pos === 0 && result[2] === 0) {
          this.slowRow = true
          return j + at
        }
        this.flush()
      }
      if (status === ST_END) {
        j += length
        continue
      }
      // A row cut by the chunk's end, longer than a window, or not for the fast path.
      if (status !== ST_CUT || j + length === end || at === 0) {
        this.slowRow = true
        return j + at
      }
      j += at
    }
    return end
  }

  /**
   * Copies the output into the batch, handed on when full; the kernel's buffer stays. A buffer
   * grown for a large cell, or output held back for a late header, goes on as it is.
   */
  protected override flush(): void {
    const kernel = this.kernel
    if (kernel === null) return super.flush()
    const { out, pos } = this
    this.out = kernel.output
    this.pos = 0
    if (pos === 0) return
    if (out !== kernel.output || this.held !== null) return this.emit(out.subarray(0, pos))
    // Batches are filled to the brim (a chunk may end inside a row or a character, as any
    // chunk of a stream may), so each one is a whole buffer that can move between threads.
    let from = 0
    while (from < pos) {
      // Each batch as large as the output so far, from the kernel's window up to BATCH_BYTES.
      const size = Math.min(BATCH_BYTES, Math.max(out.length, this.bytes))
      const batch = (this.batch ??=
        size === BATCH_BYTES ? this.batches.take() : new Uint8Array(size))
      const take = Math.min(pos - from, batch.length - this.batchPos)
      batch.set(out.subarray(from, from + take), this.batchPos)
      this.batchPos += take
      from += take
      if (this.batchPos === batch.length) this.handOnBatch()
    }
  }

  /** Anything handed on directly goes after the batch; a view of the instance is copied. */
  protected override emit(chunk: Uint8Array): void {
    if (this.batchPos !== 0) this.handOnBatch()
    super.emit(this.kernel !== null && chunk.buffer === this.kernel.memory ? chunk.slice() : chunk)
  }

  /** The output's end: the last batch goes on. */
  protected override endOutput(): void {
    if (this.batchPos !== 0) this.handOnBatch()
  }

  private handOnBatch(): void {
    const batch = this.batch!
    const length = this.batchPos
    this.batch = null
    this.batchPos = 0
    // A short last batch is copied, so a small result does not keep a larger buffer alive.
    if (length === batch.length) super.emit(batch)
    else
      super.emit(length >= batch.length >> 1 ? batch.subarray(0, length) : batch.slice(0, length))
  }
}
