/**
 * A non-2xx upstream answer → the UpstreamError a person reads: Kylin's own message when its
 * envelope has one, else the status line and an excerpt of the page. Portable.
 */
import { UpstreamError } from '../errors.ts'
import { toDisplayUrl, type Call } from './call-failure.ts'
import { toExcerpt } from './error-excerpt.ts'
import { stripStackFrames, toCappedMessage, toOneLine } from './kylin-error.ts'
import { MAX_READ_BYTES, readLimitedText } from './response-body.ts'

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

export async function toStatusError(
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
    // Kylin's own words (a SQL error above all) reach the user as Kylin wrote them, less the
    // Java stack frames some versions append.
    return new UpstreamError(
      toCappedMessage(toOneLine(stripStackFrames(kylinMessage)).trim()),
      options,
    )
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

/**
 * Kylin's error envelope `{code, data, msg, stacktrace, exception, url}`: its `msg`. An envelope
 * past the read limit (a long SQL is quoted in `msg` and again in `exception`, then a stack
 * trace) is cut mid-JSON: its `msg` is then read from the text as far as it goes.
 */
function readEnvelopeMessage(text: string): string | undefined {
  if (!text.trimStart().startsWith('{')) return undefined
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return readStringMember(text, 'msg') || readStringMember(text, 'exception') || undefined
  }
  if (typeof body !== 'object' || body === null) return undefined
  const { msg, exception } = body as { msg?: unknown; exception?: unknown }
  if (typeof msg === 'string' && msg.trim()) return msg
  if (typeof exception === 'string' && exception.trim()) return exception
  return undefined
}

/**
 * The value of the first `"name": "…"` member of a JSON text that may be cut anywhere: the string
 * as far as it goes, escapes decoded; `undefined` when there is no such member.
 */
function readStringMember(text: string, name: string): string | undefined {
  const start = new RegExp(`"${name}"\\s*:\\s*"`).exec(text)
  if (!start) return undefined
  // A JSON string body: runs of plain characters and whole escapes, up to the closing quote.
  const body = /^(?:[^"\\]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*/.exec(
    text.slice(start.index + start[0].length),
  )![0]
  try {
    return JSON.parse(`"${body}"`) as string
  } catch {
    return undefined
  }
}
