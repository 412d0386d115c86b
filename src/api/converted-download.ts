/**
 * A download in another form than the one written at submit: the stored CSV read back and written
 * anew on the fly, streamed. Its size is not known before the end, so it is sent without
 * Content-Length or ranges, under a weak ETag. Portable.
 */
import type { Context } from 'hono'
import type { AppEnv } from './app-env.ts'
import { BadRequestError, NotFoundError } from '../errors.ts'
import {
  exportResult,
  toExportEncoding,
  toExportFormat,
  type Exporter,
} from '../export/export-result.ts'
import { toResultKey } from '../domain/query-id.ts'
import { encodingOf, type QueryRecord } from '../domain/query.ts'
import type { BlobStore } from '../store/types.ts'
import {
  acceptsGzip,
  matchesAny,
  send,
  toContentDisposition,
  toGzip,
  type DownloadOptions,
} from './download.ts'
import { ILLEGAL_PARAMETERS, isText, toFormKey, type ResultForm } from './result-form.ts'

export async function sendConvertedDownload(
  c: Context<AppEnv>,
  store: BlobStore,
  record: QueryRecord,
  form: ResultForm,
  options: DownloadOptions,
  exporter: Exporter = exportResult,
): Promise<Response> {
  const { separator, includeHeader } = record.options
  checkConvertible(record)
  // The same stored bytes and form give the same file, but not byte for byte on every store's
  // chunking (a compressed format may differ), hence a weak validator.
  const etag = `W/"${record.sha256 ?? `${record.id}-${record.bytes}`}-${toFormKey(form)}"`
  const headers: Record<string, string> = {
    'Content-Type': options.contentType,
    'Content-Disposition': toContentDisposition(options.fileName),
    'Accept-Ranges': 'none',
    ETag: etag,
    'Last-Modified': new Date(record.finishedAt ?? record.updatedAt).toUTCString(),
    'Cache-Control': 'private, no-transform',
    Vary: 'Accept-Encoding',
    ...options.headers,
  }
  if (matchesAny(c.req.header('if-none-match'), [etag])) return c.body(null, 304, headers)
  const gzip =
    options.compress && isText(form.format) && acceptsGzip(c.req.header('accept-encoding'))
  if (gzip) headers['Content-Encoding'] = 'gzip'
  if (c.req.method === 'HEAD') return c.body(null, 200, headers)

  const blob = record.bytes === 0 ? null : await store.get(toResultKey(record.id))
  if (record.bytes !== 0 && !blob) throw new NotFoundError({ id: 'RESULT_LOST' })
  const asked = { ...record.options, ...form }
  const exported = exporter(blob?.body ?? new Blob([]).stream(), {
    source: {
      kind: 'stored-csv',
      separator,
      header: includeHeader,
      metadata: record.metadata,
      encode: encodingOf(record.options),
    },
    format: toExportFormat(asked),
    encode: toExportEncoding(asked),
  })
  // The stream carries any failure to the client; the summary's copy of it is not needed.
  exported.summary.catch(() => {})
  const body = await startStream(exported.stream)
  return send(c, gzip ? body.pipeThrough(toGzip()) : body, 200, headers, options.metrics)
}

/** A 400 unless the result can be read back and written in another form. */
export function checkConvertible(record: QueryRecord): void {
  if (record.options.format !== undefined && record.options.format !== 'csv') {
    throw new BadRequestError(
      { id: 'CONVERSION_NEEDS_CSV', args: [record.options.format] },
      { errorCode: ILLEGAL_PARAMETERS },
    )
  }
  // The stored-CSV reader cannot tell such a separator's quotes or line ends from the cells'.
  if (/["\r\n]/.test(record.options.separator)) {
    throw new BadRequestError({ id: 'CONVERSION_SEPARATOR' }, { errorCode: ILLEGAL_PARAMETERS })
  }
}

/**
 * Reads the first chunk before the answer is sent, so a file that fails at once (a value the
 * encoding cannot hold in the first rows) gets a proper error answer. A failure later errors the
 * stream: the response then ends without its last chunk, so no client takes it as whole.
 */
async function startStream(
  stream: ReadableStream<Uint8Array>,
): Promise<ReadableStream<Uint8Array>> {
  const reader = stream.getReader()
  const first = await reader.read()
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (first.done) controller.close()
      else controller.enqueue(first.value)
    },
    async pull(controller) {
      const next = await reader.read()
      if (next.done) controller.close()
      else controller.enqueue(next.value)
    },
    cancel(reason) {
      return reader.cancel(reason)
    },
  })
}
