/**
 * A webhook receiver on a loopback port that records every request it gets. Tests only, Node
 * only. Its answer depends on the path: `/fail/<n>/…` answers 500 to the first n requests of that
 * path, then 204; `/redirect/…?to=<url>` answers 302 to `to`; `/hang/…` never answers; any other
 * path answers 204.
 */
import { createServer } from 'node:http'
import { listenOnLoopback } from './loopback.ts'

export interface ReceivedWebhook {
  path: string
  headers: Record<string, string>
  body: string
  at: number
}

export interface WebhookReceiver {
  /** e.g. http://127.0.0.1:40321 */
  url: string
  /** `127.0.0.1:<port>`, as WEBHOOK_ALLOWED_HOSTS names it. */
  host: string
  received: ReceivedWebhook[]
  /** Requests of `path` so far. */
  to(path: string): ReceivedWebhook[]
  /** Waits until `path` got `count` requests (or fails after `timeoutMs`). */
  waitFor(path: string, count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>
  close(): Promise<void>
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://receiver')
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string') headers[name] = value
      }
      received.push({
        path: url.pathname,
        headers,
        body: Buffer.concat(chunks).toString(),
        at: Date.now(),
      })
      const seen = received.filter((r) => r.path === url.pathname).length
      const fail = /^\/fail\/(\d+)\//.exec(url.pathname)
      if (fail && seen <= Number(fail[1])) {
        res.writeHead(500).end('not yet')
      } else if (url.pathname.startsWith('/redirect/')) {
        res.writeHead(302, { Location: url.searchParams.get('to') ?? '/' }).end()
      } else if (url.pathname.startsWith('/hang/')) {
        // No answer: the sender's timeout ends the attempt.
      } else {
        res.writeHead(204).end()
      }
    })
  })
  const listening = await listenOnLoopback(server)
  const to = (path: string) => received.filter((r) => r.path === path)
  return {
    url: listening.url,
    host: new URL(listening.url).host,
    received,
    to,
    async waitFor(path, count, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs
      while (to(path).length < count) {
        if (Date.now() > deadline) {
          throw new Error(`${path}: ${to(path).length} of ${count} webhooks within ${timeoutMs} ms`)
        }
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      return to(path)
    },
    close: listening.close,
  }
}
