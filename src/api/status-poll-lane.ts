/**
 * Status polls answered before the router: a GET of /{id}/status (or ?project=) by a caller whose
 * identity is cached, of a record the registry holds in this process. Portable. Anything else (and
 * any refusal) is left to the router, which answers the same request the same way, only slower.
 * The answer is made once (`createPollAnswerer`) and written as a web Response here, or straight
 * to Node's response by runtime/node/poll-listener.ts.
 */
import { toCredentials, type IdentityResolver } from '../identity/identity-resolver.ts'
import { toLanguage } from '../i18n.ts'
import { NO_METRICS, type GatewayMetrics } from '../ops/metrics.ts'
import type { QueryService } from '../queries/query-service.ts'
import { ASYNC_QUERY_PATH } from './async-query-routes.ts'
import { toDialect } from './dialect.ts'
import { toRequestId } from './request-id.ts'
import { STATUS_DENIAL, toStatusBody, type StatusBody } from './status-answer.ts'

/**
 * Sticky: matched from the path's first slash in the URL, through to its end. The one query
 * string taken is Kylin 5's `?project=`, with a value that needs no decoding.
 */
const POLL_PATH = new RegExp(
  `${ASYNC_QUERY_PATH}/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/status` +
    `(?:\\?project=([\\w.-]*))?$`,
  'y',
)
const UNCOUNTED = { countLookup: false }

export interface StatusPollLaneOptions {
  identities: IdentityResolver
  queries: QueryService
  /**
   * With several upstreams: the identities of the upstream the query's record names, where the
   * record is held in this process; `undefined` leaves the poll to the router.
   */
  identitiesOf?: (id: string) => IdentityResolver | undefined
  metrics?: GatewayMetrics
}

/** A request's headers by lower-case name, as its web `Headers#get` gives them. */
export interface HeaderReader {
  get(lowerName: string): string | null
}

/** What a poll answered here is: always 200, with these headers and body. */
export interface PollAnswer {
  contentType: string
  requestId: string
  body: StatusBody
}

/**
 * The answer to a poll it can give at once, else `undefined` (the router serves it). `url` is the
 * request target, its path starting at `pathAt` (0 for a Node request's origin-form target).
 */
export type PollAnswerer = (
  method: string,
  url: string,
  pathAt: number,
  headers: HeaderReader,
) => PollAnswer | undefined

/** The answer to a poll it can give at once, else `undefined` (the router serves it). */
export type StatusPollLane = (request: Request) => Response | undefined

export function createPollAnswerer({
  identities: defaultIdentities,
  queries,
  identitiesOf,
  metrics = NO_METRICS,
}: StatusPollLaneOptions): PollAnswerer {
  return (method, url, pathAt, headers) => {
    if (method !== 'GET') return undefined
    POLL_PATH.lastIndex = pathAt
    const match = POLL_PATH.exec(url)
    if (!match) return undefined
    const id = match[1]!
    // An empty `project=` filters nothing, as on the router.
    const project = match[2] || undefined
    // `Prefer: wait=…` asks the router to wait for the end; `?wait=` never matches POLL_PATH.
    if (headers.get('prefer') !== null) return undefined
    const identities = identitiesOf ? identitiesOf(id) : defaultIdentities
    if (!identities) return undefined
    // Uncounted until answered here: the router would peek, and count, again.
    const identity = identities.peek(toCredentials(headers), UNCOUNTED)
    if (!identity) return undefined
    let record
    try {
      record = queries.findNow(identity, id, STATUS_DENIAL, project)
    } catch {
      // Not the caller's query: the router's error hook words the refusal.
      return undefined
    }
    if (record === undefined) return undefined
    identities.countLookup()
    metrics.countStatusCall('poll')
    const dialect = toDialect(headers.get('accept'))
    return {
      contentType: dialect.contentType,
      requestId: toRequestId(headers.get('x-request-id')),
      body: toStatusBody(id, record, dialect, toLanguage(headers.get('accept-language'))),
    }
  }
}

/** The headers the router's answer carries, in the order and case it writes them. */
export function toPollHeaders(answer: PollAnswer): Record<string, string> {
  return {
    'content-type': answer.contentType,
    'x-request-id': answer.requestId,
    'Content-Length': String(answer.body.bytes),
  }
}

/** The lane of a runtime that serves web Requests: the poll's answer as a Response. */
export function toStatusPollLane(answer: PollAnswerer): StatusPollLane {
  return (request) => {
    const url = request.url
    // The path starts at the slash after "scheme://host"; a query string or an escape fails.
    const pathAt = url.indexOf('/', url.indexOf('//') + 2)
    const answered = answer(request.method, url, pathAt, request.headers)
    if (!answered) return undefined
    return new Response(answered.body.text, { status: 200, headers: toPollHeaders(answered) })
  }
}
