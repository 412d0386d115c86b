/**
 * The kernel's fast path through WebAssembly (wasm/, SIMD) where it was chosen and can be had,
 * else the JS one (fast-rows.ts): the same rows, bytes and fallbacks to the row machine. The
 * output buffer is then a view of the instance's memory, which the row machine writes too, and
 * what leaves the transcoder is copied out of it. Portable.
 */
import { toKylinCsvKernel } from './kernel-choice.ts'
import { FastRows } from './fast-rows.ts'
import type { TranscodeOptions } from './output.ts'
import { ST_CUT, ST_END, ST_ROOM, createRowsKernel, type RowsKernel } from './wasm/rows-kernel.ts'

export class WasmRows extends FastRows {
  private readonly kernel: RowsKernel | null

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

  /** Hands the output on; the kernel's buffer stays (emit copies it). */
  protected override flush(): void {
    const kernel = this.kernel
    if (kernel === null) return super.flush()
    if (this.pos !== 0) this.emit(this.out.subarray(0, this.pos))
    this.out = kernel.output
    this.pos = 0
  }

  /** A view of the instance's memory is copied before it leaves: the buffer is reused. */
  protected override emit(chunk: Uint8Array, transient = false): void {
    super.emit(chunk, transient || (this.kernel !== null && chunk.buffer === this.kernel.memory))
  }
}
