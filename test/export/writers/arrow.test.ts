/**
 * The Arrow writer, read back by apache-arrow's own IPC readers (tableFromIPC and the stream
 * reader), which share nothing with the writer's typing and parsing. Portable.
 */
import { RecordBatchStreamReader, tableFromIPC, util, type Table, type Vector } from 'apache-arrow'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { GatewayError } from '../../../src/errors.ts'
import { toColumns } from '../../../src/export/columns.ts'
import type { Cell } from '../../../src/export/types.ts'
import {
  createArrowWriter,
  type ArrowOptions,
} from '../../../src/export/writers/arrow/arrow-writer.ts'
import {
  errorOf,
  exportMixed,
  formatDecimal,
  MIXED,
  MIXED_ROWS,
  MIXED_TEXT,
  mixedRow,
  toBatch,
  toMicros,
  writeAll,
} from './columnar-support.ts'

function write(rows: Cell[][], options?: ArrowOptions, columns = MIXED) {
  return writeAll(createArrowWriter(options), columns, rows).file
}

function column(table: Table, name: string): Vector {
  const vector = table.getChild(name)
  if (!vector) throw new Error(`no column ${name}`)
  return vector
}

/** A column's values as the reader gives them, null where the entry is not valid. */
function valuesOf(table: Table, name: string): unknown[] {
  const vector = column(table, name)
  return Array.from({ length: vector.length }, (_, i) => (vector.isValid(i) ? vector.get(i) : null))
}

/** The stored 64-bit values of a column (timestamps in their unit), straight from its buffers. */
function rawInt64(table: Table, name: string): (bigint | null)[] {
  return column(table, name).data.flatMap((data) =>
    Array.from({ length: data.length }, (_, i) =>
      data.getValid(i) ? (data.values as BigInt64Array)[data.offset + i]! : null,
    ),
  )
}

/** A decimal column as text at its scale. */
function decimalsOf(table: Table, name: string, scale: number): (string | null)[] {
  return valuesOf(table, name).map((v) =>
    // bigNumToBigInt gives a 128-bit value as its decimal string.
    v === null ? null : formatDecimal(BigInt(util.bigNumToBigInt(v as never)), scale),
  )
}

