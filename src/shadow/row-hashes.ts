/**
 * A result read as row hashes, a chunk at a time, pulled: the reader asks for the next hashes and
 * only then reads on, so two results compared side by side hold about one chunk each. Portable.
 */
import type { Column, RowSink, RowSource } from '../export/types.ts'
import { hashBatch } from './row-digest.ts'

export interface RowHashReader {
  /** The columns, known once the first rows (or the end) have been read; `null` before. */
  readonly columns: readonly Column[] | null
  /** The hashes (two words a row) of the rows of the next chunk (maybe none); `null` at the end. */
  next(): Promise<Uint32Array | null>
  /** Stops reading (the rest of the body is cancelled). */
  cancel(reason?: unknown): Promise<void>
}

/** `toSource` builds the source that reads `body` (Kylin JSON, stored CSV) into the given sink. */
export function createRowHashReader(
  body: ReadableStream<Uint8Array>,
  toSource: (sink: RowSink) => RowSource,
): RowHashReader {
  const reader = body.getReader()
  let columns: readonly Column[] | null = null
  let pending: Uint32Array[] = []
  let ended = false
  const source = toSource({
    start(started) {
      columns = started
    },
    rows(batch) {
      pending.push(hashBatch(batch))
    },
  })
  const take = (): Uint32Array => {
    const batches = pending
    pending = []
    if (batches.length === 1) return batches[0]!
    const total = batches.reduce((sum, b) => sum + b.length, 0)
    const joined = new Uint32Array(total)
    let at = 0
    for (const b of batches) {
      joined.set(b, at)
      at += b.length
    }
    return joined
  }
  return {
    get columns() {
      return columns
    },
    async next() {
      if (ended) return null
      const { done, value } = await reader.read()
      if (done) {
        ended = true
        const summary = source.finish()
        columns ??= summary.columns
        return pending.length > 0 ? take() : new Uint32Array(0)
      }
      source.push(value)
      return take()
    },
    async cancel(reason) {
      ended = true
      await reader.cancel(reason).catch(() => {})
    },
  }
}
