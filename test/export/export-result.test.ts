/**
 * The export entry: the fused Kylin JSON → CSV kernel and the parts (Kylin JSON source + CSV
 * writer) give identical bytes, summaries and failures on random `SQLResponse`s, under any
 * chunk split. Portable.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { exportResult } from '../../src/export/export-result.ts'
import {
  cell,
  hugeCell,
  response,
  split,
  toBodyOf,
  toOffsets,
  type GeneratedResponse,
  type Split,
} from './kylin-responses.ts'
import { expectSameOutcome, runExport } from './run-export.ts'
import { readAll, toSplitStream } from './support.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Both paths on the same bytes and split: the same bytes and summary, or the same failure. */
async function expectSameExports(
  body: Uint8Array,
  offsets: readonly number[],
  separator: string,
  includeHeader: boolean,
) {
  const format = { kind: 'csv' as const, separator, includeHeader }
  const fused = await runExport(body, offsets, { format })
  const parts = await runExport(body, offsets, { format, fused: false })
  expectSameOutcome(parts, fused)
  return fused
}

async function checkGenerated(r: GeneratedResponse) {
  const body = encoder.encode(toBodyOf(r))
  const outcome = await expectSameExports(
    body,
    toOffsets(r.split, body.length),
    r.separator,
    r.includeHeader,
  )
  // Generated bodies are valid results.
  expect(outcome).not.toHaveProperty('error')
}

const coarseSplit: fc.Arbitrary<Split> = split.filter(
  (s) => !('sizes' in s) || (s.sizes[0] ?? 0) >= 64,
)

