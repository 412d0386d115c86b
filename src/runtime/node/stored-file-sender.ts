/**
 * Downloads of the fs store on Node: the file read in 1 MiB chunks straight to
 * @hono/node-server's ServerResponse, through two buffers that take turns. Node only.
 * Hand-written for a measured need: through the web stream its adapter copies to the socket, an
 * 80.8 MB download cost the gateway 72–83 ms of CPU, this way 54–63 ms (bench/download.bench.ts);
 * and a fresh buffer per read left ~80 MB of garbage per download, which the malloc heap kept
 * long after (README, Performance).
 */
import type { FileHandle } from 'node:fs/promises'
import { ServerResponse, type OutgoingHttpHeaders } from 'node:http'
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import { BufferPool } from '../../buffer-pool.ts'
import type { StoredFileSender } from '../../deps.ts'
import type { FsStore } from '../../store/fs.ts'

/** Fewer, larger reads: each chunk costs a read(2) and a socket write. */
const READ_CHUNK_BYTES = 1024 * 1024
/** One buffer is read into while the other is written out. */
const BUFFER_COUNT = 2
/** Read buffers kept between downloads: two downloads at once reuse theirs. */
const buffers = new BufferPool(READ_CHUNK_BYTES, 2 * BUFFER_COUNT)

/** The ServerResponse @hono/node-server puts in each request's bindings (HTTP/1 only). */
function outgoingOf(env: unknown): ServerResponse | undefined {
  const outgoing = (env as { outgoing?: unknown } | undefined)?.outgoing
  return outgoing instanceof ServerResponse ? outgoing : undefined
}

/** As @hono/node-server writes a Response's headers: lower-case names, in Headers' order. */
function toOutgoingHeaders(headers: Headers): OutgoingHttpHeaders {
  const outgoing: OutgoingHttpHeaders = {}
  for (const [name, value] of headers) {
    if (name === 'set-cookie') outgoing[name] = headers.getSetCookie()
    else outgoing[name] = value
  }
  return outgoing
}

/**
 * The answer @hono/node-server takes for one written already, with the status written, which the
 * access log reads. Made with the class of the library's own marker: the global Response it
 * installs would be taken for an answer still to write.
 */
function toSentAnswer(status: number): Response {
  const NativeResponse = RESPONSE_ALREADY_SENT.constructor as typeof Response
  return new NativeResponse(null, { status, headers: RESPONSE_ALREADY_SENT.headers })
}

export function createStoredFileSender(store: FsStore): StoredFileSender {
  return {
    reaches: (env) => outgoingOf(env) !== undefined,

    async send(env, key, range, answer, countBytes) {
      const outgoing = outgoingOf(env)
      if (!outgoing) throw new Error('no Node response to write the download to')
      const opened = await store.open(key)
      if (!opened) return null
      const expected = range.end - range.start + 1
      let status: number
      try {
        const head = answer()
        status = head.status
        outgoing.writeHead(status, toOutgoingHeaders(head.headers))
      } catch (error) {
        await opened.handle.close().catch(() => {})
        throw error
      }
      // The end is ours: only a file read to the range's end ends the response cleanly; one that
      // shrank, or failed, resets the connection instead (as a failed follow does). A client that
      // goes away stops the copy.
      copyRange(opened.handle, outgoing, range.start, expected, countBytes).then(
        (whole) => {
          if (whole) outgoing.end()
          else outgoing.destroy()
        },
        () => outgoing.destroy(),
      )
      return toSentAnswer(status)
    },
  }
}

/**
 * Writes `length` bytes of the file from `start` to the response, each buffer reused once the
 * socket has taken what it held (the write's callback), so at most BUFFER_COUNT reads are held.
 * Answers whether all of them went out; closes the file in every case.
 */
async function copyRange(
  handle: FileHandle,
  outgoing: ServerResponse,
  start: number,
  length: number,
  countBytes: ((bytes: number) => void) | undefined,
): Promise<boolean> {
  const free: Uint8Array[] = []
  for (let i = 0; i < BUFFER_COUNT; i++) free.push(buffers.take())
  /** Once the copy is over, a buffer goes back to the pool when its write is done. */
  let over = false
  let gone = false
  let wake: (() => void) | null = null
  const onClose = () => {
    // A destroyed response calls no write callback: the close wakes the copy instead.
    gone = true
    wake?.()
  }
  outgoing.once('close', onClose)
  try {
    let position = start
    let left = length
    while (left > 0) {
      while (free.length === 0 && !gone) await new Promise<void>((resolve) => (wake = resolve))
      if (gone) return false
      const buffer = free.pop()!
      const { bytesRead } = await handle.read(buffer, 0, Math.min(left, buffer.length), position)
      if (bytesRead === 0 || gone) return false
      position += bytesRead
      left -= bytesRead
      countBytes?.(bytesRead)
      outgoing.write(buffer.subarray(0, bytesRead), (error) => {
        if (error) gone = true
        else if (over) buffers.give(buffer)
        else free.push(buffer)
        wake?.()
      })
    }
    return !gone
  } finally {
    outgoing.off('close', onClose)
    await handle.close().catch(() => {})
    // A buffer a write still holds goes back when it is done (one of a client gone, never).
    over = true
    for (const buffer of free) buffers.give(buffer)
  }
}
