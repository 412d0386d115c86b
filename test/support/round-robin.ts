/**
 * A round-robin load balancer on loopback: each request goes to the next backend, bytes and
 * headers passed as they are (gzip, ranges, Set-Cookie). Tests only, Node only.
 */
import { createServer, request } from 'node:http'
import { listenOnLoopback } from './loopback.ts'

export interface RoundRobin {
  url: string
  close(): Promise<void>
}

export async function startRoundRobin(backends: string[]): Promise<RoundRobin> {
  let next = 0
  const server = createServer((req, res) => {
    const backend = new URL(backends[next++ % backends.length]!)
    const upstream = request(
      {
        host: backend.hostname,
        port: backend.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: backend.host },
      },
      (answer) => {
        const headers: string[] = []
        for (let i = 0; i < answer.rawHeaders.length; i += 2) {
          const name = answer.rawHeaders[i]!
          if (!/^(connection|keep-alive|transfer-encoding)$/i.test(name)) {
            headers.push(name, answer.rawHeaders[i + 1]!)
          }
        }
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers)
        // Headers go on at once, as a real balancer passes them, not with the first body bytes.
        res.flushHeaders()
        answer.pipe(res)
        // A backend that cuts its answer off is cut off here too, never ended as if whole.
        answer.on('close', () => {
          if (!answer.complete) res.destroy()
        })
      },
    )
    // A client that goes away mid-answer (an event stream closed) takes the backend's request along.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy()
    })
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502)
      res.end()
    })
    req.pipe(upstream)
  })
  return listenOnLoopback(server)
}
