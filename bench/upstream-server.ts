/**
 * The export benchmark's upstream: a sync-only Kylin 2.x that answers `select * from bench_<n>`
 * from a pre-rendered body at memory speed. Bench only, Node only; run as its own process.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { write } from '../test/support/fake-kylin.ts'
import { renderBody, type RenderedBody } from './dataset.ts'

/** Kylin's own default admin, the only user the benchmark needs. */
const ADMIN_BASIC = `Basic ${Buffer.from('ADMIN:KYLIN').toString('base64')}`
const MAX_ROWS = 50_000_000

// Only the last size is kept: two 5 M-row bodies would be ~1 GB of this process's memory.
let cached: RenderedBody | null = null

function bodyFor(rows: number): RenderedBody {
  if (cached?.rows !== rows) {
    cached = null
    cached = renderBody(rows)
  }
  return cached
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value)
  res.writeHead(status, {
    'Content-Type': 'application/json;charset=UTF-8',
    'Content-Length': Buffer.byteLength(body),
  })
  res.end(body)
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = []
  for await (const part of req) parts.push(part as Buffer)
  return Buffer.concat(parts).toString('utf8')
}

/** Writes the chunks as fast as the socket takes them, pausing on backpressure. */
async function writeChunks(res: ServerResponse, chunks: readonly Buffer[]): Promise<void> {
  for (const chunk of chunks) if (!(await write(res, chunk))) return
  res.end()
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://upstream')
  const authorized = req.headers.authorization === ADMIN_BASIC
  if (url.pathname === '/kylin/api/user/authentication') {
    await readBody(req)
    if (!authorized) return sendJson(res, 401, { code: '999', data: null, msg: 'Unauthorized' })
    return sendJson(res, 200, {
      userDetails: { username: 'ADMIN', authorities: [{ authority: 'ROLE_ADMIN' }] },
    })
  }
  if (url.pathname === '/kylin/api/query' && req.method === 'POST') {
    const request = JSON.parse(await readBody(req)) as { sql?: unknown }
    if (!authorized) return sendJson(res, 401, { code: '999', data: null, msg: 'Unauthorized' })
    const match = /\bbench_(\d+)\b/i.exec(typeof request.sql === 'string' ? request.sql : '')
    const rows = Number(match?.[1] ?? NaN)
    if (!match || rows > MAX_ROWS) {
      return sendJson(res, 500, { code: '999', data: null, msg: 'only bench_<n> is served' })
    }
    const body = bodyFor(rows)
    // No Content-Length: Kylin (Tomcat) sends big answers chunked, so the gateway sees the same.
    res.writeHead(200, { 'Content-Type': 'application/json;charset=UTF-8' })
    return writeChunks(res, body.chunks)
  }
  if (url.pathname === '/bench/prepare' && req.method === 'POST') {
    // Renders ahead of the timed runs, so no measurement includes the generation.
    await readBody(req)
    const rows = Number(url.searchParams.get('rows'))
    if (!Number.isSafeInteger(rows) || rows < 0 || rows > MAX_ROWS) {
      return sendJson(res, 400, { error: 'rows must be an integer from 0 to 50000000' })
    }
    const { chunks, ...expectation } = bodyFor(rows)
    return sendJson(res, 200, { ...expectation, chunks: chunks.length })
  }
  await readBody(req)
  return sendJson(res, 404, { code: '999', data: null, msg: 'not found' })
}

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => {
    if (res.headersSent) res.destroy()
    else sendJson(res, 500, { code: '999', data: null, msg: String(error) })
  })
})
server.keepAliveTimeout = 20_000
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  process.stdout.write(`bench upstream listening on http://127.0.0.1:${port}\n`)
})
// The parent owns this process: when it goes away (stdin closes), so does the upstream.
process.stdin.resume()
process.stdin.on('end', () => process.exit(0))
process.on('SIGTERM', () => process.exit(0))
