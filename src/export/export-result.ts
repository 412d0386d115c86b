/**
 * The one entry of the export path: body bytes → source → rows of cells → writer → file bytes,
 * streamed, with the summary the query record keeps. Kylin JSON → UTF-8 CSV takes the fused
 * kernel, which measurably pays (bench/transcode.bench.ts) and gives the same bytes. Portable.
 */
import {
  encodingOf,
  formatOf,
  TEXT_FORMATS,
  type ResultEncoding,
  type ResultOptions,
} from '../domain/query.ts'
import { GatewayError } from '../errors.ts'
import { toExportStream, type ByteTransform } from './byte-stream.ts'
import type { GbkWriterOptions } from './encoding/gbk-writer.ts'
import { loadStreamDecoder } from './encoding/text-decoder.ts'
import { KylinCsvTranscoder } from './kylin-csv/transcoder.ts'
import { createRowPipeline } from './row-pipeline.ts'
import { createKylinJsonSource } from './sources/kylin-json.ts'
import { createStoredCsvSource, type StoredCsvOptions } from './sources/stored-csv.ts'
import type { Export, ExportOptions, ResultWriter } from './types.ts'
import type { ArrowOptions } from './writers/arrow/arrow-writer.ts'
import { createCsvWriter, type CsvOptions } from './writers/csv.ts'
import { createJsonWriter } from './writers/json.ts'
import { createNdjsonWriter } from './writers/ndjson.ts'
import type { ParquetOptions } from './writers/parquet/parquet-writer.ts'

/** What the body is. */
export type ExportSource = { kind: 'kylin-json' } | ({ kind: 'stored-csv' } & StoredCsvOptions)

/** The file to write; each format is one writer. */
export type ExportFormat =
  | ({ kind: 'csv' } & CsvOptions)
  | { kind: 'json' }
  | { kind: 'ndjson' }
  | ({ kind: 'parquet' } & ParquetOptions)
  | ({ kind: 'arrow' } & ArrowOptions)
  | { kind: 'xlsx'; includeHeader: boolean }

/** The export a query's options ask for; the separator matters to CSV alone, the header to CSV and xlsx. */
export function toExportFormat(options: ResultOptions): ExportFormat {
  const kind = formatOf(options)
  switch (kind) {
    case 'csv':
      return { kind, separator: options.separator, includeHeader: options.includeHeader }
    case 'xlsx':
      return { kind, includeHeader: options.includeHeader }
    default:
      return { kind }
  }
}

/** The character encoding of a text file (csv, json, ndjson). */
export type ExportEncoding = ResultEncoding

/** The encoding a query's options ask for; a binary format has none to choose. */
export function toExportEncoding(options: ResultOptions): ExportEncoding {
  return TEXT_FORMATS.includes(formatOf(options)) ? encodingOf(options) : 'utf-8'
}

export interface ExportRequest extends ExportOptions {
  source: ExportSource
  format: ExportFormat
  /**
   * Default 'utf-8'. 'gbk' (CP936 with the euro sign) for the text formats only; a character GBK
   * cannot hold ends the export with a GatewayError naming its row and column.
   */
  encode?: ExportEncoding
  /** `false`: source + writer even where a fused path exists (tests and benchmarks compare). */
  fused?: boolean
}

export function exportResult(body: ReadableStream<Uint8Array>, request: ExportRequest): Export {
  return toExportStream(body, (enqueue) => createExportTransform(request, enqueue))
}

/**
 * How a runtime runs an export: `exportResult` in this thread, or (Node) a thread of its own
 * with the same bytes. The app takes whichever its runtime passes in. `warm`, where there is
 * one, readies what the next export runs on (starts a thread), so that a query's upstream call
 * and that start overlap.
 */
export interface Exporter {
  (body: ReadableStream<Uint8Array>, request: ExportRequest): Export
  warm?(): void
}

/**
 * The byte transform of one export, body bytes in, file bytes handed to `enqueue`. Exported for
 * a runtime that drives it itself (the Node export thread). Asynchronous because a format's
 * writer (and GBK's tables) are loaded on first use: apache-arrow, hyparquet-writer and fflate
 * alone are ~18 MiB of RSS in a process that only ever writes CSV.
 */
export async function createExportTransform(
  request: ExportRequest,
  enqueue: (chunk: Uint8Array) => void,
): Promise<ByteTransform> {
  const { source, format, onProgress, encode = 'utf-8', recycle, copiesAtOnce } = request
  const fusable = source.kind === 'kylin-json' && format.kind === 'csv' && encode === 'utf-8'
  if (request.fused !== false && fusable) {
    const { separator, includeHeader } = format
    const options = { separator, includeHeader, onProgress, recycle, copiesAtOnce }
    return new KylinCsvTranscoder(options, enqueue)
  }
  const writer = await createEncodedWriter(format, encode)
  const decode =
    source.kind === 'stored-csv' ? await loadStreamDecoder(source.encode ?? 'utf-8') : undefined
  return createRowPipeline(
    (sink) =>
      source.kind === 'stored-csv'
        ? createStoredCsvSource(source, sink, decode)
        : createKylinJsonSource(sink),
    writer,
    { onProgress },
    enqueue,
  )
}

async function createEncodedWriter(
  format: ExportFormat,
  encode: ExportEncoding,
): Promise<ResultWriter> {
  switch (encode) {
    case 'utf-8':
      return createWriter(format)
    case 'gbk': {
      // First: a binary format fails on the encoding, before its writer is made.
      const options = toGbkOptions(format)
      const [writer, { createGbkWriter }] = await Promise.all([
        createWriter(format),
        import('./encoding/gbk-writer.ts'),
      ])
      return createGbkWriter(writer, options)
    }
    default:
      throw new TypeError(`Unknown encoding: ${String(encode satisfies never)}.`)
  }
}

/** What a text format writes besides cells; a binary format has no text encoding to choose. */
function toGbkOptions(format: ExportFormat): GbkWriterOptions {
  switch (format.kind) {
    case 'csv':
      return { separator: format.separator, labels: format.includeHeader }
    case 'json':
    case 'ndjson':
      return { labels: true }
    default: {
      const kind = (format as { kind: string }).kind
      throw new GatewayError(400, {
        text: `The encoding gbk applies to csv, json and ndjson results only; a ${kind} file is binary.`,
      })
    }
  }
}

/** The writer of a format; the large ones are loaded on first use. */
async function createWriter(format: ExportFormat): Promise<ResultWriter> {
  switch (format.kind) {
    case 'csv':
      return createCsvWriter(format)
    case 'json':
      return createJsonWriter()
    case 'ndjson':
      return createNdjsonWriter()
    case 'parquet':
      return (await import('./writers/parquet/parquet-writer.ts')).createParquetWriter(format)
    case 'arrow':
      return (await import('./writers/arrow/arrow-writer.ts')).createArrowWriter(format)
    case 'xlsx':
      return (await import('./writers/xlsx/writer.ts')).createXlsxWriter({
        includeHeader: format.includeHeader,
      })
  }
}
