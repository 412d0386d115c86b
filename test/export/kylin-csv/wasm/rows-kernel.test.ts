/**
 * The WebAssembly fast path's module and instances: the .wasm Workers import is the module Node
 * compiles, each instance's memory is fixed (it cannot grow), a separator the instance cannot
 * hold leaves the transcoder on the JS fast path, and plain rows are read 64 bytes at a time.
 * Node (reads the .wasm file).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { encodeCsvRow, type Cell } from '../../../../src/export/csv/encode.ts'
import { R_EXPECT_ROW } from '../../../../src/export/kylin-csv/constants.ts'
import { KylinCsvTranscoder } from '../../../../src/export/kylin-csv/transcoder.ts'
import { KYLIN_CSV_ROWS_WASM } from '../../../../src/export/kylin-csv/wasm/kylin-csv-rows-base64.ts'
import { ST_END, createRowsKernel } from '../../../../src/export/kylin-csv/wasm/rows-kernel.ts'
import { loadRowsModule } from '../../../../src/export/kylin-csv/wasm/rows-module.ts'

const WASM = join(import.meta.dirname, '../../../../src/export/kylin-csv/wasm/kylin-csv-rows.wasm')

describe('export/kylin-csv/wasm/rows-kernel', () => {
  it('embeds the very bytes of the .wasm file Workers import', () => {
    expect(Buffer.from(KYLIN_CSV_ROWS_WASM, 'base64').equals(readFileSync(WASM))).toBe(true)
  })

  it('imports nothing, and each instance has its own memory, which cannot grow', () => {
    const module = loadRowsModule()!
    expect(WebAssembly.Module.imports(module)).toEqual([])
    const instance = new WebAssembly.Instance(module, {})
    const memory = instance.exports.memory as WebAssembly.Memory
    expect(memory.buffer.byteLength).toBe(4 * 65536)
    expect(() => memory.grow(1)).toThrow(RangeError)
    const a = createRowsKernel(new Uint8Array([44]))!
    const b = createRowsKernel(new Uint8Array([59]))!
    expect(a.memory).not.toBe(b.memory)
  })

  it('leaves a separator longer than its 64 bytes to the JS fast path', () => {
    expect(createRowsKernel(new Uint8Array(65).fill(59))).toBeNull()
    const options = { separator: ';'.repeat(65), includeHeader: false, kernel: 'wasm' as const }
    const out: Uint8Array[] = []
    const transcoder = new KylinCsvTranscoder(options, (chunk) => void out.push(chunk))
    expect(transcoder.kernelKind).toBe('js')
    transcoder.push(new TextEncoder().encode('{"results":[["a","b"]]}'))
    transcoder.finish()
    expect(new TextDecoder().decode(out[0])).toBe(`a${';'.repeat(65)}b\n`)
  })

  it('reads plain rows 64 bytes at a time: nulls, kept quotes and strings across blocks', () => {
    // Row i shifts what follows by i bytes, so every cell meets every place in a block.
    const rows: Cell[][] = []
    for (let i = 0; i < 160; i++) {
      rows.push([
        'p'.repeat(i % 67),
        null,
        'Hongkong, Kowloon',
        `${'x'.repeat(40 + (i % 23))},${'y'.repeat(30)}`,
        i % 3 === 0 ? null : 'null',
        '東京 [1',
        null,
        `a,${'b'.repeat(50 + (i % 29))},c,${'d'.repeat(70)},e`,
      ])
    }
    for (const separator of [',', ';']) {
      const kernel = createRowsKernel(new TextEncoder().encode(separator))!
      const input = new TextEncoder().encode(rows.map((row) => JSON.stringify(row)).join(','))
      expect(input.length).toBeLessThanOrEqual(kernel.input.length)
      kernel.input.set(input)
      const expected = rows.map((row) => encodeCsvRow(row, separator)).join('')
      const output: string[] = []
      let at = 0
      let pos = 0
      let state = R_EXPECT_ROW
      let done = 0
      let inBlocks = 0
      for (;;) {
        at = kernel.rows(input.length, at, pos, state)
        pos = kernel.result[0]!
        state = kernel.result[1]!
        done += kernel.result[2]!
        inBlocks += kernel.result[4]!
        if (kernel.result[3] === ST_END) break
        output.push(new TextDecoder().decode(kernel.output.subarray(0, pos)))
        pos = 0
      }
      output.push(new TextDecoder().decode(kernel.output.subarray(0, pos)))
      expect(output.join('')).toBe(expected)
      expect(done).toBe(rows.length)
      // All but the rows in the window's last bytes, where a block no longer fits.
      expect(inBlocks).toBeGreaterThanOrEqual(rows.length - 2)
    }
  })
})
