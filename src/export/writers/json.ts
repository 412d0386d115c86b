/**
 * The json writer, Kylin 5's download shape: one JSON array holding one string per row, each
 * string a JSON object keyed by column label with the cells as strings (null stays null).
 * Written row by row, never held whole. Portable.
 */
import type { Column, ResultWriter, RowBatch } from '../types.ts'
import { createRowKeys, type RowKeys } from './row-keys.ts'
import { writeRowObjects } from './row-objects.ts'

export function createJsonWriter(): ResultWriter {
  const encoder = new TextEncoder()
  let keys: RowKeys | undefined
  let rowsWritten = 0
  return {
    start(columns: readonly Column[]) {
      keys = createRowKeys(columns)
      return encoder.encode('[')
    },
    rows(batch: RowBatch) {
      // A source always names its columns first; none named means no keys but positions.
      keys ??= createRowKeys([])
      let text = ''
      writeRowObjects(batch, keys, toJsonString, (object) => {
        text += (rowsWritten++ === 0 ? '' : ',') + JSON.stringify(object)
      })
      return encoder.encode(text)
    },
    end() {
      return encoder.encode(keys ? ']' : '[]')
    },
  }
}

/** A cell as JSON text: a string, or null. Lone surrogates come out as `\\uXXXX` escapes. */
function toJsonString(cell: string | null): string {
  return JSON.stringify(cell)
}
