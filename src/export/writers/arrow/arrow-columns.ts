/**
 * A column's Arrow type (from column-types.ts), and a group's values of it as Arrow data: the
 * buffers of its type, nulls in a validity bitmap. Portable.
 */
import { makeData, type Data, type DataProps } from 'apache-arrow/data'
import {
  Bool,
  DateDay,
  Decimal,
  Float64,
  Int32,
  Int64,
  TimestampMicrosecond,
  Utf8,
  type DataType,
} from 'apache-arrow/type'
import { GatewayError } from '../../../errors.ts'
import type { CellValue } from '../columnar/cell-values.ts'
import type { ColumnType } from '../columnar/column-types.ts'

type Values = readonly (CellValue | null)[]

export interface ArrowColumn {
  readonly type: DataType
  toData(values: Values): Data
}

/** The largest offset of Utf8 (32-bit offsets). */
const MAX_UTF8_BYTES = 2 ** 31 - 1

export function toArrowColumn(type: ColumnType): ArrowColumn {
  switch (type.kind) {
    case 'int64':
      return toColumn(new Int64(), (values) => fill(new BigInt64Array(values.length), values))
    case 'int32':
      return toColumn(new Int32(), (values) => fill(new Int32Array(values.length), values))
    case 'decimal':
      return toColumn(new Decimal(type.scale, type.precision, 128), toDecimal128)
    case 'double':
      return toColumn(new Float64(), (values) => fill(new Float64Array(values.length), values))
    case 'date':
      return toColumn(new DateDay(), (values) => fill(new Int32Array(values.length), values))
    case 'timestamp':
      // Wall-clock times without a zone, as Kylin gives them.
      return toColumn(new TimestampMicrosecond(), (values) =>
        fill(new BigInt64Array(values.length), values),
      )
    case 'boolean':
      return toColumn(new Bool(), (values) => toBitmap(values, (value) => value === true))
    case 'string':
      return toColumn(new Utf8(), toUtf8)
  }
}

/** `toBuffers`: the data buffer, or the offsets and data of a variable-width type. */
function toColumn<T extends DataType>(
  type: T,
  toBuffers: (values: Values) => ArrayBufferView | Utf8Buffers,
): ArrowColumn {
  return {
    type,
    toData(values) {
      const buffers = toBuffers(values)
      const props = { type, length: values.length, ...toValidity(values) }
      return makeData({
        ...props,
        ...(ArrayBuffer.isView(buffers) ? { data: buffers } : buffers),
      } as DataProps<T>)
    },
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

interface Utf8Buffers {
  valueOffsets: Int32Array
  data: Uint8Array
}

function toUtf8(values: Values): Utf8Buffers {
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
