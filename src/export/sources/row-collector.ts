/**
 * Cells of rows gathered by a source, handed on as batches of whole rows (types.ts RowBatch).
 * Portable.
 */
import type { Cell, RowBatch } from '../types.ts'

export class RowCollector {
  cells: Cell[] = []
  /** Where each complete row ends in `cells`. */
  rowEnds: number[] = []
  /** Rows completed so far, in all batches. */
  rows = 0

  endRow(): void {
    this.rowEnds.push(this.cells.length)
    this.rows++
  }

  /** The complete rows so far, or null; the open row's cells stay for the next batch. */
  take(): RowBatch | null {
    const rowEnds = this.rowEnds
    if (rowEnds.length === 0) return null
    const cells = this.cells
    const complete = rowEnds[rowEnds.length - 1]!
    this.cells = cells.length > complete ? cells.splice(complete) : []
    this.rowEnds = []
    return { cells, rowEnds }
  }
}
