/**
 * The live events of one query (`GET /{id}/events`): a `text/event-stream` of `status` events, one
 * at each change of the record but at most one a second while it runs, the last when it ends,
 * then the end of the stream; `: ping` comments keep idle proxies from closing it. Portable.
 */
import { versionOf, type QueryRecord } from '../domain/query.ts'
import { translate, type Language } from '../i18n.ts'
import type { QueryWatch } from '../queries/query-watch.ts'

/** Least time between two RUNNING events, keep-alive interval, and the reconnect delay asked. */
const EVENT_INTERVAL_MS = 1000
const PING_INTERVAL_MS = 15_000
const RETRY_MS = 3000
/** Messages a client may leave unread before its stream is ended: the queue stays bounded. */
const MAX_UNREAD = 256

export const EVENT_STREAM_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache',
  // nginx and others buffer responses unless told not to.
  'X-Accel-Buffering': 'no',
}

export interface StatusEventsOptions {
  watch: QueryWatch
  /** The record as the caller may see it (ownership already checked). */
  record: QueryRecord
  /** The id of the last event the client has (`Last-Event-ID`), if any. */
  lastEventId: number | undefined
  lang: Language
  /** The longest the stream stays open; a client reconnects with Last-Event-ID to go on. */
  maxOpenMs: number
  /** The client's request: the stream ends when it goes away. */
  signal?: AbortSignal
  /** Called once, as soon as the stream ends for any reason (the client gone included). */
  onEnd: () => void
  pingMs?: number
}

/** `Last-Event-ID` as this stream writes ids (a record version), or `undefined`. */
export function toLastEventId(header: string | undefined): number | undefined {
  return header && /^\d{1,15}$/.test(header.trim()) ? Number(header.trim()) : undefined
}

/** The data of a `status` event: progress while RUNNING; the outcome on the final one. */
export function toEventData(record: QueryRecord, lang: Language): Record<string, unknown> {
  const data: Record<string, unknown> = {
    status: record.state,
    rows: record.rows,
    bytes: record.bytes,
  }
  if (record.state === 'SUCCESSFUL') {
    data.info = translate('QUERY_SUCCESSFUL', lang)
    if (record.sha256) data.sha256 = record.sha256
  } else if (record.state === 'FAILED') {
    data.info = record.error ?? ''
  }
  return data
}

export function createStatusEventStream(options: StatusEventsOptions): ReadableStream<Uint8Array> {
  const { watch, lang } = options
  const pingMs = options.pingMs ?? PING_INTERVAL_MS
  const encoder = new TextEncoder()
  const stop = new AbortController()
  let ended = false
  let cancelled = false
  // Called at once however the stream ends: where a departed client's request is torn down
  // (workerd), the awaits of `run` never settle, so nothing may wait for them to let go.
  const end = () => {
    if (ended) return
    ended = true
    clearTimeout(bound)
    options.signal?.removeEventListener('abort', end)
    stop.abort()
    options.onEnd()
  }
  const bound = setTimeout(end, options.maxOpenMs)
  options.signal?.addEventListener('abort', end)

  return new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        if (stop.signal.aborted) return
        if ((controller.desiredSize ?? 0) < -MAX_UNREAD) return stop.abort()
        controller.enqueue(encoder.encode(text))
      }
      const sendEvent = (id: number, data: Record<string, unknown>) =>
        send(`id: ${id}\nevent: status\ndata: ${JSON.stringify(data)}\n\n`)
      void run(send, sendEvent)
        .catch(() => {})
        .finally(() => {
          end()
          // A stream the client cancelled is closed already.
          if (cancelled) return
          try {
            controller.close()
          } catch {
            // errored meanwhile: nothing more to end
          }
        })
    },
    cancel() {
      cancelled = true
      end()
    },
  })

  async function run(
    send: (text: string) => void,
    sendEvent: (id: number, data: Record<string, unknown>) => void,
  ) {
    send(`retry: ${RETRY_MS}\n\n`)
    let record: QueryRecord | null = options.record
    let sentVersion = options.lastEventId ?? -1
    let sentAt = -Infinity
    while (!stop.signal.aborted) {
      if (!record) {
        // Deleted while followed: a last event says so.
        sendEvent(sentVersion + 1, { status: 'MISSING', info: translate('QUERY_MISSING', lang) })
        return
      }
      const version = versionOf(record)
      if (record.state !== 'RUNNING') {
        // A finished record never changes, so its event's id is fixed: a client that has the end
        // holds exactly that id; any other (an id from before a restart too) has not seen it.
        if (version !== sentVersion) sendEvent(version, toEventData(record, lang))
        return
      }
      if (version > sentVersion) {
        const early = sentAt + EVENT_INTERVAL_MS - performance.now()
        if (early > 0 && watch.canWait) {
          // Progress waits for its second; the end does not.
          record = await watch.next(record, early, stop.signal)
          continue
        }
        sendEvent(version, toEventData(record, lang))
        sentVersion = version
        sentAt = performance.now()
      }
      if (!watch.canWait) return
      const next: QueryRecord | null = await watch.next(record, pingMs, stop.signal)
      if (next && versionOf(next) === version) send(': ping\n\n')
      record = next
    }
  }
}
