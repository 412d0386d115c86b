/**
 * A loopback proxy in front of a gateway that spoils result downloads on purpose: it cuts the
 * first answers off after some bytes, or flips one byte of every download (same length), and
 * records each request's method, path and range headers. Tests only, Node only.
 */
import { createServer, request } from 'node:http'
import { listenOnLoopback } from './loopback.ts'

export interface DownloadFaults {
  /** Downloads cut off (the socket destroyed) after this many body bytes, first come first cut. */
  cutAfterBytes?: number[]
  /** Flip the bits of the body byte at this offset of every whole (200) download. */
  corruptByteAt?: number
}

export interface SeenRequest {
  method: string
  path: string
  range: string | undefined
  ifRange: string | undefined
  status?: number
}

export interface DownloadFaultProxy {
  url: string
  requests: SeenRequest[]
  close(): Promise<void>
}

const isDownload = (path: string) => /\/result(_download)?(\?|$)/.test(path)

export async function startDownloadFaultProxy(
  target: string,
  faults: DownloadFaults,
): Promise<DownloadFaultProxy> {
  const backend = new URL(target)
  const cuts = [...(faults.cutAfterBytes ?? [])]
  const requests: SeenRequest[] = []
  const server = createServer((req, res) => {
    const seen: SeenRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      range: req.headers.range,
      ifRange: req.headers['if-range'] as string | undefined,
    }
    requests.push(seen)
    const upstream = request(
      {
        host: backend.hostname,
        port: backend.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: backend.host },
      },
      (answer) => {
        seen.status = answer.statusCode
        const headers: string[] = []
        for (let i = 0; i < answer.rawHeaders.length; i += 2) {
          const name = answer.rawHeaders[i]!
          if (!/^(connection|keep-alive|transfer-encoding)$/i.test(name)) {
            headers.push(name, answer.rawHeaders[i + 1]!)
          }
        }
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers)
        res.flushHeaders()
        const spoil = req.method === 'GET' && isDownload(req.url ?? '')
        const cutAt =
          spoil && answer.statusCode !== undefined && answer.statusCode < 300
            ? cuts.shift()
            : undefined
        let sent = 0
        answer.on('data', (chunk: Buffer) => {
          let out = chunk
          if (spoil && answer.statusCode === 200 && faults.corruptByteAt !== undefined) {
            const at = faults.corruptByteAt - sent
            if (at >= 0 && at < chunk.length) {
              out = Buffer.from(chunk)
              out[at] = out[at]! ^ 0xff
            }
          }
          if (cutAt !== undefined && sent + out.length >= cutAt) {
            const kept = out.subarray(0, cutAt - sent)
            sent = cutAt
            answer.destroy()
            // Let the bytes leave, and the client read them, before the connection drops: a
            // fetch body that errors drops what its reader has not taken yet.
            res.write(kept, () => setTimeout(() => res.destroy(), 150))
            return
          }
          sent += out.length
          res.write(out)
        })
        answer.on('end', () => res.end())
        answer.on('close', () => {
          if (!answer.complete && cutAt === undefined) res.destroy()
        })
      },
    )
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy()
    })
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502)
      res.end()
    })
    req.pipe(upstream)
  })
  const listening = await listenOnLoopback(server)
  return { url: listening.url, requests, close: listening.close }
}
