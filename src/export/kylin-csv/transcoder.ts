/**
 * The fused Kylin JSON → CSV kernel: `push` any chunk split, then `finish`. It ties the frame
 * (members outside `results`) to the row reading, and writes the header. Portable.
 */
import { toColumnMetadata, toColumns } from '../columns.ts'
import type { Column, ExportSummary } from '../types.ts'
import { encodeCsvHeader } from '../csv/encode.ts'
import { MIN_FLUSH, R_OPEN } from './constants.ts'
import { RowMachine } from './row-machine.ts'

/**
 * The resumable transcoder. Every state lives in fields, so a chunk boundary costs nothing but
 * a return; the class chain (output → fast rows → row machine → this) keeps one hidden class.
 */
export class KylinCsvTranscoder extends RowMachine {
  private headerWritten = false
  /** `push` copies what it keeps (the frame's members, an open cell) out of the chunk. */
  readonly keepsNoInput = true

  /** Consumes one input chunk. Throws an UpstreamError on anything that is not a valid result. */
  push(buf: Uint8Array): void {
    this.parse(buf, 0, buf.length)
    this.frame.consumed += buf.length
    if (this.cellStart < 0 && this.pos >= MIN_FLUSH) this.flush()
  }

  /** Hands on at once the output written so far, up to any open cell (ByteTransform). */
  handOn(): void {
    if (this.cellStart < 0) this.flush()
    else this.emitBeforeOpenCell()
  }

  /** The body has ended: validates the rest, writes what was held back, and summarises. */
  finish(): ExportSummary {
    const response = this.frame.finish()
    const columns = toColumns(response.columnMetas)
    if (this.includeHeader && !this.headerWritten) {
      const header = this.encodeHeader(columns)
      if (this.held === null) {
        this.write(header) // no `results` array at all: the header is the whole file
      } else {
        // Rows held back (results before columnMetas) go out behind the header, in order.
        this.flush()
        const held = this.held
        this.held = null
        this.emit(header)
        for (const chunk of held) this.emit(chunk)
      }
    }
    this.flush()
    return {
      metadata: toColumnMetadata(columns),
      rows: this.rows,
      bytes: this.bytes,
      partial: response.partial === true,
    }
  }

  private parse(buf: Uint8Array, from: number, end: number): void {
    let j = from
    while (j < end) {
      if (this.frame.inResults) {
        j = this.parseRows(buf, j, end)
        continue
      }
      j = this.frame.scan(buf, j, end)
      if (this.frame.inResults) {
        this.slowRow = false
        this.state = R_OPEN
        this.startResults()
      }
    }
  }

  /**
   * `"results": [` was found. An exception before it fails now, and the header goes before the
   * rows when `columnMetas` came first (Kylin's order). When a header is wanted but
   * `columnMetas` has not come yet, the rows are held back in memory (up to MAX_HELD_BYTES)
   * until the object ends, because the header must come first and the upstream cannot be
   * re-read. Without a header, field order does not matter at all.
   */
  private startResults(): void {
    const head = this.frame.readHead()
    if (!this.includeHeader) return
    if (Object.hasOwn(head, 'columnMetas')) {
      this.write(this.encodeHeader(toColumns(head.columnMetas)))
      this.headerWritten = true
    } else {
      this.held = []
    }
  }

  private encodeHeader(columns: readonly Column[]): Uint8Array {
    // As Kylin 5: labels joined by the separator, not escaped.
    const labels = columns.map((c) => c.label)
    return new TextEncoder().encode(encodeCsvHeader(labels, this.separator))
  }
}
