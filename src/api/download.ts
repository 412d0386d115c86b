/**
 * Result downloads as a file server would send them: Content-Length, a strong ETag, HEAD,
 * single byte ranges (206 / 416), If-None-Match, If-Range, and gzip on the fly. Portable.
 * Own Range parser: range-parser 1.3.0 answers 416 to an over-long suffix and to `5-1`.
 */
import { encodeExtended } from 'content-disposition'
import fresh from 'fresh'
import type { Context } from 'hono'
import type { AppEnv } from './app-env.ts'
import { toReprDigest } from './repr-digest.ts'
import { GatewayError, NotFoundError } from '../errors.ts'
import { countBytes, NO_METRICS, type GatewayMetrics } from '../ops/metrics.ts'
import { toResultKey } from '../domain/query-id.ts'
import type { QueryRecord } from '../domain/query.ts'
import type { BlobStore, ByteRange } from '../store/types.ts'
import type { StoredFileSender } from '../deps.ts'

export interface DownloadOptions {
  /** Whether to gzip on request; a platform that compresses itself must not get gzip twice. */
  compress: boolean
  contentType: string
  fileName: string
  /** Counts the bytes sent; nothing is wrapped around the body without it. */
  metrics?: GatewayMetrics
  /** Headers every answer of this download carries besides its own (a link's Referrer-Policy). */
  headers?: Record<string, string>
  /** Sends the stored file itself where the runtime can (Node); a web stream otherwise. */
  sendStoredFile?: StoredFileSender
}

/** The strong validator of a result: its content hash, or id and size (results never change). */
function toEtag(record: QueryRecord): string {
  return `"${record.sha256 ?? `${record.id}-${record.bytes}`}"`
}

