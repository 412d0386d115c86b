/**
 * The object keys of the JSON writers: one per column label, made unique so no cell is lost when
 * a reader keeps only the last of two equal keys. Portable.
 */
import type { Column } from '../types.ts'
import { createUniqueNames } from './unique-names.ts'

export interface RowKeys {
  /** The key of cell `index` of a row, as JSON text with its colon (`"label":`). */
  keyAt(index: number): string
}

/**
 * Keys from the column labels: a repeated label gets `_2`, `_3`, … (the first unused), and a
 * cell past the last column (a ragged row) is keyed `_c<index>` as Spark names unnamed columns.
 */
export function createRowKeys(columns: readonly Column[]): RowKeys {
  const toUnique = createUniqueNames()
  const keys: string[] = []
  const add = (wanted: string) => keys.push(`${JSON.stringify(toUnique(wanted))}:`)
  for (const column of columns) add(column.label)
  return {
    keyAt(index: number) {
      while (keys.length <= index) add(`_c${keys.length}`)
      return keys[index]!
    },
  }
}
