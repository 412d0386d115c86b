/**
 * The upstream Kylin client: the sync `POST /kylin/api/query` call and the identity check.
 * Portable: Web APIs only (fetch, streams, AbortSignal); the runtime passes in its `fetch`.
 */
import { z } from 'zod'
import { UpstreamError } from '../errors.ts'
import type { UpstreamQuery } from '../domain/query.ts'
import { stripStackFrames, toOneLine } from './kylin-error.ts'
import type { Credentials, UserIdentity } from '../domain/caller.ts'
import type { KylinClient } from './types.ts'

export interface KylinClientOptions {
  /** The upstream's origin (plus any path prefix before `/kylin`), no trailing slash. */
  baseUrl: string
  fetch: typeof fetch
  /** Bounds a whole query request, headers and body; none by default (the caller's signal). */
  timeoutMs?: number
  /** Bounds the identity check; 10 s by default. */
  authTimeoutMs?: number
}

/** Error pages and identity answers are small; beyond this is a stack trace nobody reads. */
const MAX_READ_BYTES = 64 * 1024
const MAX_EXCERPT_CHARS = 200
const USER_AGENT = 'kylin-async-gateway'

const REASON_PHRASES: Record<number, string> = {
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
}

/** Codes a network failure carries (Node's and undici's), said in words an operator knows. */
const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_BODY_TIMEOUT: 'the response body stalled',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_CLOSED: 'connection closed',
}

const authoritySchema = z.union([
  z.string(),
  z.object({ authority: z.string() }).transform((a) => a.authority),
])
const userSchema = z.object({
  username: z.string().min(1),
  authorities: z.array(authoritySchema).nullish(),
})
/** Kylin 2–4 `{userDetails}`, Kylin 5 `{code:"000",data}`, or a bare user. */
const authenticationSchema = z.union([
  z.object({ userDetails: userSchema }).transform((b) => b.userDetails),
  z.object({ code: z.string().optional(), data: userSchema }).transform((b) => b.data),
  userSchema,
])

export function createKylinClient(options: KylinClientOptions): KylinClient {
  const { fetch: fetchUpstream, timeoutMs } = options
  const baseUrl = options.baseUrl.replace(/\/+$/, '')
  const authTimeoutMs = options.authTimeoutMs ?? 10_000
  const shownUrl = toDisplayUrl(baseUrl)

  async function query(
    q: UpstreamQuery,
    credentials: Credentials,
    signal?: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>> {
    const call = startCall(signal, timeoutMs)
    const failure = (error: unknown) => toCallError(error, call, shownUrl, 'answer the query')
    let response: Response
    try {
      response = await fetchUpstream(`${baseUrl}/kylin/api/query`, {
        method: 'POST',
        headers: toHeaders(credentials, { 'Content-Type': 'application/json' }),
        body: JSON.stringify({
          sql: q.sql,
          project: q.project,
          offset: q.offset,
          limit: q.limit,
          acceptPartial: q.acceptPartial,
        }),
        // A redirect is a login page or a misconfigured URL; following it would re-send the
        // credentials elsewhere and turn the POST into a GET.
        redirect: 'manual',
        signal: call.signal,
      })
    } catch (error) {
      throw failure(error)
    }
    if (response.status < 200 || response.status > 299) {
      throw await toStatusError(response, call, failure)
    }
    if (!response.body) return emptyStream()
    return mapStreamErrors(response.body, (error) =>
      toCallError(error, call, shownUrl, 'answer the query', 'body'),
    )
  }

  async function authenticate(
    credentials: Credentials,
    signal?: AbortSignal,
  ): Promise<UserIdentity | null> {
    const call = startCall(signal, authTimeoutMs)
    const failure = (error: unknown) =>
      toCallError(error, call, shownUrl, 'answer the authentication check')
    let response: Response
    try {
      response = await fetchUpstream(`${baseUrl}/kylin/api/user/authentication`, {
        method: 'GET',
        headers: toHeaders(credentials, {}),
        redirect: 'manual',
        signal: call.signal,
      })
    } catch (error) {
      throw failure(error)
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel().catch(() => {})
      return null
    }
    if (response.status < 200 || response.status > 299) {
      throw await toStatusError(response, call, failure)
    }
    let text: string
    try {
      text = await readLimitedText(response, MAX_READ_BYTES)
    } catch (error) {
      throw failure(error)
    }
    return parseIdentity(text, response.status)
  }

  return { query, authenticate }
}

interface Call {
  signal: AbortSignal | undefined
  caller: AbortSignal | undefined
  timeout: AbortSignal | undefined
  timeoutMs: number | undefined
}

function startCall(caller: AbortSignal | undefined, timeoutMs: number | undefined): Call {
  const timeout = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs)
  const signals = [caller, timeout].filter((s): s is AbortSignal => s !== undefined)
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0]
  return { signal, caller, timeout, timeoutMs }
}

