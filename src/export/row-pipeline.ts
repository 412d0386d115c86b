/**
 * Source → writer as one byte transform: the writer's bytes are handed on as they come, with the
 * running counts the progress callback and the summary report. Portable.
 */
import type { ByteTransform } from './byte-stream.ts'
import { toColumnMetadata } from './columns.ts'
import type {
  Column,
  ExportOptions,
  ExportSummary,
  ResultWriter,
  RowBatch,
  RowSink,
  RowSource,
} from './types.ts'

export function createRowPipeline(
  createSource: (sink: RowSink) => RowSource,
  writer: ResultWriter,
  options: ExportOptions,
  enqueue: (chunk: Uint8Array) => void,
): ByteTransform {
  return new RowPipeline(createSource, writer, options, enqueue)
}

class RowPipeline implements ByteTransform, RowSink {
  emitted = 0
  private rowCount = 0
  private bytes = 0
  private readonly source: RowSource

  constructor(
    createSource: (sink: RowSink) => RowSource,
    private readonly writer: ResultWriter,
    private readonly options: ExportOptions,
    private readonly enqueue: (chunk: Uint8Array) => void,
  ) {
    this.source = createSource(this)
  }

  push(chunk: Uint8Array): void {
    this.source.push(chunk)
  }

  finish(): ExportSummary {
    const { columns, partial } = this.source.finish()
    this.send(this.writer.end())
    return {
      metadata: toColumnMetadata(columns),
      rows: this.rowCount,
      bytes: this.bytes,
      partial,
    }
  }

  start(columns: readonly Column[]): void {
    this.send(this.writer.start(columns))
  }

  rows(batch: RowBatch): void {
    this.rowCount += batch.rowEnds.length
    this.send(this.writer.rows(batch))
  }

  private send(bytes: Uint8Array): void {
    if (bytes.length === 0) return
    this.bytes += bytes.length
    this.emitted++
    this.enqueue(bytes)
    this.options.onProgress?.(this.rowCount, this.bytes)
  }
}
