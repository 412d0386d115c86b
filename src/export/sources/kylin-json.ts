/**
 * The Kylin JSON source: upstream `SQLResponse` bytes → columns, then batches of rows, with every
 * check of the fused kernel (exception, envelope, bad or cut JSON, memory bounds). Portable.
 */
import { UpstreamError } from '../../errors.ts'
import { toColumns } from '../columns.ts'
import { MAX_HELD_BYTES, MIB } from '../kylin-json/bytes.ts'
import { KylinResponseFrame } from '../kylin-json/frame.ts'
import type { Column, RowBatch, RowSink, RowSource, SourceSummary } from '../types.ts'
import { BATCH_CELLS, KylinRowReader } from './kylin-json-rows.ts'

/**
 * Columns go to `sink.start` when `results` starts, if Kylin sent `columnMetas` first (its own
 * order); otherwise rows are held back (up to MAX_HELD_BYTES of cell text) until the object
 * ends, because every writer is promised the columns before the first row.
 */
export function createKylinJsonSource(sink: RowSink): RowSource {
  return new KylinJsonSource(sink)
}

class KylinJsonSource implements RowSource {
  private readonly frame = new KylinResponseFrame()
  private readonly reader = new KylinRowReader(this.frame)
  private started = false
  private held: RowBatch[] | null = null
  private heldSize = 0

  constructor(private readonly sink: RowSink) {}

  push(buf: Uint8Array): void {
    const { frame, reader } = this
    const end = buf.length
    let j = 0
    while (j < end) {
      if (frame.inResults) {
        j = reader.read(buf, j, end)
        if (reader.cells.length >= BATCH_CELLS) this.deliver()
        continue
      }
      j = frame.scan(buf, j, end)
      if (frame.inResults) this.startResults()
    }
    frame.consumed += end
    // Batches of whole rows; tiny input chunks do not make tiny batches.
    if (reader.cells.length >= BATCH_CELLS >> 3) this.deliver()
  }

  finish(): SourceSummary {
    const response = this.frame.finish()
    this.deliver()
    const columns = toColumns(response.columnMetas)
    if (!this.started) this.start(columns)
    const held = this.held
    this.held = null
    for (const batch of held ?? []) this.sink.rows(batch)
    return { columns, rows: this.reader.rows, partial: response.partial === true }
  }

  private startResults(): void {
    const head = this.frame.readHead()
    if (Object.hasOwn(head, 'columnMetas')) this.start(toColumns(head.columnMetas))
    else this.held = []
  }

  private start(columns: readonly Column[]): void {
    this.started = true
    this.sink.start(columns)
  }

  /** Hands on the complete rows read so far; the open row's cells stay with the reader. */
  private deliver(): void {
    const batch = this.reader.take()
    if (batch === null) return
    if (this.held === null) {
      this.sink.rows(batch)
      return
    }
    for (const cell of batch.cells) this.heldSize += (cell?.length ?? 0) + 1
    if (this.heldSize > MAX_HELD_BYTES) {
      throw new UpstreamError(
        `The upstream Kylin sent "results" before "columnMetas" and more than ${MAX_HELD_BYTES / MIB} MiB of rows, so the columns could not be given first; no result was kept.`,
      )
    }
    this.held.push(batch)
  }
}
