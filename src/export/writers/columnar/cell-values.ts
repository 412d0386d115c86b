/**
 * Kylin's cell text → the typed value a columnar writer stores, exactly or not at all: a cell
 * whose value the type cannot hold unchanged is refused with the reason. Portable.
 */
import type { ColumnType } from './column-types.ts'

/**
 * A parsed cell: bigint (BIGINT; a decimal's unscaled value; a timestamp's microseconds since
 * 1970-01-01 00:00, no time zone), number (INTEGER, DOUBLE; a date's days since 1970-01-01),
 * boolean or string.
 */
export type CellValue = bigint | number | boolean | string

/** Why a cell is not a value of its column's type. It never holds the cell itself. */
export interface Refusal {
  readonly reason: string
}

/** A parser returns the value, or a refusal (the only object it returns). */
export type CellParser = (text: string) => CellValue | Refusal

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const INT32_MIN = -(2 ** 31)
const INT32_MAX = 2 ** 31 - 1

const INTEGER = /^-?\d+$/
const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/
const DOUBLE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^-?Infinity$|^NaN$/
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?)?$/
const BOOLEAN = /^(?:true|false)$/i

const NOT_INTEGER: Refusal = { reason: 'is not an integer' }
const NOT_DECIMAL: Refusal = { reason: 'is not a decimal number' }
const NOT_NUMBER: Refusal = { reason: 'is not a number' }
const NOT_DATE: Refusal = { reason: 'is not a date (yyyy-MM-dd)' }
const NOT_TIMESTAMP: Refusal = { reason: 'is not a timestamp (yyyy-MM-dd HH:mm:ss.fffffffff)' }
const FINER_THAN_MICROS: Refusal = { reason: 'has a fraction of a second finer than microseconds' }
const NOT_BOOLEAN: Refusal = { reason: 'is not true or false' }
const PAST_INT64: Refusal = { reason: 'is outside the 64-bit integer range' }
const PAST_INT32: Refusal = { reason: 'is outside the 32-bit integer range' }

/** The parser of a column type's cells. */
export function toCellParser(type: ColumnType): CellParser {
  switch (type.kind) {
    case 'int64':
      return parseInt64
    case 'int32':
      return parseInt32
    case 'decimal':
      return toDecimalParser(type.precision, type.scale)
    case 'double':
      return parseDouble
    case 'date':
      return parseDate
    case 'timestamp':
      return parseTimestamp
    case 'boolean':
      return parseBoolean
    case 'string':
      return (text) => text
  }
}

function parseInt64(text: string): bigint | Refusal {
  if (!INTEGER.test(text)) return NOT_INTEGER
  const value = BigInt(text)
  return value < INT64_MIN || value > INT64_MAX ? PAST_INT64 : value
}

function parseInt32(text: string): number | Refusal {
  if (!INTEGER.test(text)) return NOT_INTEGER
  const value = Number(text)
  // -0 is 0: the text has no other value.
  return value < INT32_MIN || value > INT32_MAX ? PAST_INT32 : value + 0
}

/**
 * A decimal's unscaled value at the column's scale: digits past the scale may only be zeros
 * (`1.50` in a scale of 1 is 15), and the value needs at most `precision` digits. Exponent forms
 * (Java's BigDecimal writes `1E-8`) are exact too.
 */
function toDecimalParser(precision: number, scale: number): CellParser {
  const moreFraction: Refusal = { reason: `has more fraction digits than the scale ${scale}` }
  const moreDigits: Refusal = {
    reason: `needs more than the ${precision} digits of DECIMAL(${precision},${scale})`,
  }
  return (text) => {
    const match = DECIMAL.exec(text)
    const whole = match?.[2] ?? ''
    const fraction = match?.[3] ?? ''
    if (!match || whole.length + fraction.length === 0) return NOT_DECIMAL
    let digits = (whole + fraction).replace(/^0+/, '')
    if (digits === '') return 0n
    // The unscaled value is digits × 10^shift.
    let shift = scale - fraction.length + (match[4] === undefined ? 0 : Number(match[4]))
    if (shift < 0) {
      if (-shift >= digits.length || !/^0+$/.test(digits.slice(shift))) return moreFraction
      digits = digits.slice(0, shift)
      shift = 0
    }
    if (digits.length + shift > precision) return moreDigits
    const unscaled = BigInt(shift === 0 ? digits : digits + '0'.repeat(shift))
    return match[1] === '-' ? -unscaled : unscaled
  }
}

function parseDouble(text: string): number | Refusal {
  return DOUBLE.test(text) ? Number(text) : NOT_NUMBER
}

function parseDate(text: string): number | Refusal {
  const match = DATE.exec(text)
  return match ? (toEpochDay(match[1]!, match[2]!, match[3]!) ?? NOT_DATE) : NOT_DATE
}

/** Microseconds since 1970-01-01 00:00 of the wall-clock time as written (no time zone). */
function parseTimestamp(text: string): bigint | Refusal {
  const match = TIMESTAMP.exec(text)
  if (!match) return NOT_TIMESTAMP
  const day = toEpochDay(match[1]!, match[2]!, match[3]!)
  const hours = Number(match[4] ?? 0)
  const minutes = Number(match[5] ?? 0)
  const seconds = Number(match[6] ?? 0)
  if (day === undefined || hours > 23 || minutes > 59 || seconds > 59) return NOT_TIMESTAMP
  const fraction = (match[7] ?? '').padEnd(9, '0')
  if (!fraction.endsWith('000')) return FINER_THAN_MICROS
  const micros = Number(fraction.slice(0, 6))
  const total = day * 86_400 + hours * 3_600 + minutes * 60 + seconds
  const exact = total * 1_000_000 + micros
  // Past about 285 years from 1970 a double no longer holds the microseconds.
  return Number.isSafeInteger(exact) ? BigInt(exact) : BigInt(total) * 1_000_000n + BigInt(micros)
}

function parseBoolean(text: string): boolean | Refusal {
  return BOOLEAN.test(text) ? text.length === 4 : NOT_BOOLEAN
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** Days since 1970-01-01 of a proleptic Gregorian date, or undefined when there is no such day. */
function toEpochDay(yearText: string, monthText: string, dayText: string): number | undefined {
  const year = Number(yearText)
  const month = Number(monthText)
  const day = Number(dayText)
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  const length = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]
  if (length === undefined || day < 1 || day > length) return undefined
  // Howard Hinnant's days_from_civil: years counted from March, so the leap day ends a year.
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146_097 + dayOfEra - 719_468
}
