/**
 * Upstream `SQLResponse` JSON bytes → Kylin CSV bytes through the fused kernel, streamed in
 * bounded memory, plus column metadata and counts. Portable: Web streams and Uint8Array only.
 */
import { toExportStream } from '../byte-stream.ts'
import type { ExportSummary } from '../types.ts'
import type { TranscodeOptions } from './output.ts'
import { KylinCsvTranscoder } from './transcoder.ts'

/*
 * Hand-written because a measured hot path needs it: JSON.parse of the whole body runs at
 * ~20–30 MB/s here and holds the whole answer (~20 M strings) in memory; generic streaming JSON
 * parsers run at 5–35 MB/s (reference/toolchain.md §7). The kernel never builds a JS string for
 * a cell: JSON string content without escapes is UTF-8 already, so it is copied byte for byte
 * into the CSV output (4 bytes at a time), and only escapes are decoded, to the UTF-8 that
 * JSON.parse + TextEncoder would give (surrogate pairs joined, lone surrogates → U+FFFD).
 * Quoting is decided after a cell is written, from flags gathered while copying; the rare quoted
 * cell is then shifted in place. Two layers: `fastRows` (fast-rows.ts) for whole rows inside a
 * chunk, and a resumable row machine (row-machine.ts) for everything else, any chunk split
 * included. Everything outside `results` is small: the frame (kylin-json/frame.ts) collects it
 * for JSON.parse, which also validates it.
 *
 * Deliberate differences from the JSON.parse reference: number cells keep their JSON text
 * (`1.50` stays `1.50`, no digits lost); raw bytes inside strings are not re-validated as UTF-8
 * (invalid bytes pass through, where the reference would write U+FFFD; Kylin writes valid
 * UTF-8); a separator holding a lone surrogate is matched as U+FFFD.
 *
 * Memory bounds (each one fails with an UpstreamError rather than growing further):
 * - output: one 64 KiB buffer; a single cell grows it, up to MAX_CELL_BYTES (64 MiB of CSV);
 * - the non-`results` members of the object: MAX_SIDE_BYTES (64 MiB) in total;
 * - rows held back because `results` came before `columnMetas` while a header is wanted:
 *   MAX_HELD_BYTES (64 MiB of CSV), see the transcoder's `startResults`;
 * - the output stream's queue: 256 KiB before it stops pulling from the upstream.
 */

export type { TranscodeOptions }
export type TranscodeSummary = ExportSummary

export interface Transcoding {
  /** The CSV bytes. Errors (upstream exception, Kylin envelope, bad JSON) error this stream. */
  csv: ReadableStream<Uint8Array>
  /** Settles when the CSV stream has ended: the summary, or the same error. */
  summary: Promise<TranscodeSummary>
}

/** Streams `body` (a `SQLResponse`) into CSV through the fused kernel. */
export function transcodeKylinResult(
  body: ReadableStream<Uint8Array>,
  options: TranscodeOptions,
): Transcoding {
  const { stream, summary } = toExportStream(
    body,
    (enqueue) => new KylinCsvTranscoder(options, enqueue),
  )
  return { csv: stream, summary }
}
