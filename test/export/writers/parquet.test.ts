/**
 * The Parquet writer, read back by two readers that share nothing with it: hyparquet (values,
 * schema, row groups) and DuckDB (types, and decimals and timestamps exactly). Node only: DuckDB
 * reads the file from a temporary directory.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import fc from 'fast-check'
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GatewayError } from '../../../src/errors.ts'
import { toColumns } from '../../../src/export/columns.ts'
import type { Cell } from '../../../src/export/types.ts'
import {
  createParquetWriter,
  type ParquetOptions,
} from '../../../src/export/writers/parquet/parquet-writer.ts'
import {
  errorOf,
  exportMixed,
  MIXED,
  MIXED_ROWS,
  MIXED_TEXT,
  mixedRow,
  toBatch,
  toMicros,
  writeAll,
} from './columnar-support.ts'

let dir: string
let duck: DuckDBConnection
let files = 0

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parquet-writer-'))
  duck = await (await DuckDBInstance.create(':memory:')).connect()
})

afterAll(async () => {
  duck?.closeSync()
  await rm(dir, { recursive: true, force: true })
})

function write(rows: Cell[][], options?: ParquetOptions, columns = MIXED) {
  return writeAll(createParquetWriter(options), columns, rows).file
}

/** hyparquet's rows; timestamps as their microseconds, dates as days, no conversion to Date. */
function read(file: Uint8Array) {
  return parquetReadObjects({
    file: toArrayBuffer(file),
    parsers: { timestampFromMicroseconds: (micros: bigint) => micros, dateFromDays: (d) => d },
  })
}

function toArrayBuffer(file: Uint8Array): ArrayBuffer {
  return file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer
}

/** DuckDB's answer to `sql`, where `$file` is the file written to the temporary directory. */
async function query(file: Uint8Array, sql: string): Promise<Record<string, unknown>[]> {
  const path = join(dir, `${files++}.parquet`)
  await writeFile(path, file)
  const reader = await duck.runAndReadAll(sql.replaceAll('$file', `read_parquet('${path}')`))
  return reader.getRowObjectsJson() as Record<string, unknown>[]
}

const days = (date: string) => Date.parse(date) / 86_400_000

