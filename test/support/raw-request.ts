/**
 * A request over node:http that sends nothing but what is given (fetch adds its own
 * Accept-Encoding) and reads the body as it came, not decoded.
 */
import { request as httpRequest } from 'node:http'

/** A request over node:http whose body is not decoded on the way in, unlike fetch's. */
export function rawRequest(method: string, url: string, headers: Record<string, string> = {}) {
  return new Promise<{
    status: number
    headers: Record<string, string | string[] | undefined>
    body: Buffer
  }>((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}
