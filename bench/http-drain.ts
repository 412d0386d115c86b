/**
 * Drains an HTTP answer with node:http, as a plain Node client reads it: the bytes (and, when
 * asked, the `\n` count) of the body, each chunk as the socket delivers it. The same client reads
 * the raw upstream answer and the gateway's download, so their times compare; a timed drain
 * counts no lines (a million `indexOf` calls cost the client ~15 ms that the raw JSON, with no
 * newlines, never pays), a second drain checks them. Bench only, Node only.
 */
import { request } from 'node:http'

export interface Drained {
  status: number
  bytes: number
  newlines: number
}

export function httpDrain(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  countLines = true,
): Promise<Drained> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      // A new connection each time (agent: false): no socket left from an earlier measurement.
      { method: init.method ?? 'GET', headers: init.headers, agent: false },
      (res) => {
        let bytes = 0
        let newlines = 0
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length
          if (!countLines) return
          for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) newlines++
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, newlines }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(init.body)
  })
}
