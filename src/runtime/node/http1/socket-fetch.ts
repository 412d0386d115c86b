/**
 * A fetch for the Kylin query call over plain HTTP/1.1 on its own `net.Socket`, read into one
 * buffer per connection (`onread`) instead of a fresh 64 KiB buffer per socket read. Its body is
 * a byte stream: a reader that brings its own buffer (BYOB, as the export does) gets the bytes
 * copied into it, so a whole result passes without one allocation per read; any other reader
 * gets a copy per read. Hand-written for a measured need: undici's per-read buffers were ~100 MB
 * of garbage per 1M-row export, which drove the collector and the malloc heap (README,
 * Performance). One request per connection (`Connection: close`), plain `http:` only, no
 * redirects followed, no content decoding; failures look as fetch's do. Node only.
 */
import { connect, type Socket } from 'node:net'
import { BufferPool } from '../../../buffer-pool.ts'
import { requestUrlOf } from '../request-url.ts'
import { BodyFraming } from './body-framing.ts'
import { findHeadEnd, framingOf, parseHead, type ResponseHead } from './response-head.ts'

/** One read of the socket at most; what a reader takes per read when it asks for more. */
const READ_BUFFER_BYTES = 256 * 1024
/** Read buffers kept between exchanges (each holds one while its socket is open). */
const readBuffers = new BufferPool(READ_BUFFER_BYTES, 8)

export interface SocketFetchOptions {
  connectTimeoutMs: number
  /** Until the response head has come: Kylin sends none before the whole query has run. */
  headersTimeoutMs: number
  /** The longest wait for body bytes a reader is waiting for. */
  bodyTimeoutMs: number
}

export interface SocketFetch {
  fetch: typeof fetch
  /** Lets the exchanges in flight finish; refuses new ones. */
  close(): Promise<void>
}

export function createSocketFetch(options: SocketFetchOptions): SocketFetch {
  const open = new Set<Exchange>()
  let closed = false
  let allDone: (() => void) | undefined

  const socketFetch = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(requestUrlOf(input))
    if (url.protocol !== 'http:') throw new TypeError('This fetch speaks plain http: only.')
    if (init.body != null && typeof init.body !== 'string') {
      throw new TypeError('This fetch sends a string body or none.')
    }
    if (closed) throw new TypeError('fetch failed', { cause: new Error('The client is closed.') })
    init.signal?.throwIfAborted()
    const exchange = new Exchange(url, init, options, () => {
      open.delete(exchange)
      if (open.size === 0) allDone?.()
    })
    open.add(exchange)
    return exchange.response
  }

  return {
    fetch: socketFetch as typeof fetch,
    close() {
      closed = true
      if (open.size === 0) return Promise.resolve()
      return new Promise<void>((resolve) => (allDone = resolve))
    },
  }
}

/** One request and its response on a connection of their own. */
class Exchange {
  readonly response: Promise<Response>
  private settleResponse!: { resolve: (r: Response) => void; reject: (e: unknown) => void }
  private readonly socket: Socket
  private readonly method: string
  /** The connection's one read buffer; bytes [offset, available) are read but not yet taken. */
  private readonly buffer = readBuffers.take()
  private available = 0
  private offset = 0
  /** Bytes of the head so far; null once it has been parsed. */
  private head: Uint8Array | null = new Uint8Array(0)
  private framing: BodyFraming | null = null
  private controller: ReadableByteStreamController | null = null
  /** The pull waiting for bytes from the socket. */
  private waiting: (() => void) | null = null
  private eof = false
  private over = false
  private timer: NodeJS.Timeout | undefined
  private readonly signal: AbortSignal | undefined
  private readonly onAbort = () => this.fail(this.signal!.reason, true)

  constructor(
    url: URL,
    init: RequestInit,
    private readonly options: SocketFetchOptions,
    private readonly onOver: () => void,
  ) {
    this.response = new Promise((resolve, reject) => (this.settleResponse = { resolve, reject }))
    this.method = (init.method ?? 'GET').toUpperCase()
    this.signal = init.signal ?? undefined
    this.signal?.addEventListener('abort', this.onAbort, { once: true })
    this.socket = connect({
      // URL keeps an IPv6 literal in brackets; the socket wants it bare.
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(url.port || 80),
      onread: { buffer: this.buffer, callback: (n: number) => this.onRead(n) },
    })
    this.socket.setNoDelay(true)
    this.arm(options.connectTimeoutMs, 'connect')
    this.socket.once('connect', () => {
      this.arm(options.headersTimeoutMs, 'headers')
      this.send(url, init)
    })
    this.socket.on('error', (error) => this.fail(error))
    this.socket.on('end', () => this.onEnd())
    this.socket.on('close', () => {
      this.onEnd()
      // Closed, the socket reads into it no more; once no byte in it waits for the reader,
      // nothing will read it again.
      if (this.over || this.offset >= this.available) readBuffers.give(this.buffer)
    })
  }

  private send(url: URL, init: RequestInit): void {
    const headers = new Headers(init.headers)
    if (!headers.has('host')) headers.set('host', url.host)
    headers.set('connection', 'close')
    const body = typeof init.body === 'string' ? init.body : ''
    if (body !== '' || this.method === 'POST' || this.method === 'PUT') {
      headers.set('content-length', String(Buffer.byteLength(body)))
    }
    let head = `${this.method} ${url.pathname}${url.search} HTTP/1.1\r\n`
    // Headers holds byte strings (no CR or LF): one character per octet, as latin1 writes them.
    for (const [name, value] of headers) head += `${name}: ${value}\r\n`
    this.socket.cork()
    this.socket.write(`${head}\r\n`, 'latin1')
    if (body !== '') this.socket.write(body, 'utf8')
    this.socket.uncork()
  }

