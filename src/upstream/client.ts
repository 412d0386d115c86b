/**
 * The upstream Kylin client: the sync `POST /kylin/api/query` call and the identity check.
 * Portable: Web APIs only (fetch, streams, AbortSignal); the runtime passes in its `fetch`.
 */
import type { UpstreamQuery } from '../domain/query.ts'
import type { Credentials, UserIdentity } from '../domain/caller.ts'
import { startCall, toCallError, toDisplayUrl } from './call-failure.ts'
import { parseIdentity } from './identity-answer.ts'
import { MAX_READ_BYTES, emptyStream, mapStreamErrors, readLimitedText } from './response-body.ts'
import { toStatusError } from './status-error.ts'
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

const USER_AGENT = 'kylin-async-gateway'

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

function toHeaders(credentials: Credentials, extra: Record<string, string>): Headers {
  const headers = new Headers(extra)
  headers.set('Accept', 'application/json')
  // Kylin 5 binds `@RequestHeader("User-Agent")` and refuses a query without one.
  headers.set('User-Agent', USER_AGENT)
  if (credentials.authorization) headers.set('Authorization', credentials.authorization)
  if (credentials.cookie) headers.set('Cookie', credentials.cookie)
  return headers
}
