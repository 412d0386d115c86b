/**
 * The Arrow writer: an IPC stream (schema, record batches of a bounded number of rows, end of
 * stream), each part handed on as bytes as soon as it is written. Portable.
 */
// Each part from its own module: the package's index pulls in every builder and reader.
import { makeData } from 'apache-arrow/data'
import { AsyncByteQueue } from 'apache-arrow/io/stream'
import { RecordBatchStreamWriter } from 'apache-arrow/ipc/writer'
import { RecordBatch } from 'apache-arrow/recordbatch'
import { Field, Schema } from 'apache-arrow/schema'
import { Struct } from 'apache-arrow/type'
import type { Column, ResultWriter, RowBatch } from '../../types.ts'
import { toFieldNames } from '../columnar/column-names.ts'
import {
  createColumnGroups,
  type ColumnGroups,
  type ColumnValues,
} from '../columnar/column-groups.ts'
import { toArrowColumn, type ArrowColumn } from './arrow-columns.ts'

export interface ArrowOptions {
  /** Rows per record batch, the most the writer holds (a batch also ends at 4 Mi units of text). */
  batchSize?: number
}

/**
 * A batch small enough to die in V8's young generation rather than be promoted. 1M rows × 10
 * columns in one process, source + writer: 4K-row batches peak at +28 MiB of RSS (heap 32 MiB)
 * in 2.3 s, 16K-row batches at +69 MiB (heap 65 MiB) in 2.8 s; the stream is 1 % larger.
 */
export const DEFAULT_BATCH_SIZE = 4_096

/**
 * The sink the Arrow stream writer writes into. Its own queue hands chunks out only
 * asynchronously; this one keeps them for `take`, so each step returns its bytes at once.
 */
class ChunkSink extends AsyncByteQueue {
  private chunks: Uint8Array[] = []
  private length = 0

  override write(value: Parameters<AsyncByteQueue['write']>[0]): void {
    // The stream writer writes Uint8Arrays only (ipc/writer: `_write`).
    const chunk = value as Uint8Array
    this.chunks.push(chunk)
    this.length += chunk.byteLength
  }

  /** The chunks written since the last take, as one array (copied: they may be views). */
  take(): Uint8Array {
    const bytes = new Uint8Array(this.length)
    let offset = 0
    for (const chunk of this.chunks) {
      bytes.set(chunk, offset)
      offset += chunk.byteLength
    }
    this.chunks = []
    this.length = 0
    return bytes
  }
}

export function createArrowWriter(options: ArrowOptions = {}): ResultWriter {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE
  const sink = new ChunkSink()
  const stream = new RecordBatchStreamWriter()
  let groups: ColumnGroups | undefined
  let arrowColumns: ArrowColumn[] = []
  let schema: Schema | undefined

  const write = (values: ColumnValues, rows: number) => {
    const children = arrowColumns.map((column, i) => column.toData(values[i]!))
    const type = new Struct(schema!.fields)
    stream.write(new RecordBatch(schema!, makeData({ type, length: rows, nullCount: 0, children })))
  }
  const open = (columns: readonly Column[]) => {
    groups = createColumnGroups(columns, { format: 'Arrow', groupSize: batchSize }, write)
    arrowColumns = groups.types.map(toArrowColumn)
    const names = toFieldNames(columns)
    // Every field nullable: Kylin's nullability is often unknown, and a null must stay a null.
    schema = new Schema(arrowColumns.map((column, i) => new Field(names[i]!, column.type, true)))
    // The schema message now: a stream of no rows still says its columns.
    stream.reset(sink, schema)
    return groups
  }
  return {
    start(columns: readonly Column[]) {
      open(columns)
      return sink.take()
    },
    rows(batch: RowBatch) {
      // A source names its columns first; without them a row has more cells than columns.
      ;(groups ?? open([])).add(batch)
      return sink.take()
    },
    end() {
      ;(groups ?? open([])).finish()
      // Writes the end-of-stream marker.
      stream.finish()
      return sink.take()
    },
  }
}
