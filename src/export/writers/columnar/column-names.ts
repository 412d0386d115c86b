/**
 * The field names of the columnar writers: the column labels made unique (a reader of Parquet or
 * Arrow may keep one of two equal names), an empty label named by position. Portable.
 */
import type { Column } from '../../types.ts'
import { createUniqueNames } from '../unique-names.ts'

export function toFieldNames(columns: readonly Column[]): string[] {
  const toUnique = createUniqueNames()
  return columns.map((column, i) => toUnique(column.label === '' ? `_c${i}` : column.label))
}
