/**
 * Transparent proxy of every /kylin/* request the gateway does not serve to the upstream Kylin.
 * Portable: Web APIs only (fetch, Request/Response, Headers, ReadableStream), no Node built-ins.
 * Own header rules, not hono/proxy's: it drops Accept-Encoding, and Content-Encoding even on HEAD.
 */
import { UpstreamError } from '../errors.ts'
import type { Logger } from '../logger.ts'

export interface PassthroughOptions {
  /** The upstream Kylin's origin (optionally a base path), no trailing slash: `http://kylin:7070` */
  upstreamUrl: string
  /** fetch used for the upstream hop (Node's global/undici fetch, Workers' fetch, a test double). */
  fetch: typeof fetch
  logger?: Logger
}

/**
 * Sends `request` on; `body`, when given, replaces its body (the same bytes, of which some were
 * already read to find the request's project).
 */
export type Passthrough = (
  request: Request,
  body?: ReadableStream<Uint8Array> | null,
) => Promise<Response>

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the message, so they never
 * cross the proxy in either direction. `proxy-connection` is the non-standard cousin still sent by
 * some clients. Headers named in `Connection` are added per message.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

/**
 * Request headers we never forward besides hop-by-hop ones: `host` must be the upstream's (fetch
 * sets it), and `expect: 100-continue` was already answered by our own server — undici even
 * refuses the header outright.
 */
const DROPPED_REQUEST_HEADERS = new Set(['host', 'expect'])

/**
 * Content codings every fetch we run on (undici in Node, Workers) decodes transparently. When the
 * upstream's response uses only these, the body we get is already decoded, so `content-encoding`
 * and `content-length` would lie to the client and must go. Any other coding reaches us untouched
 * and keeps its headers.
 */
const DECODED_BY_FETCH = new Set(['gzip', 'x-gzip', 'deflate', 'br', 'identity'])

/**
 * `zstd` is decoded by some fetches (undici 7 on Node ≥ 22.15) and not by others (Node 20's
 * global fetch), and nothing in the response tells us which happened. We therefore never offer
 * it upstream, so the case cannot arise; the client still gets an encoding it accepts (identity).
 */
const AMBIGUOUS_CODINGS = new Set(['zstd'])

/** Statuses whose responses carry no body, hence nothing fetch could have decoded. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304])

export function createPassthrough(options: PassthroughOptions): Passthrough {
  const upstreamUrl = options.upstreamUrl.replace(/\/+$/, '')
  const upstreamForMessages = redactUserinfo(upstreamUrl)
  const upstreamFetch = options.fetch
  const logger = options.logger

  return async function passthrough(request, replacedBody): Promise<Response> {
    const started = performance.now()
    const incoming = new URL(request.url)
    const target = upstreamUrl + toPathAndQuery(request.url)
    const body = replacedBody === undefined ? request.body : replacedBody
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD' && body !== null

    const init: RequestInit & { duplex?: 'half' } = {
      method: request.method,
      headers: toUpstreamHeaders(request.headers, incoming, hasBody),
      // A 3xx (e.g. Kylin's login redirect) is the client's to follow, Location and all.
      redirect: 'manual',
      // A client that hangs up cancels the upstream call instead of leaving it running.
      signal: request.signal,
    }
    if (hasBody) {
      // Streamed, never buffered: `duplex: 'half'` is what fetch demands for a stream body.
      init.body = body
      init.duplex = 'half'
    }

    let upstream: Response
    try {
      upstream = await upstreamFetch(target, init)
    } catch (error) {
      const text = `Cannot reach the upstream Kylin at ${upstreamForMessages}: ${describeFailure(error)}`
      logger?.warn(
        {
          method: request.method,
          path: incoming.pathname,
          durationMs: Math.round(performance.now() - started),
        },
        text,
      )
      throw new UpstreamError(text, { cause: error })
    }
    if (upstream.type === 'opaqueredirect') {
      // A browser-style fetch hides manual redirects; we could only forward an empty shell.
      await upstream.body?.cancel()
      throw new UpstreamError(
        `The upstream Kylin at ${upstreamForMessages} answered a redirect this runtime's fetch hides`,
      )
    }

    // Path only: query strings and headers may carry credentials or cookies. The duration is to
    // the upstream's headers; the body streams on afterwards at the client's pace.
    logger?.debug(
      {
        method: request.method,
        path: incoming.pathname,
        status: upstream.status,
        durationMs: Math.round(performance.now() - started),
      },
      'passthrough',
    )

    return new Response(NULL_BODY_STATUSES.has(upstream.status) ? null : upstream.body, {
      status: upstream.status,
      statusText: upstream.statusText,
      headers: toClientHeaders(upstream, request.method),
    })
  }
}

/**
 * The path and query exactly as they appear in the request's URL string, never decoded and
 * re-encoded. `request.url` is the WHATWG serialisation: escapes such as `%2F`/`%2f`, `%20`, `+`
 * stay as sent; raw spaces, quotes and non-ASCII come percent-encoded; dot segments (`..`,
 * `%2e%2e`) are already resolved, so the router and the upstream see the same path. fetch parses
 * the target once more (idempotent), except that undici drops an empty `?`. No fragment is sent.
 */
