/**
 * swagger-ui-dist's files for /docs, streamed from the installed npm package. Node only.
 * Each answer has its content type, a validator (304 on If-None-Match), a day of caching and gzip.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { createGzip } from 'node:zlib'
import type { DocsAssetFile, DocsAssetSource } from '../../api/docs.ts'

const CONTENT_TYPES: Record<DocsAssetFile, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
}

/** Text compresses well (the bundle shrinks about fourfold); the PNG does not. */
const COMPRESSIBLE = new Set<DocsAssetFile>(['swagger-ui.css', 'swagger-ui-bundle.js'])

/** The package's own directory, as swagger-ui-dist documents it; null if it is not installed. */
export function findSwaggerUiDist(): string | null {
  try {
    const require = createRequire(import.meta.url)
    const getAbsoluteFSPath = require('swagger-ui-dist/absolute-path.js') as () => string
    return getAbsoluteFSPath()
  } catch {
    return null
  }
}

export function createNodeDocsAssets(dir: string): DocsAssetSource {
  return async (file, request) => {
    const path = join(dir, file)
    const info = await stat(path)
    // The files change only when the package does; size and mtime identify a version.
    const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`
    const gzip = COMPRESSIBLE.has(file) && acceptsGzip(request.headers.get('accept-encoding'))
    const headers = new Headers({
      'Content-Type': CONTENT_TYPES[file],
      ETag: gzip ? `${etag.slice(0, -1)}-gzip"` : etag,
      'Last-Modified': info.mtime.toUTCString(),
      'Cache-Control': 'public, max-age=86400',
      'X-Content-Type-Options': 'nosniff',
      Vary: 'Accept-Encoding',
    })
    if (matches(request.headers.get('if-none-match'), headers.get('ETag') ?? '')) {
      return new Response(null, { status: 304, headers })
    }
    if (gzip) headers.set('Content-Encoding', 'gzip')
    else headers.set('Content-Length', String(info.size))
    // HEAD must not open the file: an unread stream would hold its descriptor.
    if (request.method === 'HEAD') return new Response(null, { headers })
    const source = createReadStream(path)
    const body = Readable.toWeb(gzip ? source.pipe(createGzip()) : source)
    return new Response(body as ReadableStream<Uint8Array>, { headers })
  }
}

function matches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false
  return ifNoneMatch.split(',').some((tag) => {
    const value = tag.trim()
    return value === '*' || value.replace(/^W\//, '') === etag
  })
}

function acceptsGzip(header: string | null): boolean {
  return (header ?? '').split(',').some((part) => {
    const [coding = '', ...params] = part.trim().toLowerCase().split(';')
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    return coding.trim() === 'gzip' && (!q || Number(q.slice(2)) > 0)
  })
}
