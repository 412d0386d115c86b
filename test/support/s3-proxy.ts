/**
 * An HTTP front for the in-process S3 test server, so gateway processes reach the same mended
 * S3 (test/support/s3-server.ts) over the network. Tests only, Node only, loopback.
 * Requests go on unsigned: the S3 tests check signing; here only the stored bytes matter.
 */
import { createServer, type IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { listenOnLoopback } from './loopback.ts'
import type { S3TestServer } from './s3-server.ts'

export interface S3Proxy {
  /** Use as S3_ENDPOINT, e.g. http://127.0.0.1:40321 */
  endpoint: string
  close(): Promise<void>
}

/** Request headers that belong to one hop, or to a signature for the proxy's own address. */
const DROPPED_REQUEST = new Set([
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'authorization',
  'x-amz-date',
  'x-amz-content-sha256',
  'x-amz-security-token',
])
const DROPPED_RESPONSE = new Set(['connection', 'transfer-encoding', 'keep-alive'])

async function readBody(req: IncomingMessage): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return chunks.length > 0 ? new Uint8Array(Buffer.concat(chunks)) : undefined
}

export async function startS3Proxy(s3: S3TestServer): Promise<S3Proxy> {
  const server = createServer((req, res) => {
    void (async () => {
      const headers = new Headers()
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined && !DROPPED_REQUEST.has(name)) headers.set(name, String(value))
      }
      const method = req.method ?? 'GET'
      const body = await readBody(req)
      const answer = await s3.fetch(new URL(req.url ?? '/', s3.endpoint), {
        method,
        headers,
        ...(body ? { body } : {}),
      })
      const out: Record<string, string> = {}
      answer.headers.forEach((value, name) => {
        if (!DROPPED_RESPONSE.has(name)) out[name] = value
      })
      res.writeHead(answer.status, out)
      if (!answer.body || method === 'HEAD') return void res.end()
      Readable.fromWeb(answer.body as import('node:stream/web').ReadableStream).pipe(res)
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' })
      res.end(String(error))
    })
  })
  const { url, close } = await listenOnLoopback(server)
  return { endpoint: url, close }
}
