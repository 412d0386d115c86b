/**
 * Status polls answered before the router: a GET of /{id}/status (or ?project=) by a caller whose
 * identity is cached, of a record the registry holds in this process. Portable. Anything else (and
 * any refusal) is left to the router, which answers the same request the same way, only slower.
 */
import { toCredentials, type IdentityResolver } from '../identity/identity-resolver.ts'
import { toLanguage } from '../i18n.ts'
import { NO_METRICS, type GatewayMetrics } from '../ops/metrics.ts'
import type { QueryService } from '../queries/query-service.ts'
import { ASYNC_QUERY_PATH } from './async-query-routes.ts'
import { toDialect } from './dialect.ts'
import { toRequestId } from './request-id.ts'
import { STATUS_DENIAL, toStatusBody } from './status-answer.ts'

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

/** The answer to a poll it can give at once, else `undefined` (the router serves it). */
export type StatusPollLane = (request: Request) => Response | undefined

export function createStatusPollLane({
  identities: defaultIdentities,
  queries,
  identitiesOf,
  metrics = NO_METRICS,
}: StatusPollLaneOptions): StatusPollLane {
  return (request) => {
    if (request.method !== 'GET') return undefined
    const url = request.url
    // The path starts at the slash after "scheme://host"; a query string or an escape fails.
    POLL_PATH.lastIndex = url.indexOf('/', url.indexOf('//') + 2)
    const match = POLL_PATH.exec(url)
    if (!match) return undefined
    const id = match[1]!
    // An empty `project=` filters nothing, as on the router.
    const project = match[2] || undefined
    const headers = request.headers
    // `Prefer: wait=…` asks the router to wait for the end; `?wait=` never matches POLL_PATH.
    if (headers.has('prefer')) return undefined
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
    const body = toStatusBody(id, record, dialect, toLanguage(headers.get('accept-language')))
    // The headers the router's answer carries, in the order and case it writes them.
    return new Response(body.text, {
      status: 200,
      headers: {
        'content-type': dialect.contentType,
        'x-request-id': toRequestId(headers.get('x-request-id')),
        'Content-Length': String(body.bytes),
      },
    })
  }
}