describe('export/writers/parquet', () => {
  it('writes each Kylin type as its Parquet type', async () => {
    const file = write(MIXED_ROWS)
    const described = await query(file, 'DESCRIBE SELECT * FROM $file')
    expect(described.map((c) => [c.column_name, c.column_type, c.null])).toEqual([
      ['ID', 'BIGINT', 'YES'],
      ['QTY', 'INTEGER', 'YES'],
      ['SMALL', 'INTEGER', 'YES'],
      ['PRICE', 'DECIMAL(21,4)', 'YES'],
      ['RATE', 'DECIMAL(9,2)', 'YES'],
      ['MID', 'DECIMAL(18,6)', 'YES'],
      ['RATIO', 'DOUBLE', 'YES'],
      ['DAY', 'DATE', 'YES'],
      ['AT', 'TIMESTAMP', 'YES'],
      ['FLAG', 'BOOLEAN', 'YES'],
      ['NAME', 'VARCHAR', 'YES'],
      ['LOOSE', 'VARCHAR', 'YES'],
    ])
    const schema = parquetSchema(parquetMetadata(toArrayBuffer(file))).children.map(
      (c) => c.element,
    )
    expect(schema.map((e) => [e.name, e.type, e.logical_type?.type ?? null])).toEqual([
      ['ID', 'INT64', null],
      ['QTY', 'INT32', null],
      ['SMALL', 'INT32', null],
      ['PRICE', 'FIXED_LEN_BYTE_ARRAY', 'DECIMAL'],
      ['RATE', 'INT32', 'DECIMAL'],
      ['MID', 'INT64', 'DECIMAL'],
      ['RATIO', 'DOUBLE', null],
      ['DAY', 'INT32', 'DATE'],
      ['AT', 'INT64', 'TIMESTAMP'],
      ['FLAG', 'BOOLEAN', null],
      ['NAME', 'BYTE_ARRAY', 'STRING'],
      ['LOOSE', 'BYTE_ARRAY', 'STRING'],
    ])
    expect(schema[8]?.logical_type).toEqual({
      type: 'TIMESTAMP',
      isAdjustedToUTC: false,
      unit: 'MICROS',
    })
    expect(schema.every((e) => e.repetition_type === 'OPTIONAL')).toBe(true)
  })

  it('reads back every value and null with hyparquet', async () => {
    const rows = await read(write(MIXED_ROWS))
    expect(rows).toHaveLength(4)
    expect(rows.map((r) => r.ID)).toEqual([
      9007199254740993n,
      null,
      -9223372036854775808n,
      9223372036854775807n,
    ])
    expect(rows.map((r) => r.QTY)).toEqual([2147483647, null, -2147483648, 0])
    expect(rows.map((r) => r.SMALL)).toEqual([-32768, null, 0, 7])
    expect(rows.map((r) => r.RATIO)).toEqual([0.1, null, -1e10, 1.7976931348623157e308])
    expect(rows.map((r) => r.DAY)).toEqual([days('2012-01-01'), null, -1, days('9999-12-31')])
    expect(rows.map((r) => r.AT)).toEqual(MIXED_TEXT.AT_MICROS)
    expect(rows.map((r) => r.FLAG)).toEqual([true, null, false, true])
    expect(rows.map((r) => r.NAME)).toEqual(['a,"b"\r\nc', null, '東京 😀 é\u2028\t', ''])
    expect(rows.map((r) => r.LOOSE)).toEqual(['3.14159265358979323846', null, '-0', ''])
    // hyparquet reads decimals as doubles; DuckDB checks them exactly below.
    expect(rows.map((r) => r.RATE)).toEqual([9999999.99, null, -1.5, 0])
  })

  it('reads back the same values with DuckDB, decimals and timestamps exactly', async () => {
    const rows = await query(
      write(MIXED_ROWS),
      `SELECT ID::VARCHAR AS ID, QTY, PRICE::VARCHAR AS PRICE, RATE::VARCHAR AS RATE,
        MID::VARCHAR AS MID, DAY::VARCHAR AS DAY, epoch_us("AT")::VARCHAR AS "AT", FLAG, NAME
        FROM $file`,
    )
    expect(rows.map((r) => r.ID)).toEqual([
      '9007199254740993',
      null,
      '-9223372036854775808',
      '9223372036854775807',
    ])
    expect(rows.map((r) => r.PRICE)).toEqual(MIXED_TEXT.PRICE)
    expect(rows.map((r) => r.RATE)).toEqual(MIXED_TEXT.RATE)
    expect(rows.map((r) => r.MID)).toEqual(MIXED_TEXT.MID)
    expect(rows.map((r) => r.DAY)).toEqual(['2012-01-01', null, '1969-12-31', '9999-12-31'])
    expect(rows.map((r) => r.AT)).toEqual(MIXED_TEXT.AT_MICROS.map((m) => m?.toString() ?? null))
    expect(rows.map((r) => r.FLAG)).toEqual([true, null, false, true])
    expect(rows.map((r) => r.NAME)).toEqual(['a,"b"\r\nc', null, '東京 😀 é\u2028\t', ''])
  })

  it('keeps strings with quotes, separators, line ends, unicode and emoji as they are', async () => {
    const texts = ['"', '""', ',', ';', '\r', '\n', '\r\n', '\\', 'é€東', '😀👍🏽', '\u0000', ' x ']
    const columns = toColumns([{ label: 'S', columnTypeName: 'VARCHAR' }])
    const file = write(
      texts.map((t) => [t]),
      {},
      columns,
    )
    expect((await read(file)).map((r) => r.S)).toEqual(texts)
    expect((await query(file, 'SELECT S FROM $file')).map((r) => r.S)).toEqual(texts)
  })

  it('writes row groups of rowGroupSize rows, each as soon as it is full', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => MIXED_ROWS[i % MIXED_ROWS.length]!)
    const writer = createParquetWriter({ rowGroupSize: 3 })
    const head = writer.start(MIXED)
    const first = writer.rows(toBatch(rows.slice(0, 2)))
    const second = writer.rows(toBatch(rows.slice(2, 7)))
    const last = writer.end()
    expect(new TextDecoder().decode(head)).toBe('PAR1')
    // Two rows fill no group; seven fill two; the end writes the last row, then the footer.
    expect(first).toHaveLength(0)
    expect(second.length).toBeGreaterThan(0)
    const file = new Uint8Array([...head, ...first, ...second, ...last])
    const metadata = parquetMetadata(toArrayBuffer(file))
    expect(metadata.row_groups.map((g) => g.num_rows)).toEqual([3n, 3n, 1n])
    expect(await read(file)).toEqual(await read(write(rows.slice(0, 7))))
  })

  it('writes a valid file with the schema when there are no rows', async () => {
    const file = write([])
    expect(await read(file)).toEqual([])
    expect(parquetMetadata(toArrayBuffer(file)).row_groups).toEqual([])
    const described = await query(file, 'DESCRIBE SELECT * FROM $file')
    expect(described.map((c) => c.column_type)).toContain('DECIMAL(21,4)')
    expect(await query(file, 'SELECT count(*)::INTEGER AS n FROM $file')).toEqual([{ n: 0 }])
  })

  it('gives the same bytes whatever batches the rows come in (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(mixedRow, { maxLength: 40 }),
        fc.array(fc.nat(40)),
        fc.integer({ min: 1, max: 12 }),
        async (rows, cuts, rowGroupSize) => {
          const whole = writeAll(createParquetWriter({ rowGroupSize }), MIXED, rows).file
          const split = writeAll(createParquetWriter({ rowGroupSize }), MIXED, rows, cuts).file
          expect(split).toEqual(whole)
          const read = await parquetReadObjects({ file: toArrayBuffer(split) })
          expect(read.map((r) => r.NAME)).toEqual(rows.map((r) => r[10]))
          expect(read.map((r) => r.ID)).toEqual(
            rows.map((r) => (r[0] == null ? null : BigInt(r[0]))),
          )
        },
      ),
      { numRuns: 60 },
    )
  })

  it('reads back generated rows exactly with DuckDB', async () => {
    const rows = fc.sample(mixedRow, { numRuns: 300, seed: 7 })
    const file = writeAll(
      createParquetWriter({ rowGroupSize: 64 }),
      MIXED,
      rows,
      [5, 100, 299],
    ).file
    const read = await query(
      file,
      `SELECT ID::VARCHAR AS ID, QTY::VARCHAR AS QTY, PRICE::VARCHAR AS PRICE,
        RATE::VARCHAR AS RATE, MID::VARCHAR AS MID, RATIO, DAY::VARCHAR AS DAY,
        epoch_us("AT")::VARCHAR AS "AT", FLAG, NAME FROM $file`,
    )
    const column = (i: number) => rows.map((r) => r[i] ?? null)
    expect(read.map((r) => r.ID)).toEqual(column(0))
    expect(read.map((r) => r.QTY)).toEqual(column(1))
    expect(read.map((r) => r.PRICE)).toEqual(column(3))
    expect(read.map((r) => r.RATE)).toEqual(column(4))
    expect(read.map((r) => r.MID)).toEqual(column(5))
    expect(read.map((r) => r.RATIO)).toEqual(column(6).map((t) => (t === null ? null : Number(t))))
    expect(read.map((r) => r.DAY)).toEqual(column(7))
    expect(read.map((r) => r.AT)).toEqual(
      column(8).map((t) => (t === null ? null : toMicros(`${t.replace(' ', 'T')}Z`).toString())),
    )
    expect(read.map((r) => r.FLAG)).toEqual(
      column(9).map((t) => (t === null ? null : t === 'true')),
    )
    expect(read.map((r) => r.NAME)).toEqual(column(10))
  })

  it('refuses a cell its column cannot hold, naming the row and column, never the value', () => {
    const cases: [number, string, string][] = [
      [0, 'secret', 'column "ID" (BIGINT): the value is not an integer'],
      [
        0,
        '9223372036854775808',
        'column "ID" (BIGINT): the value is outside the 64-bit integer range',
      ],
      [1, '2147483648', 'column "QTY" (INTEGER): the value is outside the 32-bit integer range'],
      [
        3,
        '1.23456',
        'column "PRICE" (DECIMAL(21,4)): the value has more fraction digits than the scale 4',
      ],
      [
        4,
        '12345678.9',
        'column "RATE" (DECIMAL(9,2)): the value needs more than the 9 digits of DECIMAL(9,2)',
      ],
      [6, 'secret', 'column "RATIO" (DOUBLE): the value is not a number'],
      [7, '2012-02-30', 'column "DAY" (DATE): the value is not a date (yyyy-MM-dd)'],
      [9, 'yes', 'column "FLAG" (BOOLEAN): the value is not true or false'],
    ]
    for (const [column, cell, problem] of cases) {
      const bad = MIXED_ROWS[0]!.map((c, i) => (i === column ? cell : c))
      const error = errorOf(() => write([...MIXED_ROWS, bad]))
      expect(error).toBeInstanceOf(GatewayError)
      expect(error.message).toBe(`The result cannot be written as Parquet: row 5, ${problem}.`)
      expect(error.message).not.toContain(cell)
    }
    expect(errorOf(() => write([['1']])).message).toBe(
      'The result cannot be written as Parquet: row 1 has 1 cell, not one per column (12).',
    )
  })

  it('compresses with snappy by default, or not at all', async () => {
    const rows = Array.from({ length: 500 }, () => MIXED_ROWS[0]!)
    const snappy = write(rows)
    const none = write(rows, { compression: 'none' })
    const codecs = (file: Uint8Array) =>
      parquetMetadata(toArrayBuffer(file)).row_groups.flatMap((g) =>
        g.columns.map((c) => c.meta_data?.codec),
      )
    expect(new Set(codecs(snappy))).toEqual(new Set(['SNAPPY']))
    expect(new Set(codecs(none))).toEqual(new Set(['UNCOMPRESSED']))
    expect(await read(snappy)).toEqual(await read(none))
  })

  it('writes a Kylin SQLResponse through exportResult', async () => {
    const { bytes, summary } = await exportMixed({ kind: 'parquet', rowGroupSize: 3 })
    expect(summary).toMatchObject({ rows: 4, bytes: bytes.length, partial: false })
    expect(bytes).toEqual(write(MIXED_ROWS, { rowGroupSize: 3 }))
    const read = await query(bytes, 'SELECT PRICE::VARCHAR AS PRICE FROM $file')
    expect(read.map((r) => r.PRICE)).toEqual(MIXED_TEXT.PRICE)
  })
})