/** Any failure of a call (before or after the headers) → the UpstreamError a person reads. */
function toCallError(
  error: unknown,
  call: Call,
  shownUrl: string,
  what: string,
  phase: 'request' | 'body' = 'request',
): UpstreamError {
  if (error instanceof UpstreamError) return error
  if (call.signal?.aborted) {
    // AbortSignal.any keeps the first reason, which tells the timeout from the caller.
    if (call.timeout?.aborted && call.signal.reason === call.timeout.reason) {
      return new UpstreamError(
        `The upstream Kylin did not ${what} within ${call.timeoutMs} ms; ` +
          'it may be overloaded, or the timeout may be too short.',
        { cause: error },
      )
    }
    return new UpstreamError('The query was cancelled.', { cause: call.caller?.reason ?? error })
  }
  const text =
    phase === 'body'
      ? `The upstream Kylin at ${shownUrl} broke off the result: ${describeCause(error)}`
      : `Cannot reach the upstream Kylin at ${shownUrl}: ${describeCause(error)}`
  return new UpstreamError(text, { cause: error })
}

/** fetch wraps the interesting error (`TypeError: fetch failed` → cause `ECONNREFUSED`). */
function describeCause(error: unknown): string {
  let current: unknown = error
  let fallback = ''
  for (let depth = 0; depth < 5 && current instanceof Object; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && code) {
      const words = NETWORK_CODES[code]
      return words ? `${words} (${code})` : code
    }
    const message = (current as { message?: unknown }).message
    if (typeof message === 'string' && message && message !== 'fetch failed') fallback = message
    // A refused dual-stack connect is an AggregateError whose parts carry the codes.
    const parts = (current as { errors?: unknown }).errors
    current =
      (current as { cause?: unknown }).cause ?? (Array.isArray(parts) ? parts[0] : undefined)
  }
  return fallback || 'the request failed'
}

async function toStatusError(
  response: Response,
  call: Call,
  failure: (error: unknown) => UpstreamError,
): Promise<UpstreamError> {
  let text = ''
  try {
    text = await readLimitedText(response, MAX_READ_BYTES)
  } catch (error) {
    // A timeout or a cancel wins; a broken error body still leaves the status to report.
    if (call.signal?.aborted) return failure(error)
  }
  const status = response.status
  const reason = REASON_PHRASES[status] ?? response.statusText
  const statusLine = reason ? `${status} ${reason}` : `${status}`
  const options = { upstreamStatus: status }

  if (status === 401) {
    return new UpstreamError(
      `The upstream Kylin answered ${statusLine}: the credentials were rejected.`,
      options,
    )
  }
  const kylinMessage = readEnvelopeMessage(text)
  if (kylinMessage !== undefined) {
    // Kylin's own words (a SQL error above all) reach the user as Kylin wrote them.
    return new UpstreamError(toOneLine(kylinMessage), options)
  }
  if (status === 403) {
    return new UpstreamError(
      `The upstream Kylin answered ${statusLine}: these credentials are not allowed to do this.`,
      options,
    )
  }
  let detail = toExcerpt(text)
  if (status >= 300 && status < 400) {
    const location = response.headers.get('location')
    if (location) detail = `redirect to ${toDisplayUrl(location)}`
  }
  return new UpstreamError(
    `The upstream Kylin answered HTTP ${statusLine}${detail ? `: ${detail}` : ''}`,
    options,
  )
}

/** Kylin's error envelope `{code, data, msg, stacktrace, exception, url}`: its `msg`. */
function readEnvelopeMessage(text: string): string | undefined {
  if (!text.trimStart().startsWith('{')) return undefined
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof body !== 'object' || body === null) return undefined
  const { msg, exception } = body as { msg?: unknown; exception?: unknown }
  if (typeof msg === 'string' && msg.trim()) return msg
  if (typeof exception === 'string' && exception.trim()) return exception
  return undefined
}

