/**
 * Cells as typed values, by Kylin's column type name, for the ndjson and xlsx writers. A value
 * becomes a number only when a double holds it exactly; otherwise it stays a string, never rounded.
 * Portable.
 */
import type { Cell, Column } from '../types.ts'
import { parseTypeName } from './columnar/column-types.ts'

/** How a column's cells are written. */
export type ValueKind = 'integer' | 'decimal' | 'float' | 'boolean' | 'string'

const KINDS: Readonly<Record<string, ValueKind>> = {
  BIGINT: 'integer',
  INTEGER: 'integer',
  INT: 'integer',
  SMALLINT: 'integer',
  TINYINT: 'integer',
  DECIMAL: 'decimal',
  NUMERIC: 'decimal',
  DOUBLE: 'float',
  FLOAT: 'float',
  REAL: 'float',
  BOOLEAN: 'boolean',
}

const INTEGER_TEXT = /^-?(?:0|[1-9]\d*)$/
const DECIMAL_TEXT = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/
const NUMBER_TEXT = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/

/** A column's type name without its `(p,s)`, in upper case (`decimal(19, 4)` → `DECIMAL`). */
export function toBareTypeName(column: Column): string {
  return parseTypeName(column.typeName).name
}

/** The kind of a column from its type name (`DECIMAL(19,4)` and `decimal` alike). */
export function toValueKind(column: Column): ValueKind {
  return KINDS[toBareTypeName(column)] ?? 'string'
}

/** A cell as JSON text of its kind; the cell's own text when it is written as a number. */
export function toTypedJson(cell: Cell, kind: ValueKind): string {
  if (cell === null) return 'null'
  return isTypedValue(cell, kind) ? cell : JSON.stringify(cell)
}

/**
 * Whether a cell's text is a value of its kind that may be written as such (a number a double
 * holds exactly, `true` or `false`) rather than as a string.
 */
export function isTypedValue(cell: string, kind: ValueKind): boolean {
  switch (kind) {
    case 'integer':
      // Past 2^53 a double would round the value: it stays a string.
      return INTEGER_TEXT.test(cell) && Number.isSafeInteger(Number(cell))
    case 'decimal':
      return isExactDouble(cell)
    case 'float':
      // Kylin's text of a double; NaN and Infinity are not JSON numbers, so they stay strings.
      return NUMBER_TEXT.test(cell) && Number.isFinite(Number(cell))
    case 'boolean':
      return cell === 'true' || cell === 'false'
    case 'string':
      return false
  }
}

/**
 * Whether a plain decimal's value survives a double: the shortest text of the double equals the
 * decimal without its trailing fraction zeros (`1.50` → 1.5 yes; `0.1` yes; `1.0000000000000001`
 * no). Exponent forms (past 1e21, below 1e-6) are not compared and stay strings.
 */
function isExactDouble(text: string): boolean {
  if (!DECIMAL_TEXT.test(text)) return false
  const trimmed = text.includes('.') ? text.replace(/\.?0+$/, '') : text
  return String(Number(text)) === trimmed
}
