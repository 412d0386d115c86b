/**
 * What the Parquet and Arrow writer tests share: a result of every Kylin type, rows cut into
 * batches anywhere, generated valid rows, and the expected values computed here, apart from the
 * writers' own parsing. Portable.
 */
import fc from 'fast-check'
import { toColumns } from '../../../src/export/columns.ts'
import { exportResult, type ExportFormat } from '../../../src/export/export-result.ts'
import type { Cell, Column, ResultWriter, RowBatch } from '../../../src/export/types.ts'
import { toBody } from '../kylin-responses.ts'
import { concat, readAll, toChunkedStream } from '../support.ts'

/** One column of each type the columnar writers map, as Kylin's columnMetas give them. */
export const MIXED_METAS = [
  { label: 'ID', columnTypeName: 'BIGINT', precision: 19, scale: 0 },
  { label: 'QTY', columnTypeName: 'INTEGER', precision: 10, scale: 0 },
  { label: 'SMALL', columnTypeName: 'smallint', precision: 5, scale: 0 },
  { label: 'PRICE', columnTypeName: 'DECIMAL', precision: 21, scale: 4 },
  { label: 'RATE', columnTypeName: 'DECIMAL(9,2)', precision: null, scale: null },
  { label: 'MID', columnTypeName: 'decimal(18,6)', precision: 18, scale: 6 },
  { label: 'RATIO', columnTypeName: 'DOUBLE', precision: 15, scale: 0 },
  { label: 'DAY', columnTypeName: 'DATE', precision: 0, scale: 0 },
  { label: 'AT', columnTypeName: 'TIMESTAMP', precision: 0, scale: 0 },
  { label: 'FLAG', columnTypeName: 'BOOLEAN', precision: 1, scale: 0 },
  { label: 'NAME', columnTypeName: 'VARCHAR', precision: 256, scale: 0 },
  { label: 'LOOSE', columnTypeName: 'DECIMAL', precision: null, scale: null },
]
export const MIXED: Column[] = toColumns(MIXED_METAS)

/** Rows of MIXED: extremes, nulls, and strings that stress every quoting rule. */
export const MIXED_ROWS: Cell[][] = [
  [
    '9007199254740993',
    '2147483647',
    '-32768',
    '12345678901234567.8901',
    '9999999.99',
    '123456789012.345678',
    '0.1',
    '2012-01-01',
    '2012-01-01 10:11:12',
    'true',
    'a,"b"\r\nc',
    '3.14159265358979323846',
  ],
  [null, null, null, null, null, null, null, null, null, null, null, null],
  [
    '-9223372036854775808',
    '-2147483648',
    '0',
    '-0.0001',
    '-1.50',
    '-0.000001',
    '-1.0E10',
    '1969-12-31',
    '1969-12-31 23:59:59.999',
    'false',
    '東京 😀 é\u2028\t',
    '-0',
  ],
  [
    '9223372036854775807',
    '0',
    '7',
    '0',
    '0.00',
    '999999999999.999999',
    '1.7976931348623157E308',
    '9999-12-31',
    '2024-02-29 23:59:59.123456',
    'TRUE',
    '',
    '',
  ],
]

/** The result of MIXED_ROWS as the independent readers give it, column by column (see tests). */
export const MIXED_TEXT = {
  PRICE: ['12345678901234567.8901', null, '-0.0001', '0.0000'],
  RATE: ['9999999.99', null, '-1.50', '0.00'],
  MID: ['123456789012.345678', null, '-0.000001', '999999999999.999999'],
  AT_MICROS: [
    toMicros('2012-01-01T10:11:12Z'),
    null,
    toMicros('1969-12-31T23:59:59.999Z'),
    toMicros('2024-02-29T23:59:59.123Z') + 456n,
  ],
}

export function toMicros(iso: string): bigint {
  return BigInt(Date.parse(iso)) * 1000n
}

/** `rows` of MIXED as a Kylin SQLResponse body. */
export function toMixedBody(rows: readonly (readonly Cell[])[] = MIXED_ROWS): string {
  return toBody(
    [
      ['columnMetas', MIXED_METAS],
      ['results', rows],
      ['isException', false],
    ],
    [0, 1, 2],
    'pretty2',
  )
}

/** MIXED_ROWS through exportResult, the body in chunks of odd sizes. */
export async function exportMixed(format: ExportFormat) {
  const { stream, summary } = exportResult(
    toChunkedStream(new TextEncoder().encode(toMixedBody()), [7, 100]),
    { source: { kind: 'kylin-json' }, format },
  )
  const { bytes } = await readAll(stream)
  return { bytes, summary: await summary }
}

/** Rows as one batch of flat cells. */
export function toBatch(rows: readonly (readonly Cell[])[]): RowBatch {
  let end = 0
  return { cells: rows.flat(), rowEnds: rows.map((row) => (end += row.length)) }
}

/** Rows cut before each index in `cuts` (any order; repeats and out-of-range ignored). */
export function toBatches(rows: readonly (readonly Cell[])[], cuts: readonly number[] = []) {
  const at = [...new Set(cuts)].filter((c) => c > 0 && c < rows.length).sort((a, b) => a - b)
  const batches: RowBatch[] = []
  let from = 0
  for (const cut of [...at, rows.length]) {
    batches.push(toBatch(rows.slice(from, cut)))
    from = cut
  }
  return batches
}

/** start, each batch, end: every call's bytes, and the file they make together. */
export function writeAll(
  writer: ResultWriter,
  columns: readonly Column[],
  rows: readonly (readonly Cell[])[],
  cuts: readonly number[] = [],
): { parts: Uint8Array[]; file: Uint8Array } {
  const parts = [
    writer.start(columns),
    ...toBatches(rows, cuts).map((batch) => writer.rows(batch)),
    writer.end(),
  ]
  return { parts, file: concat(parts) }
}

/** The error `run` throws (fails the test when it does not throw). */
export function errorOf(run: () => unknown): Error {
  try {
    run()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a failure')
}

const stringCell = fc.string({ unit: fc.constantFrom('a', ',', '"', '\r', '\n', 'é', '😀', ' ') })

/** A valid row of MIXED, or nulls anywhere. */
export const mixedRow: fc.Arbitrary<Cell[]> = fc.tuple(
  fc.option(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String)),
  fc.option(fc.integer().map(String)),
  fc.option(fc.integer({ min: -32768, max: 32767 }).map(String)),
  fc.option(toDecimalText(21, 4)),
  fc.option(toDecimalText(9, 2)),
  fc.option(toDecimalText(18, 6)),
  fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }).map(String)),
  fc.option(
    fc
      .date({ min: new Date('0001-01-01'), max: new Date('9999-12-31'), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10)),
  ),
  fc.option(
    fc
      .date({ min: new Date('1900-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 23).replace('T', ' ')),
  ),
  fc.option(fc.constantFrom('true', 'false')),
  fc.option(stringCell),
  fc.option(stringCell),
)

/** Decimal text of at most `precision` digits with `scale` fraction digits. */
function toDecimalText(precision: number, scale: number): fc.Arbitrary<string> {
  return fc
    .bigInt({ min: -(10n ** BigInt(precision)) + 1n, max: 10n ** BigInt(precision) - 1n })
    .map((unscaled) => formatDecimal(unscaled, scale))
}

/** An unscaled decimal as text with `scale` fraction digits, as DuckDB prints it. */
export function formatDecimal(unscaled: bigint, scale: number): string {
  const digits = (unscaled < 0n ? -unscaled : unscaled).toString().padStart(scale + 1, '0')
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`
  return unscaled < 0n ? `-${text}` : text
}