  /** A timer for one phase; firing fails the exchange. */
  private arm(ms: number, phase: 'connect' | 'headers' | 'body'): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      const code = `UND_ERR_${phase.toUpperCase()}_TIMEOUT`
      this.fail(Object.assign(new Error(`${phase} timeout after ${ms} ms`), { code }))
    }, ms)
  }

  /** The socket read `n` bytes into the buffer; false pauses it while some of them wait. */
  private onRead(n: number): boolean {
    if (this.over) return false
    this.available = n
    this.offset = 0
    try {
      if (this.head !== null) this.readHead()
      if (this.framing !== null && this.waiting !== null) {
        clearTimeout(this.timer)
        if (this.deliver()) this.wake()
        else this.arm(this.options.bodyTimeoutMs, 'body')
      }
    } catch (error) {
      this.fail(error)
      return false
    }
    return this.offset >= this.available
  }

  private readHead(): void {
    for (;;) {
      const before = this.head!
      const fresh = this.buffer.subarray(this.offset, this.available)
      let joined: Uint8Array = fresh
      if (before.length > 0) {
        joined = new Uint8Array(before.length + fresh.length)
        joined.set(before)
        joined.set(fresh, before.length)
      }
      const end = findHeadEnd(joined)
      if (end < 0) {
        // Kept beyond this read: a copy, as the buffer is read into again.
        this.head = joined === fresh ? fresh.slice() : joined
        this.offset = this.available
        return
      }
      this.offset += end - before.length
      const head = parseHead(joined.subarray(0, end))
      // An interim answer (100 Continue and the like) comes before the real one.
      if (head.status < 200) {
        this.head = new Uint8Array(0)
        continue
      }
      this.head = null
      this.respond(head)
      return
    }
  }

  private respond(head: ResponseHead): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.framing = new BodyFraming(framingOf(head, this.method))
    const headers = new Headers()
    for (const [name, value] of head.fields) headers.append(name, value)
    const nullBody = head.status === 204 || head.status === 304 || this.method === 'HEAD'
    const body = nullBody
      ? null
      : new ReadableStream(
          {
            type: 'bytes',
            start: (controller: ReadableByteStreamController) => {
              this.controller = controller
            },
            pull: () => this.pull(),
            cancel: () => this.finish(),
          },
          { highWaterMark: 0 },
        )
    const response = new Response(body, {
      status: head.status,
      statusText: head.statusText,
      headers,
    })
    this.settleResponse.resolve(response)
    if (nullBody) this.finish()
  }

  private pull(): Promise<void> | undefined {
    if (this.over) return undefined
    try {
      if (this.offset < this.available && this.deliver()) {
        if (this.offset >= this.available) this.socket.resume()
        return undefined
      }
    } catch (error) {
      this.fail(error)
      return undefined
    }
    if (this.eof) {
      this.closeAtEof()
      return undefined
    }
    // Every byte read so far is taken: the next comes from the socket.
    this.socket.resume()
    this.arm(this.options.bodyTimeoutMs, 'body')
    return new Promise<void>((resolve) => (this.waiting = resolve))
  }

  /**
   * Hands the reader what the buffer holds of the body: into its own buffer (BYOB), or as a
   * copy. Answers whether the read was answered (bytes, or the body's end).
   */
  private deliver(): boolean {
    const controller = this.controller!
    const framing = this.framing!
    const request = controller.byobRequest
    let written: number
    if (request) {
      const view = request.view!
      const target = new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
      this.offset = framing.decode(this.buffer, this.offset, this.available, target, 0)
      written = framing.written
      if (written > 0) request.respond(written)
    } else {
      const target = new Uint8Array(this.available - this.offset)
      this.offset = framing.decode(this.buffer, this.offset, this.available, target, 0)
      written = framing.written
      if (written > 0) controller.enqueue(target.subarray(0, written))
    }
    if (framing.done) {
      this.endBody()
      return true
    }
    return written > 0
  }

  /** The body is whole: the connection goes, the stream closes, a read still waiting ends. */
  private endBody(): void {
    this.finish()
    this.controller!.close()
    this.controller!.byobRequest?.respond(0)
  }

  private wake(): void {
    const resume = this.waiting
    this.waiting = null
    resume?.()
  }

  private onEnd(): void {
    if (this.over) return
    this.eof = true
    if (this.head !== null) return this.fail(closedEarly())
    // Bytes still in the buffer are the reader's to take first.
    if (this.offset < this.available || this.waiting === null) return
    this.closeAtEof()
  }

  /** The connection ended with every read byte taken: the end, if the framing says so. */
  private closeAtEof(): void {
    if (!this.framing!.endsWithClose) return this.fail(closedEarly())
    this.endBody()
    this.wake()
  }

  /** Ends the exchange with an error: fetch rejects, or the body breaks off. */
  private fail(error: unknown, aborted = false): void {
    if (this.over) return
    this.finish()
    if (this.head !== null) {
      this.settleResponse.reject(aborted ? error : new TypeError('fetch failed', { cause: error }))
    } else if (this.controller) {
      this.controller.error(aborted ? error : new TypeError('terminated', { cause: error }))
    }
    this.wake()
  }

  /** Lets the connection go; nothing more is read. */
  private finish(): void {
    if (this.over) return
    this.over = true
    clearTimeout(this.timer)
    this.signal?.removeEventListener('abort', this.onAbort)
    this.socket.destroy()
    this.onOver()
  }
}

/** As undici words a connection the server closed too soon, so a failure reads the same. */
function closedEarly(): Error {
  return Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })
}
