/**
 * The WebAssembly fast path gives the JS kernel's bytes, summaries and failures on random
 * `SQLResponse`s (escapes of every kind, surrogates, separators, CR/LF, unicode, nulls, numbers,
 * empty strings and results), cut at random chunk boundaries. Portable.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { KylinCsvTranscoder } from '../../../src/export/kylin-csv/transcoder.ts'
import {
  cell,
  hugeCell,
  response,
  special,
  split,
  text,
  toBodyOf,
  toOffsets,
  type GeneratedCell,
  type GeneratedResponse,
  type Split,
} from '../kylin-responses.ts'
import { expectSameOutcome, runTranscode } from '../run-export.ts'
import { concat } from '../support.ts'

const encoder = new TextEncoder()

/** Both fast paths on the same bytes and split: the same bytes and summary, or failure. */
async function expectSameBytes(
  body: Uint8Array,
  offsets: readonly number[],
  separator: string,
  includeHeader: boolean,
) {
  const options = { separator, includeHeader }
  const js = await runTranscode(body, offsets, { ...options, kernel: 'js' })
  const wasm = await runTranscode(body, offsets, { ...options, kernel: 'wasm' })
  expectSameOutcome(wasm, js)
  return js
}

/** One chunk through the fused kernel at once: the CSV and summary, or the failure. */
function transcodeNow(body: Uint8Array, separator: string, kernel: 'js' | 'wasm') {
  const chunks: Uint8Array[] = []
  const transcoder = new KylinCsvTranscoder({ separator, includeHeader: false, kernel }, (c) =>
    chunks.push(c.slice()),
  )
  try {
    transcoder.push(body)
    const summary = transcoder.finish()
    return { csv: new TextDecoder().decode(concat(chunks)), summary }
  } catch (error) {
    return { error: (error as Error).message, kind: (error as Error).constructor.name }
  }
}

async function checkGenerated(r: GeneratedResponse) {
  const body = encoder.encode(toBodyOf(r))
  const outcome = await expectSameBytes(
    body,
    toOffsets(r.split, body.length),
    r.separator,
    r.includeHeader,
  )
  expect(outcome).not.toHaveProperty('error')
}

/** Rows the fast path takes whole: strings (escapes included) and nulls only. */
const stringCell: fc.Arbitrary<GeneratedCell> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constant('') },
  { weight: 8, arbitrary: text },
  { weight: 2, arbitrary: fc.string({ unit: special, minLength: 10, maxLength: 40 }) },
)

/** Short cells of the bytes the 64-byte block path classes: structure, null's letters, separators. */
const blockCell: fc.Arbitrary<GeneratedCell> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constant('') },
  {
    weight: 8,
    arbitrary: fc.string({
      unit: fc.constantFrom('a', 'b', ' ', ',', ';', '|', 'n', 'u', 'l', '[', ']', 'é', '東', '"'),
      maxLength: 24,
    }),
  },
)

/** Bodies of rows long enough for 64-byte blocks, compact as Kylin writes them. */
const blockResponse = response({ maxRows: 12, maxColumns: 14, cell: blockCell }).map((r) => ({
  ...r,
  style: 'compact' as const,
}))

const coarseSplit: fc.Arbitrary<Split> = split.filter(
  (s) => !('sizes' in s) || (s.sizes[0] ?? 0) >= 64,
)

