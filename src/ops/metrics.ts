/**
 * GatewayMetrics: the operational counts the core reports (queries, upstream calls, exports,
 * downloads, identity cache, status calls). Portable; the default does nothing, Node plugs in prom-client.
 */
import { UpstreamError } from '../errors.ts'

export type UpstreamCall = 'query' | 'authentication'

/** timeout; network (no answer); status (a non-2xx answer); invalid_answer (a 2xx we cannot use). */
export type UpstreamErrorKind = 'timeout' | 'network' | 'status' | 'invalid_answer'

/** poll: a plain status call; wait: one with `?wait=` / `Prefer: wait`; events: an event stream. */
export type StatusCallKind = 'poll' | 'wait' | 'events'

export interface GatewayMetrics {
  /** `upstream`: the name of the upstream that ran it (see `observeUpstreamCall`). */
  countFinishedQuery(state: 'SUCCESSFUL' | 'FAILED', upstream?: string): void
  /**
   * Time from sending an upstream call to its answer's headers (or its failure). `upstream` is
   * the upstream's name (KYLIN_UPSTREAMS: its host), one of a bounded set; absent: the only one.
   */
  observeUpstreamCall(call: UpstreamCall, seconds: number, upstream?: string): void
  countUpstreamError(call: UpstreamCall, kind: UpstreamErrorKind, upstream?: string): void
  /** A result kept in the store. */
  countExport(rows: number, bytes: number): void
  /** Bytes of result downloads sent to clients (after gzip, where it applies). */
  countDownloadBytes(bytes: number): void
  /** Every identity look-up; misses are the ones that asked the upstream. Hits = the rest. */
  countIdentityLookup(): void
  countIdentityMiss(): void
  /** A shadow run's verdict (shadow/shadow-runner.ts): same answer, another, or not run. */
  countShadowVerdict(outcome: ShadowOutcome): void
  /** A status call answered (the poll rate clients put on the gateway). */
  countStatusCall(kind: StatusCallKind): void
}

export type ShadowOutcome = 'match' | 'mismatch' | 'skipped'

const nothing = () => {}

/** The default: callers may check `metrics === NO_METRICS` to skip work done only for metrics. */
export const NO_METRICS: GatewayMetrics = Object.freeze({
  countFinishedQuery: nothing,
  observeUpstreamCall: nothing,
  countUpstreamError: nothing,
  countExport: nothing,
  countDownloadBytes: nothing,
  countIdentityLookup: nothing,
  countIdentityMiss: nothing,
  countShadowVerdict: nothing,
  countStatusCall: nothing,
})

const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
])

/** Which kind of upstream failure `error` is; `null` when it is not the upstream's. */
export function toUpstreamErrorKind(error: unknown): UpstreamErrorKind | null {
  if (!(error instanceof UpstreamError)) return null
  if (error.upstreamStatus !== undefined) return 'status'
  // The client wraps what fetch threw; a timeout shows as TimeoutError or a timeout code.
  let current: unknown = error.cause
  if (current === undefined) return 'invalid_answer'
  for (let depth = 0; depth < 5 && current instanceof Object; depth++) {
    const { name, code } = current as { name?: unknown; code?: unknown }
    if (name === 'TimeoutError' || (typeof code === 'string' && TIMEOUT_CODES.has(code))) {
      return 'timeout'
    }
    current = (current as { cause?: unknown }).cause
  }
  return 'network'
}

/** Counts the bytes that pass through; the stream itself is unchanged. */
export function countBytes(
  body: ReadableStream<Uint8Array>,
  count: (bytes: number) => void,
): ReadableStream<Uint8Array> {
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        count(chunk.byteLength)
        controller.enqueue(chunk)
      },
    }),
  )
}
