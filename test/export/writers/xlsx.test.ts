/**
 * The xlsx writer, read back by SheetJS and exceljs (never by the project's own parser): values
 * and cell types, nulls, the header, hard strings, sheet rollover, Excel's limits, batch splits.
 * Node (the readers).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { GatewayError } from '../../../src/errors.ts'
import { toColumns } from '../../../src/export/columns.ts'
import type { Cell } from '../../../src/export/types.ts'
import { createXlsxWriter } from '../../../src/export/writers/xlsx/writer.ts'
import {
  readExcelJs,
  readSheetJs,
  sheetJsCell,
  toSheetJsRows,
  writeParts,
  writeXlsx,
} from './xlsx/workbooks.ts'

const noHeader = { includeHeader: false }

/** One column of `type`, one row per cell. */
function oneColumn(type: string, cells: Cell[]) {
  const columns = toColumns([{ label: 'V', columnTypeName: type }])
  return writeXlsx(
    columns,
    cells.map((cell) => [cell]),
    noHeader,
  )
}

/** The SheetJS cells of column A, row by row: type and raw value (undefined: no cell). */
function columnA(bytes: Uint8Array, count: number) {
  const workbook = readSheetJs(bytes)
  return Array.from({ length: count }, (_, i) => {
    const cell = sheetJsCell(workbook, 'query_result', `A${i + 1}`)
    return cell && { t: cell.t, v: cell.v }
  })
}

