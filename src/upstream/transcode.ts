/**
 * Upstream `SQLResponse` JSON → Kylin CSV bytes, plus column metadata and counts.
 * Portable: Web streams and Uint8Array only.
 */
import { encodeCsvHeader, encodeCsvRow, type Cell } from '../csv/encode.ts'
import { UpstreamError } from '../errors.ts'
import type { ColumnMetadata } from '../registry/types.ts'

export interface TranscodeOptions {
  separator: string
  includeHeader: boolean
  /** Called as rows are written, with running totals. */
  onProgress?: (rows: number, bytes: number) => void
}

export interface TranscodeSummary {
  metadata: ColumnMetadata
  rows: number
  bytes: number
  partial: boolean
}

export interface Transcoding {
  /** The CSV bytes. Errors (upstream exception, bad JSON) error this stream. */
  csv: ReadableStream<Uint8Array>
  /** Settles when the CSV stream has ended: the summary, or the same error. */
  summary: Promise<TranscodeSummary>
}

interface ColumnMeta {
  name?: unknown
  label?: unknown
  columnTypeName?: unknown
}

/** Drops newlines as Kylin does when it reads a failure back (lines joined with ""). */
export function toOneLine(text: string): string {
  return text.replace(/\r?\n|\r/g, '')
}

export function transcodeKylinResult(
  body: ReadableStream<Uint8Array>,
  options: TranscodeOptions,
): Transcoding {
  let settle!: { resolve: (s: TranscodeSummary) => void; reject: (e: unknown) => void }
  const summary = new Promise<TranscodeSummary>((resolve, reject) => {
    settle = { resolve, reject }
  })
  summary.catch(() => {})
  const encoder = new TextEncoder()
  const csv = new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        const parsed = parseResponse(await new Response(body).text())
        const metas = (parsed.columnMetas ?? []) as ColumnMeta[]
        const metadata: ColumnMetadata = {
          names: metas.map((m) => String(m.name ?? m.label ?? '')),
          types: metas.map((m) => String(m.columnTypeName ?? '')),
        }
        let rows = 0
        let bytes = 0
        const emit = (text: string) => {
          const chunk = encoder.encode(text)
          bytes += chunk.byteLength
          controller.enqueue(chunk)
        }
        if (options.includeHeader) {
          emit(
            encodeCsvHeader(
              metas.map((m) => String(m.label ?? m.name ?? '')),
              options.separator,
            ),
          )
        }
        for (const row of (parsed.results ?? []) as Cell[][]) {
          emit(encodeCsvRow(row, options.separator))
          rows++
        }
        options.onProgress?.(rows, bytes)
        controller.close()
        settle.resolve({ metadata, rows, bytes, partial: parsed.partial === true })
      } catch (error) {
        controller.error(error)
        settle.reject(error)
      }
    },
  })
  return { csv, summary }
}

function parseResponse(text: string): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new UpstreamError(
      `The upstream Kylin sent a result that is not valid JSON (${(error as Error).message}); no result was kept.`,
    )
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UpstreamError(
      'The upstream Kylin sent a result that is not a JSON object; no result was kept.',
    )
  }
  const response = parsed as Record<string, unknown>
  if (response.isException === true) {
    const message = typeof response.exceptionMessage === 'string' ? response.exceptionMessage : ''
    throw new UpstreamError(toOneLine(message) || 'Unknown error.')
  }
  if (
    response.results !== undefined &&
    response.results !== null &&
    !Array.isArray(response.results)
  ) {
    throw new UpstreamError(
      'The upstream Kylin sent a result whose "results" is not an array; no result was kept.',
    )
  }
  return response
}