function toPathAndQuery(url: string): string {
  const authorityStart = url.indexOf('//')
  const pathStart = url.indexOf('/', authorityStart === -1 ? 0 : authorityStart + 2)
  if (pathStart === -1) return '/'
  const hash = url.indexOf('#', pathStart)
  return url.slice(pathStart, hash === -1 ? undefined : hash)
}

function toUpstreamHeaders(source: Headers, incoming: URL, hasBody: boolean): Headers {
  const dropped = connectionTokens(source)
  const headers = new Headers()
  source.forEach((value, name) => {
    if (HOP_BY_HOP.has(name) || DROPPED_REQUEST_HEADERS.has(name) || dropped.has(name)) return
    // A length without a body (e.g. on a GET) would make fetch refuse the request.
    if (name === 'content-length' && !hasBody) return
    headers.set(name, value)
  })

  const acceptEncoding = headers.get('accept-encoding')
  if (acceptEncoding !== null) {
    const offered = withoutAmbiguousCodings(acceptEncoding)
    // Nothing left: fetch offers what it decodes itself, and the client gets identity.
    if (offered === '') headers.delete('accept-encoding')
    else headers.set('accept-encoding', offered)
  }

  // Appended, so a chain of proxies in front of us stays visible to Kylin.
  headers.append('x-forwarded-host', incoming.host)
  headers.append('x-forwarded-proto', incoming.protocol.slice(0, -1))
  return headers
}

function toClientHeaders(upstream: Response, method: string): Headers {
  const source = upstream.headers
  const dropped = connectionTokens(source)
  const decoded = isDecodedByFetch(source.get('content-encoding'), method, upstream.status)
  const headers = new Headers()
  source.forEach((value, name) => {
    if (HOP_BY_HOP.has(name) || dropped.has(name)) return
    if (decoded && (name === 'content-encoding' || name === 'content-length')) return
    // Copied one by one below: joined with commas, cookies with `Expires=Wed, …` would break.
    if (name === 'set-cookie') return
    headers.append(name, value)
  })
  for (const cookie of source.getSetCookie()) headers.append('set-cookie', cookie)
  return headers
}

/**
 * Whether fetch handed us a decoded body. Forwarding the client's own Accept-Encoding keeps the
 * upstream hop compressed, but fetch then decodes what it knows, so the body we stream on is the
 * identity form whatever `content-encoding` says. HEAD and null-body statuses are not decoded:
 * their headers describe the representation and stay.
 */
function isDecodedByFetch(contentEncoding: string | null, method: string, status: number): boolean {
  if (contentEncoding === null || method === 'HEAD' || NULL_BODY_STATUSES.has(status)) return false
  const codings = contentEncoding
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '')
  return codings.length > 0 && codings.every((coding) => DECODED_BY_FETCH.has(coding))
}

/** The client's Accept-Encoding minus the codings fetch may or may not decode; unchanged if none. */
function withoutAmbiguousCodings(acceptEncoding: string): string {
  const entries = acceptEncoding.split(',')
  const kept = entries.filter((entry) => {
    const coding = entry.split(';')[0]?.trim().toLowerCase() ?? ''
    return !AMBIGUOUS_CODINGS.has(coding)
  })
  if (kept.length === entries.length) return acceptEncoding
  return kept
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .join(', ')
}

/** Header names listed in `Connection`, which are hop-by-hop for this message only. */
function connectionTokens(headers: Headers): Set<string> {
  const tokens = new Set<string>()
  for (const token of (headers.get('connection') ?? '').split(',')) {
    const name = token.trim().toLowerCase()
    if (name !== '') tokens.add(name)
  }
  return tokens
}

/** The deepest cause's message or code: `fetch failed` alone tells an operator nothing. */
function describeFailure(error: unknown): string {
  let current: unknown = error
  let description = ''
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    if (current instanceof Error) {
      const code = (current as Error & { code?: unknown }).code
      if (current.message !== '') description = current.message
      else if (typeof code === 'string') description = code
      current = current.cause
    } else {
      description = String(current)
      break
    }
  }
  return description === '' ? 'unknown error' : description
}

/** An upstream URL with `user:password@` removed, so messages and logs never carry it. */
function redactUserinfo(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.username === '' && parsed.password === '') return url
    parsed.username = ''
    parsed.password = ''
    return parsed.href.replace(/\/$/, '')
  } catch {
    return url
  }
}
