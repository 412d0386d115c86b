/**
 * What the webhook parts share: a pending delivery, the durable list each runtime keeps them in,
 * and the seam the runner calls when a query ends. Portable.
 */
import type { QueryRecord } from '../domain/query.ts'

/** A webhook waiting to be (re)sent, kept durably until it is delivered or given up. */
export interface PendingDelivery {
  /** `webhook-id`: `msg_<query id>`, the same on every attempt. */
  id: string
  queryId: string
  url: string
  /** The event's JSON, the same bytes on every attempt (signed anew with each timestamp). */
  body: string
  /** Attempts made so far. */
  attempts: number
  /** When the first attempt was due (ms since the epoch); retries end WEBHOOK_RETRY_FOR later. */
  firstDueAt: number
  /** When the next attempt is due. */
  dueAt: number
}

/**
 * The durable list of pending deliveries: files under DATA_DIR (Node), a Redis sorted set
 * (several instances), the query's Durable Object storage (Workers).
 */
export interface PendingDeliveries {
  /** Keeps a delivery; `false` (nothing kept) when the bound is reached. The same id twice: one. */
  add(delivery: PendingDelivery): Promise<boolean>
  /**
   * Takes up to `limit` deliveries due at `now`, atomically: no other caller gets them before
   * `leaseUntil` (if the taker dies mid-attempt, they come due again then).
   */
  claimDue(now: number, limit: number, leaseUntil: number): Promise<PendingDelivery[]>
  /** After a failed attempt: kept with its new `attempts` and `dueAt`. */
  reschedule(delivery: PendingDelivery): Promise<void>
  remove(id: string): Promise<void>
  /** The earliest `dueAt` of all, or `null` when none is pending. */
  nextDueAt(): Promise<number | null>
}

/** The seam in AppDeps the runner calls when a query has ended (SUCCESSFUL or FAILED). */
export interface WebhookNotifier {
  /** Queues the signed event of `record` (a finished one) for its callback URL; never throws. */
  queryEnded(record: QueryRecord, callbackUrl: string): Promise<void>
}

/**
 * The `code` of the error a runtime's webhook fetch fails with when a name resolves to an
 * address webhooks may not reach: the delivery is dropped, not retried.
 */
export const ADDRESS_REFUSED = 'WEBHOOK_ADDRESS_REFUSED'
