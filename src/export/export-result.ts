/**
 * The one entry of the export path: body bytes → source → rows of cells → writer → file bytes,
 * streamed, with the summary the query record keeps. Kylin JSON → CSV takes the fused kernel,
 * which measurably pays (bench/transcode.bench.ts) and gives the same bytes. Portable.
 */
import { formatOf, type ResultOptions } from '../domain/query.ts'
import { toExportStream } from './byte-stream.ts'
import { KylinCsvTranscoder } from './kylin-csv/transcoder.ts'
import { createRowPipeline } from './row-pipeline.ts'
import { createKylinJsonSource } from './sources/kylin-json.ts'
import { createStoredCsvSource, type StoredCsvOptions } from './sources/stored-csv.ts'
import type { Export, ExportOptions, ResultWriter, RowSink, RowSource } from './types.ts'
import { createCsvWriter, type CsvOptions } from './writers/csv.ts'
import { createJsonWriter } from './writers/json.ts'
import { createNdjsonWriter } from './writers/ndjson.ts'
import { createXlsxWriter } from './writers/xlsx/writer.ts'

/** What the body is. */
export type ExportSource = { kind: 'kylin-json' } | ({ kind: 'stored-csv' } & StoredCsvOptions)

/** The file to write; each format is one writer. */
export type ExportFormat =
  | ({ kind: 'csv' } & CsvOptions)
  | { kind: 'json' }
  | { kind: 'ndjson' }
  | { kind: 'xlsx'; includeHeader: boolean }

/** The export a query's options ask for; the separator and header matter to CSV alone. */
export function toExportFormat(options: ResultOptions): ExportFormat {
  const kind = formatOf(options)
  if (kind !== 'csv') return { kind }
  return { kind, separator: options.separator, includeHeader: options.includeHeader }
}

export interface ExportRequest extends ExportOptions {
  source: ExportSource
  format: ExportFormat
  /** `false`: source + writer even where a fused path exists (tests and benchmarks compare). */
  fused?: boolean
}

export function exportResult(body: ReadableStream<Uint8Array>, request: ExportRequest): Export {
  const { source, format, onProgress } = request
  if (request.fused !== false && source.kind === 'kylin-json' && format.kind === 'csv') {
    const options = { separator: format.separator, includeHeader: format.includeHeader, onProgress }
    return toExportStream(body, (enqueue) => new KylinCsvTranscoder(options, enqueue))
  }
  return toExportStream(body, (enqueue) =>
    createRowPipeline(
      (sink) => createSource(source, sink),
      createWriter(format),
      { onProgress },
      enqueue,
    ),
  )
}

function createSource(source: ExportSource, sink: RowSink): RowSource {
  switch (source.kind) {
    case 'kylin-json':
      return createKylinJsonSource(sink)
    case 'stored-csv':
      return createStoredCsvSource(source, sink)
  }
}

function createWriter(format: ExportFormat): ResultWriter {
  switch (format.kind) {
    case 'csv':
      return createCsvWriter(format)
    case 'json':
      return createJsonWriter()
    case 'ndjson':
      return createNdjsonWriter()
    case 'xlsx':
      return createXlsxWriter({ includeHeader: format.includeHeader })
  }
}