describe('export/writers/arrow', () => {
  it('writes each Kylin type as its Arrow type, every field nullable', () => {
    const table = tableFromIPC(write(MIXED_ROWS))
    expect(table.schema.fields.map((f) => [f.name, String(f.type), f.nullable])).toEqual([
      ['ID', 'Int64', true],
      ['QTY', 'Int32', true],
      ['SMALL', 'Int32', true],
      ['PRICE', 'Decimal[21e+4]', true],
      ['RATE', 'Decimal[9e+2]', true],
      ['MID', 'Decimal[18e+6]', true],
      ['RATIO', 'Float64', true],
      ['DAY', 'Date32<DAY>', true],
      ['AT', 'Timestamp<MICROSECOND>', true],
      ['FLAG', 'Bool', true],
      ['NAME', 'Utf8', true],
      ['LOOSE', 'Utf8', true],
    ])
  })

  it('reads back every value and null exactly', () => {
    const table = tableFromIPC(write(MIXED_ROWS))
    expect(table.numRows).toBe(4)
    expect(valuesOf(table, 'ID')).toEqual([
      9007199254740993n,
      null,
      -9223372036854775808n,
      9223372036854775807n,
    ])
    expect(valuesOf(table, 'QTY')).toEqual([2147483647, null, -2147483648, 0])
    expect(valuesOf(table, 'SMALL')).toEqual([-32768, null, 0, 7])
    expect(decimalsOf(table, 'PRICE', 4)).toEqual(MIXED_TEXT.PRICE)
    expect(decimalsOf(table, 'RATE', 2)).toEqual(MIXED_TEXT.RATE)
    expect(decimalsOf(table, 'MID', 6)).toEqual(MIXED_TEXT.MID)
    expect(valuesOf(table, 'RATIO')).toEqual([0.1, null, -1e10, 1.7976931348623157e308])
    // DateDay reads as milliseconds since 1970.
    expect(valuesOf(table, 'DAY')).toEqual([
      Date.parse('2012-01-01'),
      null,
      -86_400_000,
      Date.parse('9999-12-31'),
    ])
    expect(rawInt64(table, 'AT')).toEqual(MIXED_TEXT.AT_MICROS)
    expect(valuesOf(table, 'FLAG')).toEqual([true, null, false, true])
    expect(valuesOf(table, 'NAME')).toEqual(['a,"b"\r\nc', null, '東京 😀 é\u2028\t', ''])
    expect(valuesOf(table, 'LOOSE')).toEqual(['3.14159265358979323846', null, '-0', ''])
  })

  it('keeps strings with quotes, separators, line ends, unicode and emoji as they are', () => {
    const texts = ['"', '""', ',', ';', '\r', '\n', '\r\n', '\\', 'é€東', '😀👍🏽', '\u0000', ' x ']
    const columns = toColumns([{ label: 'S', columnTypeName: 'VARCHAR' }])
    const table = tableFromIPC(
      write(
        texts.map((t) => [t]),
        {},
        columns,
      ),
    )
    expect(valuesOf(table, 'S')).toEqual(texts)
  })

  it('makes equal labels unique and names an empty one by its position', () => {
    const columns = toColumns([
      { label: 'A', columnTypeName: 'INTEGER' },
      { label: 'A', columnTypeName: 'VARCHAR' },
      { label: '', columnTypeName: 'VARCHAR' },
    ])
    const table = tableFromIPC(write([['1', 'x', 'y']], {}, columns))
    expect(table.schema.fields.map((f) => f.name)).toEqual(['A', 'A_2', '_c2'])
  })

  it('writes the schema at the start, a batch of batchSize rows as each fills, EOS at the end', () => {
    const rows = Array.from({ length: 10 }, (_, i) => MIXED_ROWS[i % MIXED_ROWS.length]!)
    const writer = createArrowWriter({ batchSize: 3 })
    const head = writer.start(MIXED)
    const first = writer.rows(toBatch(rows.slice(0, 2)))
    const second = writer.rows(toBatch(rows.slice(2, 7)))
    const last = writer.end()
    expect(tableFromIPC(head).schema.fields).toHaveLength(MIXED.length)
    expect(first).toHaveLength(0)
    // The end-of-stream marker: continuation, then a zero length.
    expect(Array.from(last.subarray(-8))).toEqual([255, 255, 255, 255, 0, 0, 0, 0])
    const file = new Uint8Array([...head, ...first, ...second, ...last])
    const reader = RecordBatchStreamReader.from(file)
    expect([...reader].map((batch) => batch.numRows)).toEqual([3, 3, 1])
    expect(tableFromIPC(file).toArray()).toEqual(tableFromIPC(write(rows.slice(0, 7))).toArray())
  })

  it('writes a valid stream with the schema when there are no rows', () => {
    const table = tableFromIPC(write([]))
    expect(table.numRows).toBe(0)
    expect(table.schema.fields.map((f) => String(f.type))).toContain('Decimal[21e+4]')
  })

  it('gives the same bytes whatever batches the rows come in (property)', () => {
    fc.assert(
      fc.property(
        fc.array(mixedRow, { maxLength: 40 }),
        fc.array(fc.nat(40)),
        fc.integer({ min: 1, max: 12 }),
        (rows, cuts, batchSize) => {
          const whole = writeAll(createArrowWriter({ batchSize }), MIXED, rows).file
          const split = writeAll(createArrowWriter({ batchSize }), MIXED, rows, cuts).file
          expect(split).toEqual(whole)
          const table = tableFromIPC(split)
          const texts = (i: number) => rows.map((r) => r[i] ?? null)
          expect(valuesOf(table, 'ID')).toEqual(
            texts(0).map((t) => (t === null ? null : BigInt(t))),
          )
          expect(decimalsOf(table, 'PRICE', 4)).toEqual(texts(3))
          expect(decimalsOf(table, 'MID', 6)).toEqual(texts(5))
          expect(valuesOf(table, 'RATIO')).toEqual(
            texts(6).map((t) => (t === null ? null : Number(t))),
          )
          expect(valuesOf(table, 'DAY')).toEqual(
            texts(7).map((t) => (t === null ? null : Date.parse(t))),
          )
          expect(rawInt64(table, 'AT')).toEqual(
            texts(8).map((t) => (t === null ? null : toMicros(`${t.replace(' ', 'T')}Z`))),
          )
          expect(valuesOf(table, 'NAME')).toEqual(texts(10))
        },
      ),
      { numRuns: 60 },
    )
  })

  it('refuses a cell its column cannot hold, naming the row and column, never the value', () => {
    const cases: [number, string, string][] = [
      [
        0,
        '-9223372036854775809',
        'column "ID" (BIGINT): the value is outside the 64-bit integer range',
      ],
      [
        5,
        '1.0000001',
        'column "MID" (DECIMAL(18,6)): the value has more fraction digits than the scale 6',
      ],
      [
        8,
        '2012-01-01 10:11:12.1234567',
        'column "AT" (TIMESTAMP): the value has a fraction of a second finer than microseconds',
      ],
      [
        8,
        'secret',
        'column "AT" (TIMESTAMP): the value is not a timestamp (yyyy-MM-dd HH:mm:ss.fffffffff)',
      ],
    ]
    for (const [column, cell, problem] of cases) {
      const bad = MIXED_ROWS[0]!.map((c, i) => (i === column ? cell : c))
      const error = errorOf(() => write([bad]))
      expect(error).toBeInstanceOf(GatewayError)
      expect(error.message).toBe(`The result cannot be written as Arrow: row 1, ${problem}.`)
      expect(error.message).not.toContain(cell)
    }
  })

  it('writes a Kylin SQLResponse through exportResult', async () => {
    const { bytes, summary } = await exportMixed({ kind: 'arrow', batchSize: 3 })
    expect(summary).toMatchObject({ rows: 4, bytes: bytes.length, partial: false })
    expect(bytes).toEqual(write(MIXED_ROWS, { batchSize: 3 }))
    expect(decimalsOf(tableFromIPC(bytes), 'PRICE', 4)).toEqual(MIXED_TEXT.PRICE)
  })
})
