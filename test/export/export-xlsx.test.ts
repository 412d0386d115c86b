/**
 * A Kylin `SQLResponse` exported as xlsx through the export entry (source + xlsx writer), read
 * back by SheetJS and exceljs, at any chunk split, with the summary the record keeps. Node.
 */
import { describe, expect, it } from 'vitest'
import { exportResult } from '../../src/export/export-result.ts'
import { toBody } from './kylin-responses.ts'
import { readAll, toSplitStream } from './support.ts'
import { readExcelJs, readSheetJs, toSheetJsRows } from './writers/xlsx/workbooks.ts'

const encoder = new TextEncoder()

const metas = [
  { label: 'ID', name: 'ID', columnTypeName: 'BIGINT', isNullable: 0 },
  { label: 'NAME', name: 'NAME', columnTypeName: 'VARCHAR', isNullable: 1 },
  { label: 'PRICE', name: 'PRICE', columnTypeName: 'DECIMAL', precision: 19, scale: 4 },
  { label: 'OK', name: 'OK', columnTypeName: 'BOOLEAN' },
  { label: 'PART_DT', name: 'PART_DT', columnTypeName: 'DATE' },
  { label: 'AT', name: 'AT', columnTypeName: 'TIMESTAMP' },
]
const results = [
  ['9007199254740993', 'a "b",\r\nc', '1.5000', 'true', '2012-01-01', '2012-01-01 10:11:12.0'],
  ['1', null, null, 'false', null, null],
  ['-7', '  東京 😀\u0001  ', '0.1', null, '1900-03-01', '2012-01-01 00:00:00.123'],
]

async function exportXlsx(body: Uint8Array, at: number[]) {
  const { stream, summary } = exportResult(toSplitStream(body, at), {
    source: { kind: 'kylin-json' },
    format: { kind: 'xlsx', includeHeader: true },
  })
  const { bytes } = await readAll(stream)
  return { bytes, summary: await summary }
}

describe('export/export-result as xlsx', () => {
  it('writes a Kylin SQLResponse as a workbook both readers read right, at any split', async () => {
    const json = toBody(
      [
        ['columnMetas', metas],
        ['results', results],
        ['isException', false],
        ['partial', false],
      ],
      [0, 1, 2, 3],
      'pretty2',
    )
    const body = encoder.encode(json)
    const first = await exportXlsx(body, [])
    const workbook = readSheetJs(first.bytes)
    expect(workbook.SheetNames).toEqual(['query_result'])
    expect(toSheetJsRows(workbook, 'query_result')).toEqual([
      ['ID', 'NAME', 'PRICE', 'OK', 'PART_DT', 'AT'],
      [
        '9007199254740993',
        'a "b",\r\nc',
        1.5,
        true,
        40909,
        40909 + (10 * 3600 + 11 * 60 + 12) / 86400,
      ],
      [1, null, null, false, null, null],
      [-7, '  東京 😀\u0001  ', 0.1, null, 61, 40909 + 0.123 / 86400],
    ])
    const [sheet] = await readExcelJs(first.bytes)
    expect(sheet!.rows[1]).toEqual([
      '9007199254740993',
      'a "b",\r\nc',
      1.5,
      true,
      new Date(Date.UTC(2012, 0, 1)),
      new Date(Date.UTC(2012, 0, 1, 10, 11, 12)),
    ])
    expect(first.summary).toEqual({
      metadata: {
        names: metas.map((m) => m.name),
        types: metas.map((m) => m.columnTypeName),
        precisions: [null, null, 19, null, null, null],
        scales: [null, null, 4, null, null, null],
      },
      rows: 3,
      bytes: first.bytes.length,
      partial: false,
    })
    for (let at = 1; at < body.length; at += 13) {
      const split = await exportXlsx(body, [at, at + 5, at + 200])
      expect(split.bytes).toEqual(first.bytes)
      expect(split.summary).toEqual(first.summary)
    }
  })

  it("fails the export with the writer's message on a cell Excel cannot hold", async () => {
    const body = encoder.encode(
      JSON.stringify({ columnMetas: [{ label: 'C' }], results: [['a'], ['x'.repeat(40_000)]] }),
    )
    await expect(exportXlsx(body, [])).rejects.toThrow(
      /row 2 of the result, column "C", holds 40000 characters/,
    )
  })
})
