/**
 * Rows of cells → one JSON object text per row, keyed by row-keys.ts, each cell written by the
 * caller's rule (the json writer's strings, the ndjson writer's typed values). Portable.
 */
import type { Cell, RowBatch } from '../types.ts'
import type { RowKeys } from './row-keys.ts'

/** Calls `emit` with each row of `batch` as JSON object text, in order. */
export function writeRowObjects(
  batch: RowBatch,
  keys: RowKeys,
  toValue: (cell: Cell, index: number) => string,
  emit: (object: string) => void,
): void {
  const { cells, rowEnds } = batch
  let c = 0
  for (let r = 0; r < rowEnds.length; r++) {
    const end = rowEnds[r]!
    let object = '{'
    for (let i = 0; c < end; c++, i++) {
      if (i !== 0) object += ','
      object += keys.keyAt(i) + toValue(cells[c] as Cell, i)
    }
    emit(object + '}')
  }
}
