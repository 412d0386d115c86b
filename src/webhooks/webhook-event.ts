/**
 * The JSON a webhook carries when a query ends: its id, status, info (or error), rows, bytes,
 * sha256, project and finished time. Never result rows or credentials; a failure's message is the
 * status's, which may quote the SQL as Kylin's own messages do. Portable.
 */
import type { QueryRecord } from '../domain/query.ts'
import { translate } from '../i18n.ts'

export const WEBHOOK_EVENT_TYPE = 'async_query.finished'

export interface WebhookEvent {
  type: typeof WEBHOOK_EVENT_TYPE
  /** When the event was made, ISO 8601. */
  timestamp: string
  data: {
    query_id: string
    status: 'SUCCESSFUL' | 'FAILED'
    /** The status's info: "await fetching results", or the failure message. */
    info: string
    /** FAILED only: the failure message. */
    error?: string
    project: string
    rows: number
    bytes: number
    sha256?: string
    finished_at: string
  }
}

/** The `webhook-id` of a query's event: one event per query, so the same on every retry. */
export const toWebhookId = (queryId: string) => `msg_${queryId}`

/** The event of a finished record (SUCCESSFUL or FAILED). */
export function toWebhookEvent(record: QueryRecord, now: number): WebhookEvent {
  const succeeded = record.state === 'SUCCESSFUL'
  const error = record.error ?? 'The query failed.'
  return {
    type: WEBHOOK_EVENT_TYPE,
    timestamp: new Date(now).toISOString(),
    data: {
      query_id: record.id,
      status: succeeded ? 'SUCCESSFUL' : 'FAILED',
      info: succeeded ? translate('QUERY_SUCCESSFUL', 'en') : error,
      ...(succeeded ? {} : { error }),
      project: record.project,
      rows: succeeded ? record.rows : 0,
      bytes: succeeded ? record.bytes : 0,
      ...(succeeded && record.sha256 ? { sha256: record.sha256 } : {}),
      finished_at: new Date(record.finishedAt ?? now).toISOString(),
    },
  }
}
