/**
 * The ndjson writer and its typing: each line read back with JSON.parse, numbers only where a
 * double holds the value exactly. Portable.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { toColumns } from '../../../src/export/columns.ts'
import type { Cell, Column } from '../../../src/export/types.ts'
import { createNdjsonWriter } from '../../../src/export/writers/ndjson.ts'

const decoder = new TextDecoder()

function write(columns: readonly Column[], rows: Cell[][]): string {
  const writer = createNdjsonWriter()
  let end = 0
  const batch = { cells: rows.flat(), rowEnds: rows.map((r) => (end += r.length)) }
  return [writer.start(columns), writer.rows(batch), writer.end()]
    .map((bytes) => decoder.decode(bytes))
    .join('')
}

/** Every line parsed alone; the text must end with a newline after the last row. */
function read(text: string): unknown[] {
  if (text === '') return []
  expect(text.endsWith('\n')).toBe(true)
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line))
}

/** One column of the given type, and the values its cells read back as. */
function typed(type: string, cells: Cell[]): unknown[] {
  const columns = toColumns([{ label: 'V', columnTypeName: type }])
  return read(
    write(
      columns,
      cells.map((cell) => [cell]),
    ),
  ).map((row) => (row as { V: unknown }).V)
}

describe('export/writers/ndjson', () => {
  it('writes one object per line keyed by label, nothing for no rows', () => {
    const columns = toColumns([
      { label: 'NAME', columnTypeName: 'VARCHAR' },
      { label: 'N', columnTypeName: 'INTEGER' },
    ])
    expect(
      write(columns, [
        ['a', '1'],
        [null, null],
      ]),
    ).toBe('{"NAME":"a","N":1}\n{"NAME":null,"N":null}\n')
    expect(write(columns, [])).toBe('')
  })

  it('writes integers as numbers up to 2^53, and larger ones as exact strings', () => {
    for (const type of ['BIGINT', 'INTEGER', 'SMALLINT', 'TINYINT', 'bigint']) {
      expect(typed(type, ['0', '-7', '9007199254740991', '9007199254740992'])).toEqual([
        0,
        -7,
        9007199254740991,
        '9007199254740992',
      ])
    }
    expect(typed('BIGINT', ['123456789012345678901234567890', '1.0', '007', '+1', 'x'])).toEqual([
      '123456789012345678901234567890',
      '1.0',
      '007',
      '+1',
      'x',
    ])
  })

  it('writes a decimal as a number only when a double holds its value exactly', () => {
    const cells = [
      '1.50',
      '0.1',
      '-12.340',
      '100',
      '0.0',
      '1.0000000000000001',
      '12345678901234567890',
    ]
    const more = ['9007199254740993', '1e5', '-0.00', '0.0000001']
    expect(typed('DECIMAL(19,4)', [...cells, ...more])).toEqual([
      1.5,
      0.1,
      -12.34,
      100,
      0,
      '1.0000000000000001',
      '12345678901234567890',
      '9007199254740993',
      '1e5',
      '-0.00',
      '0.0000001',
    ])
    // The number keeps the cell's own text, so its scale shows to a reader that looks.
    const columns = toColumns([{ label: 'P', columnTypeName: 'DECIMAL' }])
    expect(write(columns, [['1.50']])).toBe('{"P":1.50}\n')
  })

  it('writes doubles as numbers, and NaN and infinities as strings', () => {
    for (const type of ['DOUBLE', 'FLOAT', 'REAL']) {
      expect(
        typed(type, ['1.5', '-2.0E10', '1e-7', 'NaN', 'Infinity', '-Infinity', '1e999']),
      ).toEqual([1.5, -2e10, 1e-7, 'NaN', 'Infinity', '-Infinity', '1e999'])
    }
  })

  it('writes booleans as true and false, nulls as null, other types as strings', () => {
    expect(typed('BOOLEAN', ['true', 'false', null, 'yes'])).toEqual([true, false, null, 'yes'])
    for (const type of ['VARCHAR', 'CHAR', 'DATE', 'TIMESTAMP', 'ANY', '']) {
      expect(typed(type, ['2024-01-01', '12', null])).toEqual(['2024-01-01', '12', null])
    }
  })

  it('keeps quotes, CR/LF, unicode, surrogate pairs and lone surrogates on one line each', () => {
    const cells = ['say "hi"', 'a\r\nb', 'x,y', '上海', '😀', 'lone \udc00', '\u2028']
    const columns = toColumns(cells.map((_, i) => ({ label: `c${i}`, columnTypeName: 'VARCHAR' })))
    const text = write(columns, [cells, cells])
    expect(text.split('\n')).toHaveLength(3)
    expect(read(text).map((row) => Object.values(row as object))).toEqual([cells, cells])
  })

  it('keeps every cell of repeated labels and ragged rows, extra cells as strings', () => {
    const columns = toColumns([
      { label: 'A', columnTypeName: 'INTEGER' },
      { label: 'A', columnTypeName: 'INTEGER' },
    ])
    expect(read(write(columns, [['1', '2', '3']]))).toEqual([{ A: 1, A_2: 2, _c2: '3' }])
  })

  it('never changes a value it writes as a number (property)', () => {
    const columns = toColumns([
      { label: 'I', columnTypeName: 'BIGINT' },
      { label: 'D', columnTypeName: 'DECIMAL' },
    ])
    const integer = fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String)
    const decimal = fc
      .tuple(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.integer({ min: 0, max: 20 }))
      .map(([digits, scale]) => toDecimalText(digits, scale))
    fc.assert(
      fc.property(integer, decimal, (i, d) => {
        const [row] = read(write(columns, [[i, d]])) as { I: unknown; D: unknown }[]
        if (typeof row!.I === 'number') expect(BigInt(row!.I)).toBe(BigInt(i))
        else expect(row!.I).toBe(i)
        if (typeof row!.D === 'number') expect(row!.D).toBe(Number(d))
        else expect(row!.D).toBe(d)
        // A number only where the double's shortest text is the decimal's own value.
        if (typeof row!.D === 'number') expect(String(row!.D)).toBe(stripZeros(d))
      }),
    )
  })
})

/** `digits` × 10^-scale as plain decimal text, e.g. (-1234n, 2) → `-12.34`. */
function toDecimalText(digits: bigint, scale: number): string {
  const sign = digits < 0n ? '-' : ''
  const text = (digits < 0n ? -digits : digits).toString().padStart(scale + 1, '0')
  return scale === 0 ? `${sign}${text}` : `${sign}${text.slice(0, -scale)}.${text.slice(-scale)}`
}

function stripZeros(decimal: string): string {
  return decimal.includes('.') ? decimal.replace(/\.?0+$/, '') : decimal
}
