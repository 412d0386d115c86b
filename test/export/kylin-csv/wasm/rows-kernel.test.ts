/**
 * The WebAssembly fast path's module and instances: the .wasm Workers import is the module Node
 * compiles, each instance's memory is fixed (it cannot grow), and a separator the instance cannot
 * hold leaves the transcoder on the JS fast path. Node (reads the .wasm file).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { KylinCsvTranscoder } from '../../../../src/export/kylin-csv/transcoder.ts'
import { KYLIN_CSV_ROWS_WASM } from '../../../../src/export/kylin-csv/wasm/kylin-csv-rows-base64.ts'
import { createRowsKernel } from '../../../../src/export/kylin-csv/wasm/rows-kernel.ts'
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
})
