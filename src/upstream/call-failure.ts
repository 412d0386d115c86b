/**
 * One upstream call's deadline and the words for its failure: timeout, cancel, network error.
 * Portable: AbortSignal.timeout / AbortSignal.any, no Node built-ins.
 */
import { UpstreamError } from '../errors.ts'

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

export interface Call {
  signal: AbortSignal | undefined
  caller: AbortSignal | undefined
  timeout: AbortSignal | undefined
  timeoutMs: number | undefined
}

export function startCall(caller: AbortSignal | undefined, timeoutMs: number | undefined): Call {
  const timeout = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs)
  const signals = [caller, timeout].filter((s): s is AbortSignal => s !== undefined)
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0]
  return { signal, caller, timeout, timeoutMs }
}

/** Any failure of a call (before or after the headers) → the UpstreamError a person reads. */
export function toCallError(
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

/** Shown in messages: never a user:password that someone put into the URL, never a query. */
export function toDisplayUrl(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.origin}${parsed.pathname === '/' ? '' : parsed.pathname}`
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//').replace(/[?#].*$/, '')
  }
}