describe('export/kylin-csv/wasm-rows', () => {
  it('runs on WebAssembly here (else the tests below would compare the JS path with itself)', () => {
    const options = { separator: ',', includeHeader: false }
    const wasm = new KylinCsvTranscoder({ ...options, kernel: 'wasm' }, () => {})
    const js = new KylinCsvTranscoder({ ...options, kernel: 'js' }, () => {})
    expect(wasm.kernelKind).toBe('wasm')
    expect(js.kernelKind).toBe('js')
  })

  it('gives the JS bytes on small random SQLResponses, any split (chunk per byte too)', async () => {
    await fc.assert(fc.asyncProperty(response({ maxRows: 6, maxColumns: 5 }), checkGenerated), {
      numRuns: 500,
    })
    await fc.assert(
      fc.asyncProperty(response({ maxRows: 8, maxColumns: 6, cell: stringCell }), checkGenerated),
      { numRuns: 500 },
    )
  }, 120_000)

  it('gives the JS bytes on larger SQLResponses, across input windows and flushes', async () => {
    for (const cells of [cell, stringCell]) {
      await fc.assert(
        fc.asyncProperty(
          response({ maxRows: 6000, maxColumns: 12, cell: cells, size: 'max' }).chain((r) =>
            coarseSplit.map((s) => ({ ...r, split: s })),
          ),
          checkGenerated,
        ),
        { numRuns: 10 },
      )
    }
  }, 120_000)

  it('gives the JS bytes with huge cells (rows longer than the input window)', async () => {
    const cells = fc.oneof({ weight: 6, arbitrary: stringCell }, { weight: 1, arbitrary: hugeCell })
    await fc.assert(
      fc.asyncProperty(
        response({ maxRows: 4, maxColumns: 4, cell: cells }).chain((r) =>
          coarseSplit.map((s) => ({ ...r, split: s })),
        ),
        checkGenerated,
      ),
      { numRuns: 30 },
    )
  }, 120_000)

  it('gives the JS bytes at every single split point of a body', async () => {
    const body = encoder.encode(
      JSON.stringify({
        columnMetas: [{ label: 'A' }, { label: 'B' }],
        results: [
          ['x\u00e9\ud83d\ude00', null, 'q"\\\n\u0001', '\ud83d\ude00 \u2028'],
          [],
          ['a,b', '', 'c\r\nd', '東京'],
          ['plain text that runs longer than sixteen bytes', 'a||b', null, '"'],
        ],
      })
        .replace('"q', '"\\u0071')
        .replace('\u2028', '\\u2028')
        .replace('\ud83d\ude00 ', '\\ud83d\\uDE00 '),
    )
    for (const separator of [',', '||', '€', '\n', '\t', '😀\r']) {
      for (let at = 0; at <= body.length; at++) {
        await expectSameBytes(body, [at], separator, true)
      }
    }
  }, 60_000)

  it('gives the JS bytes at every alignment of rows with the 64-byte blocks', async () => {
    // Nulls, separators inside cells (quotes kept) and row ends at every offset of a block.
    const long = 'x'.repeat(70)
    const rows = [
      ['a', null, 'b,c', 'd;e', 'f|g', ''],
      [null, null, `${long},${long}`, 'h'],
      [`,${long}`, `${long};`, null],
      [`a,${long},b;${long},c|${long}`, null],
      ['n', 'null', 'u,l', '[1]', 'é東'],
    ]
    for (let shift = 0; shift < 70; shift++) {
      const results = [['p'.repeat(shift)], ...rows, ...rows, [null], ...rows]
      const body = encoder.encode(JSON.stringify({ columnMetas: [{ label: 'A' }], results }))
      for (const separator of [',', ';', '|', '\t', '"', 'n', ']', '||']) {
        const outcome = await expectSameBytes(body, [], separator, false)
        expect(outcome).not.toHaveProperty('error')
      }
    }
  }, 60_000)

  it('fails alike on every byte of long rows deleted, doubled or changed', () => {
    const rows = [
      ['a', null, 'b,c', 'd;e', ''],
      ['null', null, null, 'n'],
      [`${'x'.repeat(40)},${'y'.repeat(30)}`, '[1]', 'é東'],
      ['Beijing', '2012-01-01', 'Auction', '100000', '12.0000', '1', null, 'buyer_1', 'note 4'],
    ]
    const body = encoder.encode(
      JSON.stringify({ columnMetas: [{ label: 'A' }], results: [...rows, ...rows, ...rows] }),
    )
    const start = body.indexOf(0x5b, body.indexOf(0x5b) + 1)
    const bytes = ',[]"n'.split('').map((c) => c.charCodeAt(0))
    const changes = [...bytes, ...'ul\\ x'.split('').map((c) => c.charCodeAt(0))]
    for (let i = start; i < body.length - 1; i++) {
      const separator = i % 2 === 0 ? ',' : ';'
      const variants = [concat([body.subarray(0, i), body.subarray(i + 1)])]
      for (const b of bytes) variants.push(concat([body.subarray(0, i), [b], body.subarray(i)]))
      for (const b of changes) {
        if (b !== body[i]) variants.push(concat([body.subarray(0, i), [b], body.subarray(i + 1)]))
      }
      for (const variant of variants) {
        expect(transcodeNow(variant, separator, 'wasm')).toEqual(
          transcodeNow(variant, separator, 'js'),
        )
      }
    }
  }, 120_000)

  it('fails alike on bytes put after a null, wherever the null meets a block', () => {
    const row = ['a', null, 'b', null, null, 'c,d', null]
    const insert = ',[]"n'.split('').map((c) => c.charCodeAt(0))
    for (let shift = 0; shift < 64; shift++) {
      const results = [['p'.repeat(shift)], row, row, row]
      const body = encoder.encode(JSON.stringify({ columnMetas: [{ label: 'A' }], results }))
      const text = new TextDecoder().decode(body)
      for (let at = text.indexOf('null'); at >= 0; at = text.indexOf('null', at + 1)) {
        for (const b of insert) {
          const variant = concat([body.subarray(0, at + 4), [b], body.subarray(at + 4)])
          expect(transcodeNow(variant, ',', 'wasm')).toEqual(transcodeNow(variant, ',', 'js'))
        }
      }
    }
  })

  it('fails alike, with the same message, on any truncation or changed byte', async () => {
    // Small bodies of any cells, and bodies of rows long enough for 64-byte blocks.
    const small = response({ maxRows: 5, maxColumns: 4, cell: stringCell })
    for (const bodies of [small, blockResponse]) {
      await fc.assert(
        fc.asyncProperty(
          bodies,
          fc.double({ min: 0, max: 1, noNaN: true }),
          fc.constantFrom(...'{}[],:"\\ntfu0-.eE+ xl\n'.split('').map((c) => c.charCodeAt(0))),
          fc.boolean(),
          async (r, at, byte, truncate) => {
            const bytes = encoder.encode(toBodyOf(r))
            const position = Math.min(bytes.length - 1, Math.floor(at * bytes.length))
            fc.pre(bytes[position]! < 0x80)
            if (truncate) {
              await expectSameBytes(bytes.subarray(0, position), [3, 17], r.separator, false)
            } else {
              bytes[position] = byte
              await expectSameBytes(bytes, toOffsets(r.split, bytes.length), r.separator, false)
            }
          },
        ),
        { numRuns: bodies === small ? 500 : 1000 },
      )
    }
  }, 120_000)
})
