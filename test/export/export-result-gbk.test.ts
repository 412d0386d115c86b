/**
 * GBK exports (csv, json, ndjson) from Kylin JSON and from a stored CSV, read back by an
 * independent reader (iconv-lite): the same text as the UTF-8 export at every chunk split, and a
 * character GBK cannot hold ends the export naming its row and column. Node (iconv-lite).
 */
import fc from 'fast-check'
import iconv from 'iconv-lite'
import { describe, expect, it } from 'vitest'
import {
  exportResult,
  type ExportFormat,
  type ExportRequest,
} from '../../src/export/export-result.ts'
import { GatewayError } from '../../src/errors.ts'
import { gbkText, gbkUnit } from './encoding/gbk-text.ts'
import { split, toOffsets } from './kylin-responses.ts'
import { runExport, type Outcome } from './run-export.ts'
import { readAll, toSplitStream } from './support.ts'

const encoder = new TextEncoder()
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true })
const readGbk = (bytes: Uint8Array) => iconv.decode(bytes, 'gbk', { stripBOM: false })

type Request = Omit<ExportRequest, 'source'> & Partial<Pick<ExportRequest, 'source'>>

function succeeded(outcome: Outcome) {
  if ('error' in outcome) throw new Error(`the export failed: ${outcome.error}`)
  return outcome
}

/**
 * The GBK export of `body` at `offsets` is the UTF-8 export's text, as iconv-lite writes it,
 * with the same summary but for the byte count. Returns the UTF-8 text.
 */
async function expectSameText(body: Uint8Array, offsets: readonly number[], request: Request) {
  const plain = succeeded(await runExport(body, offsets, request))
  const gbk = succeeded(await runExport(body, offsets, { ...request, encode: 'gbk' }))
  const text = utf8.decode(plain.bytes)
  expect(readGbk(gbk.bytes)).toBe(text)
  expect(gbk.bytes).toEqual(new Uint8Array(iconv.encode(text, 'gbk')))
  expect(gbk.summary).toEqual({ ...plain.summary, bytes: gbk.bytes.length })
  return text
}

async function expectFailure(body: Uint8Array, request: Request, message: string) {
  const outcome = await runExport(body, [], { ...request, encode: 'gbk' })
  expect(outcome).toEqual({ error: expect.stringContaining(message), kind: 'GatewayError' })
  if ('error' in outcome) expect(outcome.error).toContain('cannot be written in GBK')
  return outcome
}

const toBody = (value: unknown) => encoder.encode(JSON.stringify(value))

const columnMetas = [
  { label: '名称', name: 'NAME', columnTypeName: 'VARCHAR' },
  { label: 'B', name: 'B', columnTypeName: 'VARCHAR' },
  { label: 'N', name: 'N', columnTypeName: 'BIGINT' },
]
const results = [
  ['北京', '€5 “好”', '1'],
  ['a "quoted", b', 'line\r\nbreak\n', null],
  ['東京', '，；', '-3'],
  [null, 'é·—', '42'],
]
const body = toBody({ columnMetas, results, partial: false })

const FORMATS: ExportFormat[] = [
  { kind: 'csv', separator: ',', includeHeader: true },
  { kind: 'csv', separator: '，', includeHeader: true },
  { kind: 'csv', separator: '||', includeHeader: false },
  { kind: 'json' },
  { kind: 'ndjson' },
]