describe('export/export-result', () => {
  describe('fused kernel = Kylin JSON source + CSV writer', () => {
    it('gives identical bytes on small random SQLResponses, any split (chunk per byte too)', async () => {
      await fc.assert(fc.asyncProperty(response({ maxRows: 6, maxColumns: 5 }), checkGenerated), {
        numRuns: 600,
      })
    }, 60_000)

    it('gives identical bytes on larger SQLResponses, across output buffers and flushes', async () => {
      await fc.assert(
        fc.asyncProperty(
          response({ maxRows: 300, maxColumns: 12 }).chain((r) =>
            coarseSplit.map((s) => ({ ...r, split: s })),
          ),
          checkGenerated,
        ),
        { numRuns: 60 },
      )
      await fc.assert(
        fc.asyncProperty(
          response({ maxRows: 6000, maxColumns: 12, size: 'max' }).chain((r) =>
            coarseSplit.map((s) => ({ ...r, split: s })),
          ),
          checkGenerated,
        ),
        { numRuns: 10 },
      )
    }, 120_000)

    it('gives identical bytes with huge cells', async () => {
      const cells = fc.oneof({ weight: 6, arbitrary: cell }, { weight: 1, arbitrary: hugeCell })
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

    it('gives identical bytes at every single split point of a body', async () => {
      const body = encoder.encode(
        JSON.stringify({
          columnMetas: [{ label: 'A', name: 'a', columnTypeName: 'VARCHAR' }, { label: 'B' }],
          results: [
            ['x\u00e9\ud83d\ude00', null, 'q"\\\n\u0001\ud800', '\udc00\ud83d'],
            [],
            ['a,b', '', 'c\r\nd', '\u2028'],
          ],
          partial: true,
          traces: [{ a: '}]' }],
        })
          .replace('"q', '"\\u0071')
          .replace('null', 'null,-1.5e3,true,false,0'),
      )
      for (const separator of [',', '||', '€', '\n', '😀\r']) {
        for (const includeHeader of [false, true]) {
          for (let at = 0; at <= body.length; at++) {
            await expectSameExports(body, [at], separator, includeHeader)
          }
        }
      }
    }, 60_000)

    it('fails alike, with the same message, on any truncation', async () => {
      await fc.assert(
        fc.asyncProperty(
          response({ maxRows: 5, maxColumns: 4 }),
          fc.double({ min: 0, max: 1, noNaN: true }),
          async (r, at) => {
            const bytes = encoder.encode(toBodyOf(r))
            const complete = bytes.lastIndexOf(125) + 1
            const cut = bytes.subarray(0, Math.min(complete - 1, Math.floor(at * complete)))
            const outcome = await expectSameExports(
              cut,
              toOffsets(r.split, cut.length),
              r.separator,
              r.includeHeader,
            )
            expect(outcome).toMatchObject({ kind: 'UpstreamError' })
          },
        ),
        { numRuns: 300 },
      )
    })

    it('agrees on bodies with one ASCII byte changed: the same output or the same failure', async () => {
      await fc.assert(
        fc.asyncProperty(
          response({ maxRows: 5, maxColumns: 4 }),
          fc.double({ min: 0, max: 1, noNaN: true }),
          fc.constantFrom(...'{}[],:"\\ntfu0-.eE+ x'.split('').map((c) => c.charCodeAt(0))),
          async (r, at, byte) => {
            const bytes = encoder.encode(toBodyOf(r))
            const position = Math.min(bytes.length - 1, Math.floor(at * bytes.length))
            // Only an ASCII byte is replaced: breaking a UTF-8 sequence is the difference below.
            fc.pre(bytes[position]! < 0x80)
            bytes[position] = byte
            await expectSameExports(
              bytes,
              toOffsets(r.split, bytes.length),
              r.separator,
              r.includeHeader,
            )
          },
        ),
        { numRuns: 500 },
      )
    })

    it('fails alike on exceptions and Kylin envelopes', async () => {
      const bodies = [
        '{"results":[["a"]],"isException":true,"exceptionMessage":"Table not found\\nin SQL"}',
        '{"isException":true,"exceptionMessage":null,"results":[["a"]]}',
        '{"code":"999","data":null,"msg":"boom","stacktrace":"x"}',
        '{"code":"000","data":{"results":null,"isException":true,"exceptionMessage":"e"},"msg":""}',
        '{"results":[["a"],"b"]}',
        '{"results":[[{"a":1}]]}',
        '{"results":{}}',
        '{"results":[["a"]],"results":[["b"]]}',
        '{}',
        '{"hello":"world"}',
        '{"code":"000","data":{"hello":1},"msg":""}',
        '{"code":"999","data":{"columnMetas":[],"results":[["a"]]},"msg":"no"}',
      ]
      for (const body of bodies) {
        for (const at of [[], [1, 2, 3, 5, 8, 13, 21, 34]]) {
          const outcome = await expectSameExports(encoder.encode(body), at, ',', true)
          expect(outcome).toMatchObject({ kind: 'UpstreamError' })
        }
      }
    })
  })

  it('gives identical bytes for a result inside a "000" envelope, at every split', async () => {
    const body = encoder.encode(
      '{"code":"000","data":{"columnMetas":[{"label":"A","name":"A","columnTypeName":"VARCHAR"}],' +
        '"results":[["x,y"],[null],["\\"q\\""]],"partial":true},"msg":""}',
    )
    for (let at = 0; at <= body.length; at++) {
      const outcome = await expectSameExports(body, [at], ',', true)
      expect(outcome).not.toHaveProperty('error')
    }
  })

  describe('differences that stay (out of the JSON spec)', () => {
    it('passes invalid UTF-8 through in the fused kernel; the source decodes it to U+FFFD', async () => {
      // RFC 8259 requires UTF-8 and Kylin writes it; a JS string cannot carry a broken byte.
      const body = new Uint8Array([
        ...encoder.encode('{"results":[["a'),
        0xff,
        ...encoder.encode('"]]}'),
      ])
      const format = { kind: 'csv' as const, separator: ',', includeHeader: false }
      const fused = await runExport(body, [], { format })
      const parts = await runExport(body, [], { format, fused: false })
      expect(fused).toMatchObject({ bytes: new Uint8Array([97, 0xff, 10]) })
      expect(parts).toMatchObject({ bytes: encoder.encode('a\ufffd\n') })
    })
  })

  it('streams in bounded chunks and reports progress on the parts path', async () => {
    const rows = Array.from({ length: 30_000 }, (_, i) => [`r${i}`, 'x'.repeat(i % 7)])
    const body = encoder.encode(JSON.stringify({ columnMetas: [], results: rows }))
    const calls: [number, number][] = []
    const { stream, summary } = exportResult(
      toSplitStream(body, toOffsets({ sizes: [1000] }, body.length)),
      {
        source: { kind: 'kylin-json' },
        format: { kind: 'csv', separator: ',', includeHeader: false },
        fused: false,
        onProgress: (rows, bytes) => calls.push([rows, bytes]),
      },
    )
    const { chunks } = await readAll(stream)
    const done = await summary
    expect(done.rows).toBe(30_000)
    expect(calls.length).toBe(chunks.length)
    expect(calls.length).toBeGreaterThan(1)
    expect(calls.at(-1)).toEqual([done.rows, done.bytes])
  })

  describe('json and ndjson', () => {
    const body = encoder.encode(
      JSON.stringify({
        columnMetas: [
          { label: 'ID', name: 'ID', columnTypeName: 'BIGINT' },
          { label: 'NAME', name: 'NAME', columnTypeName: 'VARCHAR' },
        ],
        results: [
          ['9007199254740993', 'a "b"\n'],
          ['1', null],
        ],
        partial: false,
      }),
    )

    it('writes the Kylin JSON rows in each format at every split, with the same summary', async () => {
      for (let at = 0; at < body.length; at += 7) {
        const json = await runExport(body, [at], { format: { kind: 'json' } })
        const ndjson = await runExport(body, [at], { format: { kind: 'ndjson' } })
        if ('error' in json || 'error' in ndjson) throw new Error('the export failed')
        const rows = (JSON.parse(decoder.decode(json.bytes)) as string[]).map((r) => JSON.parse(r))
        expect(rows).toEqual([
          { ID: '9007199254740993', NAME: 'a "b"\n' },
          { ID: '1', NAME: null },
        ])
        expect(decoder.decode(ndjson.bytes)).toBe(
          '{"ID":"9007199254740993","NAME":"a \\"b\\"\\n"}\n{"ID":1,"NAME":null}\n',
        )
        const metadata = { names: ['ID', 'NAME'], types: ['BIGINT', 'VARCHAR'] }
        expect(json.summary).toMatchObject({ metadata, rows: 2, bytes: json.bytes.length })
        expect(ndjson.summary).toMatchObject({ metadata, rows: 2, bytes: ndjson.bytes.length })
      }
    })
  })
})
