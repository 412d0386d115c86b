/** Cell text → exact typed values, or a refusal that never quotes the cell. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  toCellParser,
  type CellValue,
} from '../../../../src/export/writers/columnar/cell-values.ts'
import type { ColumnType } from '../../../../src/export/writers/columnar/column-types.ts'

const parse = (type: ColumnType, text: string): CellValue | string => {
  const value = toCellParser(type)(text)
  return typeof value === 'object' ? `refused: ${value.reason}` : value
}
const INT64: ColumnType = { kind: 'int64' }
const INT32: ColumnType = { kind: 'int32' }
const decimal = (precision: number, scale: number): ColumnType => ({
  kind: 'decimal',
  precision,
  scale,
})

describe('export/writers/columnar/cell-values', () => {
  it('reads 64-bit integers exactly, past 2^53 too, and refuses anything else', () => {
    expect(parse(INT64, '9007199254740993')).toBe(9007199254740993n)
    expect(parse(INT64, '-9223372036854775808')).toBe(-(2n ** 63n))
    expect(parse(INT64, '9223372036854775807')).toBe(2n ** 63n - 1n)
    expect(parse(INT64, '007')).toBe(7n)
    expect(parse(INT64, '9223372036854775808')).toBe('refused: is outside the 64-bit integer range')
    for (const text of ['abc', '', '1.0', '1e3', '+1', ' 1', '0x10']) {
      expect(parse(INT64, text)).toBe('refused: is not an integer')
    }
  })

  it('reads 32-bit integers within their range', () => {
    expect(parse(INT32, '-2147483648')).toBe(-2147483648)
    expect(parse(INT32, '2147483647')).toBe(2147483647)
    expect(Object.is(parse(INT32, '-0'), 0)).toBe(true)
    expect(parse(INT32, '2147483648')).toBe('refused: is outside the 32-bit integer range')
    expect(parse(INT32, '1.5')).toBe('refused: is not an integer')
  })

  it('reads decimals as their unscaled value at the scale, exactly', () => {
    const d = decimal(21, 4)
    // Java's BigDecimal.toString writes exponents; trailing zeros past the scale keep the value.
    const cases: [string, bigint][] = [
      ['12345678901234567.8901', 123456789012345678901n],
      ['-12345678901234567.8901', -123456789012345678901n],
      ['1.5', 15000n],
      ['-0.0001', -1n],
      ['0', 0n],
      ['-0.00', 0n],
      ['.5', 5000n],
      ['5.', 50000n],
      ['1E-4', 1n],
      ['1.5E+2', 1500000n],
      ['1.50000', 15000n],
      ['0E-10', 0n],
    ]
    for (const [text, value] of cases) expect(parse(d, text)).toBe(value)
    expect(parse(decimal(38, 0), '9'.repeat(38))).toBe(10n ** 38n - 1n)
  })

  it('refuses a decimal it would change: more fraction digits than the scale, or too many digits', () => {
    const d = decimal(21, 4)
    expect(parse(d, '1.00001')).toBe('refused: has more fraction digits than the scale 4')
    expect(parse(d, '1E-5')).toBe('refused: has more fraction digits than the scale 4')
    expect(parse(d, '1E-99999999999')).toBe('refused: has more fraction digits than the scale 4')
    expect(parse(d, '123456789012345678.0001')).toBe(
      'refused: needs more than the 21 digits of DECIMAL(21,4)',
    )
    expect(parse(d, '1E+9999999999')).toBe(
      'refused: needs more than the 21 digits of DECIMAL(21,4)',
    )
    for (const text of ['abc', '', '.', '-', '1.2.3', '1e', 'NaN', '1,5']) {
      expect(parse(d, text)).toBe('refused: is not a decimal number')
    }
  })

  it('reads any decimal that fits exactly (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 38 }).chain((precision) =>
          fc.record({
            precision: fc.constant(precision),
            scale: fc.integer({ min: 0, max: precision }),
            digits: fc.bigInt({ min: 0n, max: 10n ** BigInt(precision) - 1n }),
            negative: fc.boolean(),
          }),
        ),
        ({ precision, scale, digits, negative }) => {
          const unscaled = negative ? -digits : digits
          const text = digits.toString().padStart(scale + 1, '0')
          const written = `${negative ? '-' : ''}${text.slice(0, text.length - scale)}${scale ? '.' : ''}${text.slice(text.length - scale)}`
          expect(parse(decimal(precision, scale), written)).toBe(unscaled)
        },
      ),
    )
  })

  it('reads doubles, NaN and the infinities as Java writes them', () => {
    const d: ColumnType = { kind: 'double' }
    expect(parse(d, '0.1')).toBe(0.1)
    expect(parse(d, '1.0E10')).toBe(1e10)
    expect(parse(d, '-1.5e-3')).toBe(-0.0015)
    expect(parse(d, 'NaN')).toBeNaN()
    expect(parse(d, '-Infinity')).toBe(-Infinity)
    expect(parse(d, 'abc')).toBe('refused: is not a number')
    expect(parse(d, '')).toBe('refused: is not a number')
  })

  it('reads dates as days since 1970-01-01, and refuses days that do not exist', () => {
    const d: ColumnType = { kind: 'date' }
    expect(parse(d, '1970-01-01')).toBe(0)
    expect(parse(d, '2012-01-01')).toBe(15340)
    expect(parse(d, '1969-12-31')).toBe(-1)
    expect(parse(d, '2000-02-29')).toBe(11016)
    expect(parse(d, '0001-01-01')).toBe(-719162)
    expect(parse(d, '9999-12-31')).toBe(2932896)
    for (const text of ['1900-02-29', '2012-13-01', '2012-00-10', '2012-04-31', '2012-1-1', '']) {
      expect(parse(d, text)).toBe('refused: is not a date (yyyy-MM-dd)')
    }
  })

  it('reads timestamps as microseconds of the wall-clock time, fractions up to microseconds', () => {
    const t: ColumnType = { kind: 'timestamp' }
    const cases: [string, bigint][] = [
      ['2012-01-01 10:11:12', 1325412672000000n],
      ['2012-01-01 10:11:12.0', 1325412672000000n],
      ['2012-01-01 10:11:12.123', 1325412672123000n],
      ['2012-01-01T10:11:12.123456', 1325412672123456n],
      ['2012-01-01 10:11:12.123456000', 1325412672123456n],
      ['2012-01-01', 1325376000000000n],
      ['1969-12-31 23:59:59.999', -1000n],
      ['9999-12-31 23:59:59.999999', 253402300799999999n],
      ['0001-01-01 00:00:00', -62135596800000000n],
    ]
    for (const [text, value] of cases) expect(parse(t, text)).toBe(value)
    expect(parse(t, '2012-01-01 10:11:12.1234567')).toBe(
      'refused: has a fraction of a second finer than microseconds',
    )
    for (const text of ['2012-01-01 24:00:00', '2012-01-01 10:60:00', '2012-02-30 00:00:00', 'x']) {
      expect(parse(t, text)).toBe('refused: is not a timestamp (yyyy-MM-dd HH:mm:ss.fffffffff)')
    }
  })

  it('reads booleans in any case', () => {
    const b: ColumnType = { kind: 'boolean' }
    expect(parse(b, 'true')).toBe(true)
    expect(parse(b, 'FALSE')).toBe(false)
    expect(parse(b, '1')).toBe('refused: is not true or false')
  })

  it('keeps strings as they are', () => {
    expect(parse({ kind: 'string' }, ' a,"b"\r\n😀 ')).toBe(' a,"b"\r\n😀 ')
  })
})