export async function sendDownload(
  c: Context<AppEnv>,
  store: BlobStore,
  record: QueryRecord,
  options: DownloadOptions,
): Promise<Response> {
  const etag = toEtag(record)
  const size = record.bytes
  const lastModified = new Date(record.finishedAt ?? record.updatedAt).toUTCString()
  const headers: Record<string, string> = {
    'Content-Type': options.contentType,
    'Content-Disposition': toContentDisposition(options.fileName),
    'Accept-Ranges': 'bytes',
    ETag: etag,
    'Last-Modified': lastModified,
    'Cache-Control': 'private, no-transform',
    Vary: 'Accept-Encoding',
    ...options.headers,
  }
  // The digest of the whole stored file, which a range is part of; not of a gzipped answer.
  if (record.sha256) headers['Repr-Digest'] = toReprDigest(record.sha256)

  if (matchesAny(c.req.header('if-none-match'), [etag, toGzipEtag(etag)])) {
    return c.body(null, 304, headers)
  }

  const rangeHeader = c.req.header('range')
  const ifRange = c.req.header('if-range')
  const rangeApplies =
    rangeHeader !== undefined && (!ifRange || ifRange === etag || ifRange === lastModified)
  if (rangeApplies) {
    const range = parseRange(rangeHeader, size)
    if (range === 'unsatisfiable') {
      throw new GatewayError(
        416,
        { id: 'RANGE_NOT_SATISFIABLE', args: [size] },
        { headers: { 'Content-Range': `bytes */${size}`, 'Accept-Ranges': 'bytes', ETag: etag } },
      )
    }
    if (range) {
      headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`
      headers['Content-Length'] = String(range.end - range.start + 1)
      return sendStored(c, store, record, range, 206, headers, options)
    }
  }

  if (options.compress && size > 0 && acceptsGzip(c.req.header('accept-encoding'))) {
    headers['Content-Encoding'] = 'gzip'
    headers.ETag = toGzipEtag(etag)
    delete headers['Repr-Digest']
    if (c.req.method === 'HEAD') return c.body(null, 200, headers)
    const body = await openBody(c, store, record)
    return send(c, body && body.pipeThrough(toGzip()), 200, headers, options.metrics)
  }

  headers['Content-Length'] = String(size)
  return sendStored(c, store, record, undefined, 200, headers, options)
}

/** The stored bytes as they are: written by the runtime where it can, else as a web stream. */
async function sendStored(
  c: Context<AppEnv>,
  store: BlobStore,
  record: QueryRecord,
  range: ByteRange | undefined,
  status: 200 | 206,
  headers: Record<string, string>,
  options: DownloadOptions,
): Promise<Response> {
  const sender = options.sendStoredFile
  // Written before the handler returns: no middleware may change this answer afterwards.
  if (sender && c.req.method !== 'HEAD' && record.bytes > 0 && sender.reaches(c.env)) {
    const metrics = options.metrics
    const sent = await sender.send(
      c.env,
      toResultKey(record.id),
      range ?? { start: 0, end: record.bytes - 1 },
      // The very status and headers the web path answers (the request id included); built only
      // once the file is open, as c.body keeps them for any later answer, an error's too.
      () => c.body(null, status, headers),
      metrics && metrics !== NO_METRICS ? (bytes) => metrics.countDownloadBytes(bytes) : undefined,
    )
    if (!sent) throw new NotFoundError({ id: 'RESULT_LOST' })
    return sent
  }
  return send(c, await openBody(c, store, record, range), status, headers, options.metrics)
}

export function send(
  c: Context<AppEnv>,
  body: ReadableStream<Uint8Array> | null,
  status: 200 | 206,
  headers: Record<string, string>,
  metrics: GatewayMetrics = NO_METRICS,
): Response {
  if (!body) return c.body(null, status, headers)
  if (metrics === NO_METRICS) return c.body(body, status, headers)
  return c.body(
    countBytes(body, (bytes) => metrics.countDownloadBytes(bytes)),
    status,
    headers,
  )
}

/** HEAD answers with headers only, so the blob is not even opened. */
async function openBody(
  c: Context<AppEnv>,
  store: BlobStore,
  record: QueryRecord,
  range?: ByteRange,
): Promise<ReadableStream<Uint8Array> | null> {
  if (c.req.method === 'HEAD') return null
  if (record.bytes === 0) return null
  const blob = await store.get(toResultKey(record.id), range)
  if (!blob) throw new NotFoundError({ id: 'RESULT_LOST' })
  return blob.body
}

export function toGzip(): TransformStream<Uint8Array, Uint8Array> {
  // The DOM typings declare CompressionStream's input as BufferSource; bytes are fine.
  return new CompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>
}

/** The compressed representation is a different entity, so it gets its own strong tag. */
function toGzipEtag(etag: string): string {
  return `${etag.slice(0, -1)}-gzip"`
}

/**
 * If-None-Match alone, compared weakly (W/"x" matches "x"). If-Modified-Since and the request's
 * Cache-Control stay out of `fresh` on purpose: only a matching ETag earns a 304.
 */
export function matchesAny(header: string | undefined, etags: string[]): boolean {
  if (!header) return false
  return etags.some((etag) => fresh({ 'if-none-match': header }, { etag }))
}

/**
 * One `bytes=` range → an inclusive range within `size`; `null` to ignore the header (bad
 * syntax, another unit, several ranges: all allowed to fall back to 200 by RFC 9110).
 */
export function parseRange(header: string, size: number): ByteRange | 'unsatisfiable' | null {
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header)
  if (!match) return null
  const [, first = '', last = ''] = match
  if (first === '' && last === '') return null
  if (first === '') {
    const suffix = Number(last)
    if (suffix === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(first)
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1)
  if (last !== '' && Number(last) < start) return null
  if (start >= size) return 'unsatisfiable'
  return { start, end }
}

/** Own: negotiator 1.1 takes `*` for gzip and knows no x-gzip; here gzip only when named. */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false
  return header.split(',').some((part) => {
    const [coding = '', ...params] = part.trim().toLowerCase().split(';')
    if (coding.trim() !== 'gzip' && coding.trim() !== 'x-gzip') return false
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    return !q || Number(q.slice(2)) > 0
  })
}

/**
 * `attachment` with a quoted ASCII `filename` (as Kylin sends it, so not the bare token form that
 * content-disposition's own formatter picks) and RFC 8187 `filename*` for other characters.
 */
export function toContentDisposition(name: string): string {
  // A lone surrogate cannot be percent-encoded; records from before the schema check may hold one.
  const fileName = name.replace(/\p{Cs}/gu, '\uFFFD')
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_')
  // Such records may hold a quote or a backslash too: escaped, the header still parses.
  const plain = `attachment; filename="${ascii.replace(/[\\"]/g, '\\$&')}"`
  return ascii === fileName ? plain : `${plain}; filename*=${encodeExtended(fileName)}`
}
