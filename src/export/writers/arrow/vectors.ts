/**
 * One column of a group as Arrow data: its values (cell-values.ts) in the buffers of its type,
 * nulls in a validity bitmap. Portable.
 */
import { makeData, type Data } from 'apache-arrow/data'
import type {
  Bool,
  DataType,
  DateDay,
  Decimal,
  Float64,
  Int32,
  Int64,
  TimestampMicrosecond,
  Utf8,
} from 'apache-arrow/type'
import { GatewayError } from '../../../errors.ts'
import type { CellValue } from '../columnar/cell-values.ts'
import type { ColumnType } from '../columnar/column-types.ts'

type Values = readonly (CellValue | null)[]

/** The largest offset of Utf8 (32-bit offsets). */
const MAX_UTF8_BYTES = 2 ** 31 - 1

/** `arrowType` is the field's type, the one arrow/schema.ts made for `type`. */
export function toArrowData(type: ColumnType, arrowType: DataType, values: Values): Data {
  const length = values.length
  const validity = { length, ...toValidity(values) }
  switch (type.kind) {
    case 'int64':
      return makeData({
        type: arrowType as Int64,
        ...validity,
        data: fill(new BigInt64Array(length), values),
      })
    case 'timestamp':
      return makeData({
        type: arrowType as TimestampMicrosecond,
        ...validity,
        data: fill(new BigInt64Array(length), values),
      })
    case 'int32':
      return makeData({
        type: arrowType as Int32,
        ...validity,
        data: fill(new Int32Array(length), values),
      })
    case 'date':
      return makeData({
        type: arrowType as DateDay,
        ...validity,
        data: fill(new Int32Array(length), values),
      })
    case 'double':
      return makeData({
        type: arrowType as Float64,
        ...validity,
        data: fill(new Float64Array(length), values),
      })
    case 'decimal':
      return makeData({ type: arrowType as Decimal, ...validity, data: toDecimal128(values) })
    case 'boolean':
      return makeData({
        type: arrowType as Bool,
        ...validity,
        data: toBitmap(values, (v) => v === true),
      })
    case 'string':
      return makeData({ type: arrowType as Utf8, ...validity, ...toUtf8(values) })
  }
}

function fill<A extends BigInt64Array | Int32Array | Float64Array>(array: A, values: Values): A {
  for (let i = 0; i < values.length; i++) {
    const value = values[i]
    if (value !== null) array[i] = value as never
  }
  return array
}

/** A bitmap of the valid entries, or none when every entry is valid (Arrow's shorthand). */
function toValidity(values: Values): { nullBitmap: Uint8Array | undefined; nullCount: number } {
  let nullCount = 0
  for (const value of values) if (value === null) nullCount++
  if (nullCount === 0) return { nullBitmap: undefined, nullCount }
  return { nullBitmap: toBitmap(values, (value) => value !== null), nullCount }
}

function toBitmap(values: Values, isSet: (value: CellValue | null) => boolean): Uint8Array {
  const bits = new Uint8Array((values.length + 7) >> 3)
  for (let i = 0; i < values.length; i++) if (isSet(values[i]!)) bits[i >> 3]! |= 1 << (i & 7)
  return bits
}

/** 128-bit two's complement, little-endian: the low 64 bits, then the high 64 bits. */
function toDecimal128(values: Values): Uint32Array {
  const words = new BigInt64Array(values.length * 2)
  for (let i = 0; i < values.length; i++) {
    const value = values[i]
    if (typeof value !== 'bigint') continue
    words[2 * i] = BigInt.asIntN(64, value)
    words[2 * i + 1] = value >> 64n
  }
  return new Uint32Array(words.buffer)
}

function toUtf8(values: Values): { valueOffsets: Int32Array; data: Uint8Array } {
  const encoder = new TextEncoder()
  const valueOffsets = new Int32Array(values.length + 1)
  let data = new Uint8Array(1024)
  let end = 0
  for (let i = 0; i < values.length; i++) {
    const value = values[i]
    if (typeof value === 'string') {
      // At most 3 bytes per UTF-16 unit.
      const needed = end + value.length * 3
      if (needed > MAX_UTF8_BYTES) {
        throw new GatewayError(500, {
          text: 'The result cannot be written as Arrow: a record batch holds more than 2 GiB of text.',
        })
      }
      if (needed > data.length) {
        const grown = new Uint8Array(Math.min(MAX_UTF8_BYTES, Math.max(needed, data.length * 2)))
        grown.set(data.subarray(0, end))
        data = grown
      }
      end += encoder.encodeInto(value, data.subarray(end)).written
    }
    valueOffsets[i + 1] = end
  }
  return { valueOffsets, data: data.subarray(0, end) }
}