describe('export/export-result in GBK', () => {
  it('writes CJK, €, quotes, separators and line ends as the UTF-8 export says them', async () => {
    const csv = await expectSameText(body, [], { format: FORMATS[1]! })
    expect(csv).toBe(
      '名称，B，N\n北京，€5 “好”，1\n"a ""quoted"", b"，"line\r\nbreak\n"，\n東京，"，；"，-3\n，é·—，42\n',
    )
    const gbk = succeeded(await runExport(body, [], { format: FORMATS[1]!, encode: 'gbk' }))
    // 名 is 0xC3FB, € the one byte 0x80, the full-width comma 0xA3AC.
    expect([...gbk.bytes.subarray(0, 2)]).toEqual([0xc3, 0xfb])
    expect(gbk.bytes).toContain(0x80)
    expect([...gbk.bytes.subarray(4, 6)]).toEqual([0xa3, 0xac])
    for (const format of FORMATS) await expectSameText(body, [], { format })
  })

  it('gives the same text at every chunk split of a small body, and in 1-byte chunks', async () => {
    for (const format of FORMATS) {
      for (let cut = 0; cut <= body.length; cut++) await expectSameText(body, [cut], { format })
      await expectSameText(body, toOffsets({ sizes: [1] }, body.length), { format })
    }
  }, 60_000)

  it('gives the text of the UTF-8 export for any GBK text, format and split', async () => {
    const row = (columns: number) =>
      fc.array(fc.option(gbkText(12), { freq: 4 }), { maxLength: columns })
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          labels: fc.array(gbkText(6), { maxLength: 4 }),
          rows: fc.array(row(5), { maxLength: 8 }),
          separator: fc.string({ unit: gbkUnit, minLength: 1, maxLength: 3 }),
          includeHeader: fc.boolean(),
          kind: fc.constantFrom('csv', 'json', 'ndjson'),
          split,
        }),
        async (r) => {
          const columnMetas = r.labels.map((label) => ({ label, columnTypeName: 'VARCHAR' }))
          const bytes = toBody({ columnMetas, results: r.rows })
          const format: ExportFormat =
            r.kind === 'csv'
              ? { kind: 'csv', separator: r.separator, includeHeader: r.includeHeader }
              : { kind: r.kind }
          await expectSameText(bytes, toOffsets(r.split, bytes.length), { format })
        },
      ),
      { numRuns: 300 },
    )
  }, 60_000)

  it('converts a stored UTF-8 CSV to GBK csv, json and ndjson', async () => {
    const stored = succeeded(await runExport(body, [], { format: FORMATS[1]! })).bytes
    const source = {
      kind: 'stored-csv' as const,
      separator: '，',
      header: true,
      metadata: { names: ['NAME', 'B', 'N'], types: ['VARCHAR', 'VARCHAR', 'BIGINT'] },
    }
    for (const format of FORMATS) {
      for (const offsets of [[], toOffsets({ sizes: [1] }, stored.length), [1, 2, 3, 5, 8]]) {
        await expectSameText(stored, offsets, { source, format })
      }
    }
    const ndjson = succeeded(
      await runExport(stored, [], { source, format: { kind: 'ndjson' }, encode: 'gbk' }),
    )
    expect(readGbk(ndjson.bytes).split('\n')[0]).toBe('{"名称":"北京","B":"€5 “好”","N":1}')
  })

  describe('a character GBK cannot hold', () => {
    const withEmoji = toBody({
      columnMetas,
      results: [...results.slice(0, 2), ['ok', 'smile 😀 here', '7'], ...results.slice(2)],
    })

    it('ends the export naming its row and column, not the text of the cell', async () => {
      for (const format of FORMATS) {
        const outcome = await expectFailure(
          withEmoji,
          { format },
          'The character U+1F600 in row 3, column 2 ("B") cannot be written in GBK',
        )
        if ('error' in outcome) expect(outcome.error).not.toContain('smile')
      }
    })

    it('ends the conversion of a stored CSV the same way', async () => {
      const stored = encoder.encode('名称,B\n1,2\n3,4\n5,\ud83d\ude00\n')
      const source = { kind: 'stored-csv' as const, separator: ',', header: true }
      for (const format of FORMATS.slice(3)) {
        await expectFailure(stored, { source, format }, 'U+1F600 in row 3, column 2 ("B")')
      }
    })

    it('fails on a lone surrogate, also where JSON would escape it', async () => {
      const lone = encoder.encode(
        '{"columnMetas":[{"label":"A"},{"label":"B"}],"results":[["a","b"],["\\ud800x","c"]]}',
      )
      for (const format of FORMATS) {
        await expectFailure(lone, { format }, 'U+D800 (a lone surrogate) in row 2, column 1 ("A")')
      }
    })

    it('fails on a column label that is written: a header, the JSON keys', async () => {
      const metas = [{ label: 'A' }, { label: 'B\u0e01' }]
      const labelled = toBody({ columnMetas: metas, results: [['a', 'b']] })
      const inHeader = 'The character U+0E01 in the header (the label of column 2)'
      await expectFailure(labelled, { format: FORMATS[0]! }, inHeader)
      await expectFailure(labelled, { format: { kind: 'json' } }, inHeader)
      await expectFailure(labelled, { format: { kind: 'ndjson' } }, inHeader)
      // Without a header row the label is written nowhere.
      const csv = succeeded(await runExport(labelled, [], { format: FORMATS[2]!, encode: 'gbk' }))
      expect(readGbk(csv.bytes)).toBe('a||b\n')
    })

    it('fails on a separator GBK cannot hold, before any byte', async () => {
      for (const [separator, name] of [
        ['😀', 'U+1F600'],
        ['\ud800', 'U+D800 (a lone surrogate)'],
      ]) {
        const format = { kind: 'csv' as const, separator: separator!, includeHeader: false }
        await expectFailure(body, { format }, `${name} in the separator`)
        const { stream } = exportResult(toSplitStream(body, []), {
          source: { kind: 'kylin-json' },
          format,
          encode: 'gbk',
        })
        await expect(stream.getReader().read()).rejects.toBeInstanceOf(GatewayError)
      }
    })

    it('reports no success once bytes have gone out: the stream errors, the summary rejects', async () => {
      const rows = Array.from({ length: 20_000 }, (_, i) => [`行${i}`, i === 15_000 ? '😀' : 'x'])
      const big = toBody({ columnMetas: [{ label: 'A' }, { label: 'B' }], results: rows })
      for (const format of [FORMATS[0]!, { kind: 'ndjson' } as const]) {
        const { stream, summary } = exportResult(toSplitStream(big, [1000, 30_000, 60_000]), {
          source: { kind: 'kylin-json' },
          format,
          encode: 'gbk',
        })
        const reader = stream.getReader()
        let received = 0
        let failure: unknown
        try {
          for (;;) {
            const { done, value } = await reader.read()
            if (done) break
            received += value.length
          }
        } catch (error) {
          failure = error
        }
        expect(received).toBeGreaterThan(0)
        expect(failure).toBeInstanceOf(GatewayError)
        expect((failure as GatewayError).status).toBe(422)
        expect((failure as Error).message).toContain('row 15001, column 2 ("B")')
        await expect(summary).rejects.toBe(failure)
      }
    })
  })

  it('keeps the UTF-8 bytes when asked for utf-8 or nothing', async () => {
    for (const format of FORMATS) {
      const plain = succeeded(await runExport(body, [7], { format }))
      const asked = succeeded(await runExport(body, [7], { format, encode: 'utf-8' }))
      expect(asked.bytes).toEqual(plain.bytes)
      expect(asked.summary).toEqual(plain.summary)
    }
  })

  it('refuses gbk for a binary format', async () => {
    const format = { kind: 'xlsx' } as unknown as ExportFormat
    const { stream, summary } = exportResult(toSplitStream(body, []), {
      source: { kind: 'kylin-json' },
      format,
      encode: 'gbk',
    })
    await expect(readAll(stream)).rejects.toThrow(
      'The encoding gbk applies to csv, json and ndjson results only; a xlsx file is binary.',
    )
    await expect(summary).rejects.toMatchObject({ status: 400 })
  })
})
