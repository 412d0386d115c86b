/**
 * The CSV writer: rows of cells → Kylin 5's async CSV bytes (csv/encode.ts rules), for any
 * source. Portable. The Kylin JSON → CSV export takes the fused kernel instead (kylin-csv/).
 */
import { encodeCsvHeader } from '../csv/encode.ts'
import { toWellFormed } from '../csv/well-formed.ts'
import type { Column, ResultWriter, RowBatch } from '../types.ts'

export interface CsvOptions {
  /** Any non-empty string. */
  separator: string
  /** A header row of the column labels (not escaped, as Kylin 5 writes it). */
  includeHeader: boolean
}

const EMPTY = new Uint8Array(0)

export function createCsvWriter(options: CsvOptions): ResultWriter {
  const { separator, includeHeader } = options
  if (separator.length === 0) throw new TypeError('The CSV separator must not be empty.')
  const encoder = new TextEncoder()
  // Between cells the separator is written and matched as its bytes (a lone surrogate in it is
  // U+FFFD, as in the kernel), so it never joins a cell's lone surrogate into a pair.
  const between = toWellFormed(separator)
  const special = new RegExp(`["\\r\\n]|${between.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')}`)
  return {
    start(columns: readonly Column[]) {
      if (!includeHeader) return EMPTY
      // As Kylin 5 and the kernel: labels joined by the separator as given, not escaped.
      return encoder.encode(
        encodeCsvHeader(
          columns.map((c) => c.label),
          separator,
        ),
      )
    },
    rows(batch: RowBatch) {
      const { cells, rowEnds } = batch
      let text = ''
      let c = 0
      for (let r = 0; r < rowEnds.length; r++) {
        const end = rowEnds[r]!
        for (const first = c; c < end; c++) {
          if (c !== first) text += between
          const cell = cells[c]
          if (cell) text += special.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell
        }
        text += '\n'
      }
      return encoder.encode(text)
    },
    end() {
      return EMPTY
    },
  }
}
