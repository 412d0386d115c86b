/**
 * The typed columns of the columnar writers (Parquet, Arrow) from Kylin's column type: one
 * mapping for both formats, and the one reader of Kylin type names (`DECIMAL(19,4)`). Portable.
 */
import type { Column } from '../../types.ts'

export type ColumnType =
  | { kind: 'int64' }
  | { kind: 'int32' }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'double' }
  | { kind: 'date' }
  | { kind: 'timestamp' }
  | { kind: 'boolean' }
  | { kind: 'string' }

/** The widest decimal both formats write (Arrow's Decimal128; DuckDB reads no wider). */
export const MAX_DECIMAL_PRECISION = 38

const INT64: ColumnType = { kind: 'int64' }
const INT32: ColumnType = { kind: 'int32' }
const DOUBLE: ColumnType = { kind: 'double' }
const STRING: ColumnType = { kind: 'string' }
/** A decimal's precision and scale come from the name or the column (`toColumnType`). */
const DECIMAL = 'decimal'

const TYPES: Readonly<Record<string, ColumnType | typeof DECIMAL>> = {
  BIGINT: INT64,
  INTEGER: INT32,
  INT: INT32,
  SMALLINT: INT32,
  TINYINT: INT32,
  DECIMAL,
  NUMERIC: DECIMAL,
  DOUBLE,
  // A FLOAT's text read as a double keeps its value; as a 32-bit float it would not print back.
  FLOAT: DOUBLE,
  REAL: DOUBLE,
  DATE: { kind: 'date' },
  TIMESTAMP: { kind: 'timestamp' },
  BOOLEAN: { kind: 'boolean' },
}

const PARAMETERS = /^\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$/

export interface TypeName {
  /** Upper case, without parameters: `DECIMAL` for `decimal(19, 4)`. */
  name: string
  /** The parameters in parentheses, when the name carries them (`DECIMAL(19)`: scale absent). */
  precision?: number
  scale?: number
}

/** Kylin's `columnTypeName` in any case, with or without `(p)` / `(p,s)`. */
export function parseTypeName(typeName: string): TypeName {
  const text = typeName.trim().toUpperCase()
  const open = text.indexOf('(')
  if (open < 0) return { name: text }
  const name = text.slice(0, open).trim()
  const match = PARAMETERS.exec(text.slice(open))
  if (!match) return { name }
  return match[2] === undefined
    ? { name, precision: Number(match[1]) }
    : { name, precision: Number(match[1]), scale: Number(match[2]) }
}

/**
 * A column's type. A decimal takes its precision and scale from the type name, else from the
 * column (`DECIMAL(p)` has scale 0); when either is unknown, or beyond what the formats hold
 * (precision 1–38, scale 0–precision), it is a string column of Kylin's own text.
 */
export function toColumnType(column: Column): ColumnType {
  const parsed = parseTypeName(column.typeName)
  const type = TYPES[parsed.name] ?? STRING
  if (type !== DECIMAL) return type
  const precision = parsed.precision ?? column.precision
  const scale = parsed.precision !== undefined ? (parsed.scale ?? 0) : column.scale
  if (precision === null || scale === null) return STRING
  if (precision < 1 || precision > MAX_DECIMAL_PRECISION || scale < 0 || scale > precision) {
    return STRING
  }
  return { kind: DECIMAL, precision, scale }
}

/** The type as a reader of the error names it: Kylin's name, with the decimal's parameters. */
export function describeColumnType(column: Column, type: ColumnType): string {
  const { name } = parseTypeName(column.typeName)
  return type.kind === 'decimal' ? `${name}(${type.precision},${type.scale})` : name || 'VARCHAR'
}
