/**
 * The CSV writer: rows of cells → Kylin 5's async CSV bytes (csv/encode.ts rules), for any
 * source. Portable. The Kylin JSON → CSV export takes the fused kernel instead (kylin-csv/).
 */
import { encodeCsvHeader } from '../csv/encode.ts'
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
  // Matched as the bytes it is written as: a lone surrogate in it is U+FFFD, as in the kernel.
  const matched = new TextDecoder().decode(encoder.encode(separator))
  const special = new RegExp(`["\\r\\n]|${matched.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')}`)
  return {
    start(columns: readonly Column[]) {
      if (!includeHeader) return EMPTY
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
          if (c !== first) text += separator
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
