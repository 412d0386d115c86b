/**
 * GBK output of a text writer (csv, json, ndjson): every cell, written label and the separator
 * are checked before the writer sees them, so a character GBK cannot hold ends the export naming
 * its row and column; the writer's UTF-8 is then transcoded. Portable.
 */
import type { Column, ResultWriter, RowBatch } from '../types.ts'
import { findUnwritable, toUnwritableError } from './gbk.ts'
import { createGbkTranscoder } from './gbk-transcoder.ts'

export interface GbkWriterOptions {
  /** The CSV separator; absent for the JSON formats. */
  separator?: string
  /** The column labels are written (a CSV header row, the JSON keys). */
  labels: boolean
}

/** `writer` with GBK bytes out; the same shape, so the pipeline is none the wiser. */
export function createGbkWriter(writer: ResultWriter, options: GbkWriterOptions): ResultWriter {
  const { separator, labels } = options
  if (separator !== undefined) {
    const at = findUnwritable(separator)
    if (at >= 0) throw toUnwritableError(separator.codePointAt(at)!, 'in the separator')
  }
  const transcoder = createGbkTranscoder()
  let columns: readonly Column[] = []
  /** Data rows written before the current batch, for 1-based row numbers. */
  let rowsBefore = 0
  return {
    start(given: readonly Column[]) {
      columns = given
      if (labels) checkLabels(given)
      return transcoder.push(writer.start(given))
    },
    rows(batch: RowBatch) {
      checkCells(batch, rowsBefore, columns)
      rowsBefore += batch.rowEnds.length
      return transcoder.push(writer.rows(batch))
    },
    end() {
      return transcoder.push(writer.end(), true)
    },
  }
}

function checkLabels(columns: readonly Column[]): void {
  for (let i = 0; i < columns.length; i++) {
    const label = columns[i]!.label
    const at = findUnwritable(label)
    if (at >= 0) {
      throw toUnwritableError(
        label.codePointAt(at)!,
        `in the header (the label of column ${i + 1})`,
      )
    }
  }
}

/** Throws for the first cell of `batch` holding a character GBK cannot hold. */
function checkCells(batch: RowBatch, rowsBefore: number, columns: readonly Column[]): void {
  const { cells, rowEnds } = batch
  let c = 0
  for (let r = 0; r < rowEnds.length; r++) {
    const end = rowEnds[r]!
    for (const first = c; c < end; c++) {
      const cell = cells[c]
      if (!cell) continue
      const at = findUnwritable(cell)
      if (at >= 0) {
        const index = c - first
        throw toUnwritableError(
          cell.codePointAt(at)!,
          `in row ${rowsBefore + r + 1}, ${toColumnName(index, columns)}`,
        )
      }
    }
  }
}

/** `column 2 ("NAME")`, or `column 11` for a cell past the last known column. */
function toColumnName(index: number, columns: readonly Column[]): string {
  const column = columns[index]
  return column === undefined
    ? `column ${index + 1}`
    : `column ${index + 1} (${JSON.stringify(column.label)})`
}
