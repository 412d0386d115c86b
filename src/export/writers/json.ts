/**
 * The json writer, Kylin 5's download shape: one JSON array of strings, one per row, each a JSON
 * object keyed by column label with the cells as strings (null stays null). Streamed. Portable.
 */
import type { Cell, Column, ResultWriter, RowBatch } from '../types.ts'
import { createRowKeys, type RowKeys } from './row-keys.ts'
import { writeRowObjects } from './row-objects.ts'

export function createJsonWriter(): ResultWriter {
  const encoder = new TextEncoder()
  // A source names its columns before any row; without them, cells are keyed by position.
  let keys: RowKeys = createRowKeys([])
  let opened = false
  let rowsWritten = 0
  const open = () => {
    if (opened) return ''
    opened = true
    return '['
  }
  return {
    start(columns: readonly Column[]) {
      keys = createRowKeys(columns)
      return encoder.encode(open())
    },
    rows(batch: RowBatch) {
      let text = open()
      writeRowObjects(batch, keys, toJsonString, (object) => {
        text += (rowsWritten++ === 0 ? '' : ',') + JSON.stringify(object)
      })
      return encoder.encode(text)
    },
    end() {
      return encoder.encode(opened ? ']' : '[]')
    },
  }
}

/** A cell as JSON text: a string, or null. A lone surrogate comes out as a `\uXXXX` escape. */
function toJsonString(cell: Cell): string {
  return JSON.stringify(cell)
}