function parseIdentity(text: string, status: number): UserIdentity | null {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (error) {
    throw new UpstreamError(
      `The upstream Kylin answered the authentication check with something other than JSON: ${toExcerpt(text) || '(empty body)'}`,
      { upstreamStatus: status, cause: error },
    )
  }
  // Kylin 5's async-style envelopes can carry 401 inside an HTTP 200.
  if ((body as { code?: unknown } | null)?.code === '401') return null
  const parsed = authenticationSchema.safeParse(body)
  if (!parsed.success) {
    throw new UpstreamError(
      'The upstream Kylin answered the authentication check without a user name; ' +
        'is the upstream URL pointing at Kylin?',
      { upstreamStatus: status, cause: parsed.error },
    )
  }
  const authorities = parsed.data.authorities ?? []
  return {
    username: parsed.data.username,
    authorities,
    isAdmin: authorities.includes('ROLE_ADMIN'),
  }
}

function toHeaders(credentials: Credentials, extra: Record<string, string>): Headers {
  const headers = new Headers(extra)
  headers.set('Accept', 'application/json')
  // Kylin 5 binds `@RequestHeader("User-Agent")` and refuses a query without one.
  headers.set('User-Agent', USER_AGENT)
  if (credentials.authorization) headers.set('Authorization', credentials.authorization)
  if (credentials.cookie) headers.set('Cookie', credentials.cookie)
  return headers
}

/**
 * Reads at most `maxBytes` of a body as UTF-8 and cancels the rest, so a huge error page or a
 * never-ending body cannot hold memory or the connection.
 */
export async function readLimitedText(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return ''
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  let text = ''
  let remaining = maxBytes
  try {
    while (remaining > 0) {
      const { done, value } = await reader.read()
      if (done) return text + decoder.decode()
      const chunk = value.byteLength > remaining ? value.subarray(0, remaining) : value
      remaining -= chunk.byteLength
      text += decoder.decode(chunk, { stream: true })
    }
    await reader.cancel().catch(() => {})
    return text + decoder.decode()
  } finally {
    reader.releaseLock()
  }
}

/**
 * Re-emits the body so a failure mid-stream (timeout, cancel, reset) surfaces as the same
 * UpstreamError a failure before the headers would, not as a bare `terminated`/AbortError.
 */
function mapStreamErrors(
  body: ReadableStream<Uint8Array>,
  failure: (error: unknown) => UpstreamError,
): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read()
          if (done) controller.close()
          else controller.enqueue(value)
        } catch (error) {
          controller.error(failure(error))
        }
      },
      cancel(reason) {
        return reader.cancel(reason)
      },
    },
    { highWaterMark: 0 },
  )
}

function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.close()
    },
  })
}

/** A short plain-text view of an error page: markup, scripts and runs of whitespace gone. */
function toExcerpt(text: string): string {
  let plain = text
  if (/<[a-z!/][^>]*>/i.test(plain)) {
    const withoutHead = plain.replace(/<head[\s>][\s\S]*?<\/head>/gi, ' ')
    plain = (stripTags(withoutHead).trim() ? withoutHead : plain).replace(
      /<(script|style)[\s>][\s\S]*?<\/\1>/gi,
      ' ',
    )
    plain = decodeEntities(stripTags(plain))
  }
  plain = plain.replace(/\s+/g, ' ').trim()
  // From the first Java stack frame on it is noise, and internals do not belong in a status.
  plain = stripStackFrames(plain).trim()
  return plain.length > MAX_EXCERPT_CHARS ? `${plain.slice(0, MAX_EXCERPT_CHARS - 1)}…` : plain
}

function stripTags(html: string): string {
  return html.replace(/<!--[\s\S]*?-->/g, ' ').replace(/<[^>]*>/g, ' ')
}

function decodeEntities(text: string): string {
  const named: Record<string, string> = {
    amp: '&',
    lt: '<',
    gt: '>',
    quot: '"',
    apos: "'",
    nbsp: ' ',
    ndash: '–',
    mdash: '—',
  }
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, name: string) => {
    if (name[0] === '#') {
      const code =
        name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : Number(name.slice(1))
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff
        ? String.fromCodePoint(code)
        : entity
    }
    return named[name.toLowerCase()] ?? entity
  })
}

/** Shown in messages: never a user:password that someone put into the URL, never a query. */
function toDisplayUrl(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.origin}${parsed.pathname === '/' ? '' : parsed.pathname}`
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//').replace(/[?#].*$/, '')
  }
}