describe('export/writers/xlsx', () => {
  const columns = toColumns([
    { label: 'NAME', columnTypeName: 'VARCHAR' },
    { label: 'N', columnTypeName: 'INTEGER' },
  ])

  it('writes one sheet, query_result, with the header row only when asked', async () => {
    const rows = [
      ['a', '1'],
      ['b', null],
    ]
    const withHeader = writeXlsx(columns, rows, { includeHeader: true })
    const workbook = readSheetJs(withHeader)
    expect(workbook.SheetNames).toEqual(['query_result'])
    expect(toSheetJsRows(workbook, 'query_result')).toEqual([
      ['NAME', 'N'],
      ['a', 1],
      ['b', null],
    ])
    expect((await readExcelJs(withHeader)).map((s) => [s.name, s.rows])).toEqual([
      ['query_result', [['NAME', 'N'], ['a', 1], ['b']]],
    ])
    const bare = writeXlsx(columns, rows, noHeader)
    expect(toSheetJsRows(readSheetJs(bare), 'query_result')).toEqual([
      ['a', 1],
      ['b', null],
    ])
    expect((await readExcelJs(bare))[0]!.rows).toEqual([['a', 1], ['b']])
  })

  it('writes the minimal package parts', () => {
    const workbook = readSheetJs(writeXlsx(columns, [['a', '1']], noHeader))
    const files = Object.keys((workbook as unknown as { files: object }).files)
      .filter((name) => /\.(xml|rels)$/.test(name))
      .sort()
    expect(files).toEqual(
      [
        '[Content_Types].xml',
        '_rels/.rels',
        'xl/_rels/workbook.xml.rels',
        'xl/styles.xml',
        'xl/workbook.xml',
        'xl/worksheets/sheet1.xml',
      ].sort(),
    )
  })

  it('writes a workbook with no rows, and one whose source named no columns', async () => {
    for (const includeHeader of [false, true]) {
      const empty = writeXlsx(columns, [], { includeHeader })
      expect(toSheetJsRows(readSheetJs(empty), 'query_result')).toEqual(
        includeHeader ? [['NAME', 'N']] : [],
      )
      expect((await readExcelJs(empty)).map((s) => s.name)).toEqual(['query_result'])
    }
    // No columns, no labels: the header row is empty, as the CSV writer's empty header line.
    const unnamed = writeXlsx(null, [['a', '1']], { includeHeader: true })
    expect(toSheetJsRows(readSheetJs(unnamed), 'query_result')).toEqual([
      [null, null],
      ['a', '1'],
    ])
  })

  it('leaves a null cell out, and keeps an empty string as text', () => {
    const bytes = writeXlsx(
      columns,
      [
        [null, '1', 'x'],
        ['', null],
      ],
      noHeader,
    )
    const workbook = readSheetJs(bytes)
    expect(sheetJsCell(workbook, 'query_result', 'A1')).toBeUndefined()
    expect(sheetJsCell(workbook, 'query_result', 'B1')).toMatchObject({ t: 'n', v: 1 })
    expect(sheetJsCell(workbook, 'query_result', 'C1')).toMatchObject({ t: 's', v: 'x' })
    expect(sheetJsCell(workbook, 'query_result', 'A2')).toMatchObject({ t: 's', v: '' })
    expect(sheetJsCell(workbook, 'query_result', 'B2')).toBeUndefined()
  })

  describe('cell types from Kylin types', () => {
    it('writes integers as numbers when exact, past 2^53 as text with every digit', async () => {
      for (const type of ['BIGINT', 'INTEGER', 'SMALLINT', 'TINYINT', 'bigint', 'Integer(10)']) {
        const cells = ['0', '-7', '999999999999999', '9007199254740993', '007', 'x']
        expect(columnA(oneColumn(type, cells), cells.length)).toEqual([
          { t: 'n', v: 0 },
          { t: 'n', v: -7 },
          { t: 'n', v: 999999999999999 },
          { t: 's', v: '9007199254740993' },
          { t: 's', v: '007' },
          { t: 's', v: 'x' },
        ])
      }
      const huge = '123456789012345678901234567890'
      const [sheet] = await readExcelJs(oneColumn('BIGINT', ['42', huge]))
      expect(sheet!.rows).toEqual([[42], [huge]])
    })

    it('writes a decimal as a number only when a double holds it and Excel shows it exactly', async () => {
      const cells = ['1.50', '0.1', '-12.340', '100', '1.0000000000000001', '12345678901234567890']
      const more = ['123456789012.345', '1234567890123.456', '9007199254740991', '1e5']
      expect(columnA(oneColumn('DECIMAL(19,4)', [...cells, ...more]), 10)).toEqual([
        { t: 'n', v: 1.5 },
        { t: 'n', v: 0.1 },
        { t: 'n', v: -12.34 },
        { t: 'n', v: 100 },
        { t: 's', v: '1.0000000000000001' },
        { t: 's', v: '12345678901234567890' },
        // 15 significant digits Excel shows; 16 it would show rounded, so they stay text.
        { t: 'n', v: 123456789012.345 },
        { t: 's', v: '1234567890123.456' },
        { t: 's', v: '9007199254740991' },
        { t: 's', v: '1e5' },
      ])
      const [sheet] = await readExcelJs(oneColumn('decimal', ['1.50', '0.10000000000000000001']))
      expect(sheet!.rows).toEqual([[1.5], ['0.10000000000000000001']])
    })

    it('writes doubles as numbers, NaN and infinities as text', () => {
      for (const type of ['DOUBLE', 'FLOAT', 'REAL']) {
        const cells = ['1.5', '-2.0E10', '1e-7', '0.30000000000000004', 'NaN', 'Infinity', '1e999']
        expect(columnA(oneColumn(type, cells), cells.length)).toEqual([
          { t: 'n', v: 1.5 },
          { t: 'n', v: -2e10 },
          { t: 'n', v: 1e-7 },
          { t: 'n', v: 0.30000000000000004 },
          { t: 's', v: 'NaN' },
          { t: 's', v: 'Infinity' },
          { t: 's', v: '1e999' },
        ])
      }
    })

    it('writes booleans as boolean cells, anything else as text', async () => {
      const bytes = oneColumn('BOOLEAN', ['true', 'false', null, 'yes'])
      expect(columnA(bytes, 4)).toEqual([
        { t: 'b', v: true },
        { t: 'b', v: false },
        undefined,
        { t: 's', v: 'yes' },
      ])
      expect((await readExcelJs(bytes))[0]!.rows).toEqual([[true], [false], [], ['yes']])
    })

    it('writes other types as text, even when the text looks like a number', () => {
      for (const type of ['VARCHAR', 'CHAR(3)', 'ANY', '']) {
        expect(columnA(oneColumn(type, ['12', '2012-01-01', 'true']), 3)).toEqual([
          { t: 's', v: '12' },
          { t: 's', v: '2012-01-01' },
          { t: 's', v: 'true' },
        ])
      }
    })

    it('writes dates as real date cells: Excel serials with a yyyy-mm-dd format', async () => {
      const cells = ['2012-01-01', '1900-01-01', '1900-02-28', '1900-03-01', '9999-12-31']
      const invalid = ['2013-02-29', '1899-12-31', '2012-1-1', '2012-01-01 00:00:00', 'x']
      const bytes = oneColumn('date', [...cells, ...invalid])
      const workbook = readSheetJs(bytes)
      // Excel's own serials, its fictitious 1900-02-29 (serial 60) counted.
      const serials = [40909, 1, 59, 61, 2958465]
      serials.forEach((serial, i) => {
        expect(sheetJsCell(workbook, 'query_result', `A${i + 1}`)).toMatchObject({
          t: 'n',
          v: serial,
          z: 'yyyy-mm-dd',
          w: cells[i],
        })
      })
      invalid.forEach((text, i) => {
        expect(sheetJsCell(workbook, 'query_result', `A${cells.length + i + 1}`)).toMatchObject({
          t: 's',
          v: text,
        })
      })
      const [sheet] = await readExcelJs(bytes)
      expect(sheet!.rows[0]).toEqual([new Date(Date.UTC(2012, 0, 1))])
      expect(sheet!.rows[3]).toEqual([new Date(Date.UTC(1900, 2, 1))])
      expect(sheet!.formats[0]).toEqual(['yyyy-mm-dd'])
      expect(sheet!.rows.slice(cells.length)).toEqual(invalid.map((text) => [text]))
    })

    it('writes timestamps as real date-time cells, milliseconds shown where there are some', async () => {
      const cells = [
        '2012-01-01 10:11:12',
        '2012-01-01 10:11:12.0',
        '2012-01-01 10:11:12.123',
        '2012-01-01T23:59:59.999000',
        '1900-01-01 12:00:00',
      ]
      const invalid = ['2012-01-01 24:00:00', '2012-01-01 10:11:12.1234', '2012-01-01', 'now']
      const bytes = oneColumn('TIMESTAMP', [...cells, ...invalid])
      const workbook = readSheetJs(bytes)
      const expected = [
        { v: 40909 + (10 * 3600 + 11 * 60 + 12) / 86400, w: '2012-01-01 10:11:12' },
        { v: 40909 + (10 * 3600 + 11 * 60 + 12) / 86400, w: '2012-01-01 10:11:12' },
        { v: 40909 + (10 * 3600 + 11 * 60 + 12.123) / 86400, w: '2012-01-01 10:11:12.123' },
        { v: 40909 + (86400 - 0.001) / 86400, w: '2012-01-01 23:59:59.999' },
        { v: 1.5, w: '1900-01-01 12:00:00' },
      ]
      expected.forEach(({ v, w }, i) => {
        const cell = sheetJsCell(workbook, 'query_result', `A${i + 1}`)
        expect(cell).toMatchObject({ t: 'n', w })
        expect(cell!.v as number).toBeCloseTo(v, 9)
      })
      invalid.forEach((text, i) => {
        expect(sheetJsCell(workbook, 'query_result', `A${cells.length + i + 1}`)).toMatchObject({
          t: 's',
          v: text,
        })
      })
      const [sheet] = await readExcelJs(bytes)
      expect(sheet!.rows.slice(0, 4)).toEqual([
        [new Date(Date.UTC(2012, 0, 1, 10, 11, 12))],
        [new Date(Date.UTC(2012, 0, 1, 10, 11, 12))],
        [new Date(Date.UTC(2012, 0, 1, 10, 11, 12, 123))],
        [new Date(Date.UTC(2012, 0, 1, 23, 59, 59, 999))],
      ])
      expect(sheet!.formats.slice(0, 3)).toEqual([
        ['yyyy-mm-dd hh:mm:ss'],
        ['yyyy-mm-dd hh:mm:ss'],
        ['yyyy-mm-dd hh:mm:ss.000'],
      ])
    })

    it('types each column on its own, and a cell past the last column as text', () => {
      const typed = toColumns([
        { label: 'S', columnTypeName: 'VARCHAR' },
        { label: 'I', columnTypeName: 'BIGINT' },
        { label: 'B', columnTypeName: 'BOOLEAN' },
      ])
      const workbook = readSheetJs(writeXlsx(typed, [['1', '1', 'true', '1']], noHeader))
      expect(toSheetJsRows(workbook, 'query_result')).toEqual([['1', 1, true, '1']])
    })
  })

  describe('text', () => {
    const hard = [
      'say "hi", then \'bye\'',
      'a,b;c|d',
      'line\nbreak',
      'cr\rlf\r\n',
      'tab\there',
      '上海 東京 é ü',
      '😀 emoji 👩‍👩‍👧',
      '  leading and trailing  ',
      '\n',
      ' ',
      '<a href="x">&amp;</a> & < > "',
      ']]> <![CDATA[',
      '\u2028\u2029\ufeff\ufffd',
    ]

    it('gives back every CSV-hard string exactly, in both readers', async () => {
      const labels = toColumns(hard.map((_, i) => ({ label: `c${i}`, columnTypeName: 'VARCHAR' })))
      const bytes = writeXlsx(labels, [hard, hard], noHeader)
      expect(toSheetJsRows(readSheetJs(bytes), 'query_result')).toEqual([hard, hard])
      expect((await readExcelJs(bytes))[0]!.rows).toEqual([hard, hard])
    })

    it("writes what XML 1.0 cannot carry as Excel's _xHHHH_, and a literal _xHHHH_ escaped", async () => {
      const cells = [
        'nul\u0000 bell\u0007 vt\u000b ff\u000c esc\u001b us\u001f',
        'lone \ud800 and \udfff, pair \ud83d\ude00',
        'non-characters \ufffe \uffff',
        '_x0041_ and _X0041_ and _x00e9_ and _x12_',
        '\u0001',
      ]
      const labels = toColumns(cells.map((_, i) => ({ label: `c${i}` })))
      const bytes = writeXlsx(labels, [cells], noHeader)
      expect(toSheetJsRows(readSheetJs(bytes), 'query_result')).toEqual([cells])
      // exceljs does not decode _xHHHH_; it shows the escape Excel itself writes.
      const [row] = (await readExcelJs(bytes))[0]!.rows
      expect(row![0]).toBe('nul_x0000_ bell_x0007_ vt_x000B_ ff_x000C_ esc_x001B_ us_x001F_')
      expect(row![3]).toBe('_x005F_x0041_ and _x005F_X0041_ and _x005F_x00e9_ and _x12_')
    })

    it('escapes header labels as cells', async () => {
      const labels = toColumns([{ label: ' <A&B> ' }, { label: 'x\u0001"y"' }])
      const bytes = writeXlsx(labels, [], { includeHeader: true })
      expect(toSheetJsRows(readSheetJs(bytes), 'query_result')).toEqual([[' <A&B> ', 'x\u0001"y"']])
      expect((await readExcelJs(bytes))[0]!.rows[0]![0]).toBe(' <A&B> ')
    })

    it('fails on a cell past 32,767 characters, naming its row and column', () => {
      const labels = toColumns([{ label: 'ID' }, { label: 'COMMENT' }])
      const fits = 'x'.repeat(32_767)
      const workbook = readSheetJs(writeXlsx(labels, [['1', fits]], noHeader))
      expect(sheetJsCell(workbook, 'query_result', 'B1')?.v).toBe(fits)
      const writer = createXlsxWriter({ includeHeader: true })
      writer.start(labels)
      const rows = [
        ['1', 'ok'],
        ['2', 'ok'],
        ['3', `${fits}y`],
      ]
      let end = 0
      const batch = { cells: rows.flat(), rowEnds: rows.map((r) => (end += r.length)) }
      const error = (() => {
        try {
          writer.rows(batch)
        } catch (error) {
          return error
        }
      })()
      expect(error).toBeInstanceOf(GatewayError)
      expect((error as GatewayError).status).toBe(422)
      expect((error as Error).message).toBe(
        'The result cannot be written as xlsx: row 3 of the result, column "COMMENT", holds ' +
          '32768 characters and an Excel cell at most 32767. Download it as CSV, which has no such ' +
          'limit.',
      )
    })

    it('fails on a header label past 32,767 characters, and on a row past 16,384 cells', () => {
      const long = toColumns([{ label: 'A' }, { label: 'L'.repeat(32_768) }])
      expect(() => writeXlsx(long, [], { includeHeader: true })).toThrow(
        /the header, column "L+", holds 32768 characters/,
      )
      expect(writeXlsx(long, [], noHeader).length).toBeGreaterThan(0)
      const wide = [Array.from({ length: 16_385 }, () => 'x')]
      expect(() => writeXlsx(null, wide, noHeader)).toThrow(
        /row 1 of the result has 16385 cells and an Excel sheet at most 16384 columns/,
      )
    })
  })

  describe('sheets past the row limit', () => {
    const rows = Array.from({ length: 7 }, (_, i) => [`r${i + 1}`, String(i + 1)])

    it('continues on query_result_2, _3, … repeating the header', async () => {
      const bytes = writeXlsx(columns, rows, { includeHeader: true, maxSheetRows: 3 }, [2, 1, 4])
      const workbook = readSheetJs(bytes)
      const names = ['query_result', 'query_result_2', 'query_result_3', 'query_result_4']
      expect(workbook.SheetNames).toEqual(names)
      const header = ['NAME', 'N']
      const expected = [
        [header, ['r1', 1], ['r2', 2]],
        [header, ['r3', 3], ['r4', 4]],
        [header, ['r5', 5], ['r6', 6]],
        [header, ['r7', 7]],
      ]
      expect(names.map((name) => toSheetJsRows(workbook, name))).toEqual(expected)
      const sheets = await readExcelJs(bytes)
      expect(sheets.map((s) => [s.name, s.rows])).toEqual(names.map((n, i) => [n, expected[i]]))
    })

    it('fills each sheet to the limit without a header, and opens no empty sheet', () => {
      const workbook = readSheetJs(
        writeXlsx(columns, rows.slice(0, 6), { ...noHeader, maxSheetRows: 3 }),
      )
      expect(workbook.SheetNames).toEqual(['query_result', 'query_result_2'])
      expect(toSheetJsRows(workbook, 'query_result_2')).toEqual([
        ['r4', 4],
        ['r5', 5],
        ['r6', 6],
      ])
    })

    it("defaults to Excel's 1,048,576 rows, and refuses a limit a sheet cannot keep", () => {
      expect(() => createXlsxWriter({ includeHeader: true, maxSheetRows: 1 })).toThrow(TypeError)
      expect(() => createXlsxWriter({ includeHeader: false, maxSheetRows: 0 })).toThrow(TypeError)
      expect(() => createXlsxWriter({ includeHeader: false, maxSheetRows: 1_048_577 })).toThrow(
        TypeError,
      )
      expect(() => createXlsxWriter({ includeHeader: false, maxSheetRows: 1 })).not.toThrow()
    })
  })

  describe('streaming', () => {
    it('hands bytes on as rows come, in bounded pieces, and ends with the small workbook parts', () => {
      const many = Array.from({ length: 200_000 }, (_, i) => [
        `row ${i} ${'x'.repeat(i % 50)}`,
        String(i),
      ])
      const parts = writeParts(columns, many, noHeader, [5_000])
      const rowParts = parts.slice(1, -1)
      expect(rowParts.filter((p) => p.length > 0).length).toBeGreaterThan(rowParts.length * 0.9)
      expect(Math.max(...parts.map((p) => p.length))).toBeLessThan(256 * 1024)
      expect(parts.at(-1)!.length).toBeLessThan(64 * 1024)
    })

    it('writes the same bytes, and a workbook both readers read alike, whatever the batch split (property)', async () => {
      const text = fc.string({ unit: 'binary', maxLength: 12 })
      const number = fc.integer({ min: -1e6, max: 1e6 }).map(String)
      const cell = fc.option(fc.oneof(text, number), { nil: null })
      const typed = toColumns([
        { label: 'T', columnTypeName: 'VARCHAR' },
        { label: 'I', columnTypeName: 'INTEGER' },
        { label: 'D', columnTypeName: 'DATE' },
      ])
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(cell, { minLength: 0, maxLength: 4 }), { maxLength: 25 }),
          fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }),
          fc.integer({ min: 2, max: 9 }),
          fc.boolean(),
          async (table, sizes, maxSheetRows, includeHeader) => {
            const options = { includeHeader, maxSheetRows }
            const whole = writeXlsx(typed, table, options)
            const split = writeXlsx(typed, table, options, sizes)
            expect(split).toEqual(whole)
            const workbook = readSheetJs(split)
            const sheets = await readExcelJs(split)
            const perSheet = maxSheetRows - (includeHeader ? 1 : 0)
            const sheetCount = Math.max(1, Math.ceil(table.length / perSheet))
            expect(workbook.SheetNames).toHaveLength(sheetCount)
            expect(sheets.map((s) => s.name)).toEqual(workbook.SheetNames)
            table.forEach((row, k) => {
              const sheet = workbook.Sheets[workbook.SheetNames[Math.floor(k / perSheet)]!]!
              const sheetRow = (k % perSheet) + 1 + (includeHeader ? 1 : 0)
              const read = [0, 1, 2, 3].map((c) => {
                const cell = sheet[`${'ABCD'[c]}${sheetRow}`] as { v: unknown } | undefined
                return cell === undefined ? null : cell.v
              })
              const expected = [0, 1, 2, 3].map((c) => expectedCell(row[c] ?? null, c))
              expect(read).toEqual(expected)
              // exceljs leaves Excel's _xHHHH_ escapes as they are and reads '' as no value.
              const cells = sheets[Math.floor(k / perSheet)]!.rows[sheetRow - 1] ?? []
              expected.forEach((value, c) => {
                if (typeof value === 'string' && NEEDS_ESCAPE.test(value)) return
                expect(cells[c] ?? null).toEqual(value === '' ? null : value)
              })
            })
          },
        ),
        { numRuns: 60 },
      )
    }, 60_000)
  })
})

/** Text that the writer keeps only through `_xHHHH_` escapes. */
const NEEDS_ESCAPE =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|_[xX][0-9A-Fa-f]{4}_|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** What a reader should see for a generated cell in column `i` (VARCHAR, INTEGER, DATE). */
function expectedCell(cell: Cell, i: number): unknown {
  if (cell === null) return null
  if (i === 1 && /^-?(0|[1-9]\d*)$/.test(cell)) return Number(cell)
  return cell
}
