/**
 * The ndjson writer: one JSON object per row and line, keyed by column label, each value typed
 * from the column's Kylin type (typed-value.ts: numbers only where exact). Portable.
 */
import type { Cell, Column, ResultWriter, RowBatch } from '../types.ts'
import { createRowKeys, type RowKeys } from './row-keys.ts'
import { writeRowObjects } from './row-objects.ts'
import { toTypedJson, toValueKind, type ValueKind } from './typed-value.ts'

const EMPTY = new Uint8Array(0)

export function createNdjsonWriter(): ResultWriter {
  const encoder = new TextEncoder()
  let keys: RowKeys = createRowKeys([])
  let kinds: readonly ValueKind[] = []
  // A cell past the last column has no type: it is a string.
  const toValue = (cell: Cell, index: number) => toTypedJson(cell, kinds[index] ?? 'string')
  return {
    start(columns: readonly Column[]) {
      keys = createRowKeys(columns)
      kinds = columns.map(toValueKind)
      return EMPTY
    },
    rows(batch: RowBatch) {
      let text = ''
      writeRowObjects(batch, keys, toValue, (object) => {
        text += `${object}\n`
      })
      return encoder.encode(text)
    },
    end() {
      return EMPTY
    },
  }
}
