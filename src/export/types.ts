/**
 * The parts of an export: a source turns bytes into rows of cells with their columns, a writer
 * turns those into one file format. Plain types, imported by every part. Portable.
 */
import type { ColumnMetadata } from '../domain/query.ts'

/** One column as Kylin describes it (`columnMetas`); typed writers read the type facts. */
export interface Column {
  /** The header text (Kylin's `label`, else its `name`). */
  label: string
  /** The name the query record keeps (Kylin's `name`, else its `label`). */
  name: string
  /** Kylin's type name (`columnTypeName`: VARCHAR, DECIMAL, DATE, …); '' when not given. */
  typeName: string
  precision: number | null
  scale: number | null
  /** Kylin's `isNullable` (0 no, 1 yes); null when Kylin does not know (2) or did not say. */
  nullable: boolean | null
}

/** A cell as every source delivers it: the text (numbers keep their JSON text), or null. */
export type Cell = string | null

/**
 * Rows in one flat array of cells, cheap to fill and to walk: row `i` is
 * `cells[rowEnds[i - 1] ?? 0 .. rowEnds[i])`. Rows may differ in length (an empty row is one).
 */
export interface RowBatch {
  readonly cells: readonly Cell[]
  readonly rowEnds: readonly number[]
}

/** Where a source delivers: the columns once, before any row, then rows in batches. */
export interface RowSink {
  start(columns: readonly Column[]): void
  rows(batch: RowBatch): void
}

/** What a source knows once its bytes have ended. */
export interface SourceSummary {
  columns: readonly Column[]
  rows: number
  /** The upstream said the result is partial (Kylin's `partial`). */
  partial: boolean
}

/**
 * A resumable reader of one input format: `push` any chunk split, then `finish`. Each throws a
 * GatewayError (an UpstreamError for a bad upstream answer) on input that is not valid.
 */
export interface RowSource {
  push(chunk: Uint8Array): void
  finish(): SourceSummary
}

/**
 * One output format. `start` once, `rows` per batch, `end` once; each returns the next bytes
 * of the file (possibly empty). A writer never sees input bytes, so a new format is a new
 * writer and no source changes.
 */
export interface ResultWriter {
  start(columns: readonly Column[]): Uint8Array
  rows(batch: RowBatch): Uint8Array
  end(): Uint8Array
}

/** Options every export shares. */
export interface ExportOptions {
  /** Called as bytes are handed on, with running totals of rows and bytes. */
  onProgress?: (rows: number, bytes: number) => void
  /**
   * The SHA-256 of the bytes is wanted: an exporter that can hash them where it makes them (a
   * thread of its own) answers `Export#sha256`; one that cannot leaves it to the caller.
   */
  hash?: boolean
  /**
   * The consumer gives chunks back once written (`Export#giveBack`), so an exporter that can
   * may lend them from a few buffers it reuses. Without it, every chunk is the consumer's.
   */
  recycle?: boolean
  /**
   * The consumer copies each chunk before `enqueue` returns (an export thread gathering its
   * output into larger buffers), so a transform may hand on views of its own buffers, which it
   * writes again afterwards. Without it, a chunk is never written again once handed on.
   */
  copiesAtOnce?: boolean
}

/** What the query record keeps of a finished export. */
export interface ExportSummary {
  metadata: ColumnMetadata
  rows: number
  bytes: number
  partial: boolean
}

export interface Export {
  /** The file's bytes. A bad input errors this stream. */
  stream: ReadableStream<Uint8Array>
  /** Settles when the stream has ended: the summary, or the same error. */
  summary: Promise<ExportSummary>
  /**
   * Where `hash` was asked and the exporter hashed the bytes itself: lower-case hex of the
   * SHA-256 of exactly the stream's bytes, settling as `summary` does.
   */
  sha256?: Promise<string>
  /**
   * Takes back a chunk of `stream` that nobody will read again, where `recycle` was asked and
   * the exporter lends its chunks (otherwise it does nothing). A chunk not given back is simply
   * collected.
   */
  giveBack?: (chunk: Uint8Array) => void
}
