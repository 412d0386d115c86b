/**
 * One instance of the WebAssembly fast path (assembly/kylin-csv-rows.ts) for one transcoder:
 * its own fixed memory (256 KiB, never grown), views of its input and output windows, and the
 * call that reads whole rows. Portable.
 */
import { loadRowsModule } from './rows-module.ts'

// What `rows` ended on (the source's ST_ values).
export const ST_END = 0
export const ST_SLOW = 1
export const ST_ROOM = 2
export const ST_CUT = 3

export interface RowsKernel {
  /** The input window: a chunk is copied here, at most `input.length` bytes at a time. */
  readonly input: Uint8Array<ArrayBuffer>
  /** The output buffer the transcoder writes into, the kernel's fast path included. */
  readonly output: Uint8Array<ArrayBuffer>
  /** The instance's memory, whose views must be copied before they leave the transcoder. */
  readonly memory: ArrayBuffer
  /**
   * Whole rows of `input[from, length)` written from output position `pos`, in row state
   * `state`: the input index reached; `result` then holds the output position, the state, the
   * rows completed, an ST_ status and how many of those rows were read 64 bytes at a time.
   */
  rows(length: number, from: number, pos: number, state: number): number
  readonly result: Int32Array
}

interface RowsExports {
  memory: WebAssembly.Memory
  IN: WebAssembly.Global
  IN_SIZE: WebAssembly.Global
  OUT: WebAssembly.Global
  OUT_SIZE: WebAssembly.Global
  SEP: WebAssembly.Global
  SEP_MAX: WebAssembly.Global
  RESULT: WebAssembly.Global
  configure(length: number): void
  rows(length: number, from: number, pos: number, state: number): number
}

/** A kernel for `separator` (its UTF-8 bytes), or null where the module cannot be had. */
export function createRowsKernel(separator: Uint8Array): RowsKernel | null {
  const module = loadRowsModule()
  if (module === null) return null
  const exports = new WebAssembly.Instance(module, {}).exports as unknown as RowsExports
  if (separator.length > (exports.SEP_MAX.value as number)) return null
  const buffer = exports.memory.buffer
  const at = (global: WebAssembly.Global) => global.value as number
  new Uint8Array(buffer, at(exports.SEP), separator.length).set(separator)
  exports.configure(separator.length)
  return {
    input: new Uint8Array(buffer, at(exports.IN), at(exports.IN_SIZE)),
    output: new Uint8Array(buffer, at(exports.OUT), at(exports.OUT_SIZE)),
    memory: buffer,
    rows: exports.rows,
    result: new Int32Array(buffer, at(exports.RESULT), 5),
  }
}
