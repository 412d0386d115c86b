/**
 * One cell as SpreadsheetML, typed by its column's Kylin type: a number only where Excel shows the
 * exact value, a boolean, a date serial, else inline text (no shared-string table). Portable.
 */
import type { Column } from '../../types.ts'
import { isTypedValue, toBareTypeName, toValueKind, type ValueKind } from '../typed-value.ts'
import { toExcelDate, toExcelTimestamp } from './excel-date.ts'
import { DATE_STYLE, TIMESTAMP_MILLIS_STYLE, TIMESTAMP_STYLE } from './styles.ts'
import { hasOuterSpace, toXmlText } from './xml-text.ts'

/** How a column's cells are written: typed-value.ts's kinds, and dates. */
export type CellKind = ValueKind | 'date' | 'timestamp'

/** Excel shows and keeps 15 significant digits; an exact number with more is kept as text. */
const EXCEL_DIGITS = 15

export function toCellKind(column: Column): CellKind {
  switch (toBareTypeName(column)) {
    case 'DATE':
      return 'date'
    case 'TIMESTAMP':
      return 'timestamp'
    default:
      return toValueKind(column)
  }
}

/**
 * The XML of a non-null cell; `open` is the start of its element up to its attributes
 * (`<c r="B7"`).
 */
export function toCellXml(cell: string, kind: CellKind, open: string): string {
  switch (kind) {
    case 'integer':
    case 'decimal':
      if (isTypedValue(cell, kind) && countDigits(cell) <= EXCEL_DIGITS) return toNumber(open, cell)
      break
    case 'float':
      // A double's own text: Excel holds the same double, only its display is rounded.
      if (isTypedValue(cell, kind)) return toNumber(open, cell)
      break
    case 'boolean':
      if (isTypedValue(cell, kind)) return `${open} t="b"><v>${cell === 'true' ? 1 : 0}</v></c>`
      break
    case 'date': {
      const serial = toExcelDate(cell)
      if (serial !== null) return `${open} s="${DATE_STYLE}"><v>${serial}</v></c>`
      break
    }
    case 'timestamp': {
      const time = toExcelTimestamp(cell)
      const style = time?.millis ? TIMESTAMP_MILLIS_STYLE : TIMESTAMP_STYLE
      if (time) return `${open} s="${style}"><v>${time.serial}</v></c>`
      break
    }
    case 'string':
      break
  }
  return toTextCellXml(cell, open)
}

/** A text cell, inline. */
export function toTextCellXml(cell: string, open: string): string {
  const space = hasOuterSpace(cell) ? ' xml:space="preserve"' : ''
  return `${open} t="inlineStr"><is><t${space}>${toXmlText(cell)}</t></is></c>`
}

function toNumber(open: string, value: string): string {
  return `${open}><v>${value}</v></c>`
}

/** Significant digits of a plain number's text (`-0.0120` → 2, `1000` → 1). */
function countDigits(text: string): number {
  let first = 0
  let last = text.length - 1
  while (first <= last && !isNonZeroDigit(text.charCodeAt(first))) first++
  while (last >= first && !isNonZeroDigit(text.charCodeAt(last))) last--
  if (first > last) return 0
  const point = text.indexOf('.', first)
  return last - first + 1 - (point !== -1 && point < last ? 1 : 0)
}

function isNonZeroDigit(code: number): boolean {
  return code >= 49 && code <= 57
}
