/**
 * Sends the webhooks of ended queries: queues each durably, attempts the due ones (signed, no
 * redirects followed, one timeout), retries with backoff and gives up after WEBHOOK_RETRY_FOR.
 * Portable: the runtime gives the durable list, the fetch (on Node one that checks every
 * resolved address) and when to call `runDue`.
 */
import type { WebhookSettings } from '../config/webhook-settings.ts'
import type { QueryRecord } from '../domain/query.ts'
import type { Logger } from '../logger.ts'
import { judgeCallbackUrl } from './callback-url.ts'
import { toNextAttemptAt } from './retry-schedule.ts'
import { importWebhookKey, signWebhook } from './signature.ts'
import { toWebhookEvent, toWebhookId } from './webhook-event.ts'
import {
  ADDRESS_REFUSED,
  type PendingDeliveries,
  type PendingDelivery,
  type WebhookNotifier,
} from './types.ts'

/** Deliveries attempted at once by one `runDue` round. */
const BATCH = 16
/** How long past the attempt's timeout a claimed delivery stays claimed. */
const CLAIM_MARGIN_MS = 30_000

export interface WebhookDispatcherOptions {
  settings: WebhookSettings
  pending: PendingDeliveries
  /** Called without following redirects; on Node, refuses names that resolve to special addresses. */
  fetch: typeof fetch
  now: () => number
  logger: Logger
  /** A delivery was queued, due at `dueAt`: the runtime makes sure `runDue` runs by then. */
  onQueued?: (dueAt: number) => void
  random?: () => number
}

export interface WebhookDispatcher extends WebhookNotifier {
  /** Attempts every delivery due now; resolves when they are done, with the next due time. */
  runDue(): Promise<number | null>
  /** Resolves when the round in progress (if any) is done; starts none. */
  settled(): Promise<void>
}

type Outcome = 'delivered' | 'retry' | 'refused'

export function createWebhookDispatcher(options: WebhookDispatcherOptions): WebhookDispatcher {
  const { settings, pending, logger } = options
  let key: Promise<CryptoKey> | undefined
  let running: Promise<number | null> | undefined

  async function attempt(delivery: PendingDelivery): Promise<Outcome> {
    // Judged again on every attempt: WEBHOOK_ALLOWED_HOSTS may have changed since the submit.
    const judged = judgeCallbackUrl(delivery.url, settings)
    if ('refusal' in judged) return 'refused'
    const timestamp = Math.floor(options.now() / 1000)
    key ??= importWebhookKey(settings.secret)
    const signature = await signWebhook(await key, delivery.id, timestamp, delivery.body)
    try {
      const answer = await options.fetch(judged.url.href, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'kylin-async-gateway-webhooks',
          'webhook-id': delivery.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signature,
        },
        body: delivery.body,
        // A 3xx is a failed attempt: a redirect could point anywhere, a private address too.
        redirect: 'manual',
        signal: AbortSignal.timeout(settings.timeoutMs),
      })
      // The receiver's body is never read: it could be any size.
      await answer.body?.cancel().catch(() => {})
      return answer.status >= 200 && answer.status < 300 ? 'delivered' : 'retry'
    } catch (error) {
      return hasCode(error, ADDRESS_REFUSED) ? 'refused' : 'retry'
    }
  }

  async function settle(delivery: PendingDelivery) {
    const outcome = await attempt(delivery)
    const attempts = delivery.attempts + 1
    // The host alone: a path or query string may hold the receiver's token.
    const fields = { queryId: delivery.queryId, webhookId: delivery.id, host: hostOf(delivery) }
    if (outcome === 'delivered') {
      await pending.remove(delivery.id)
      logger.info({ ...fields, attempts }, 'webhook delivered')
      return
    }
    const now = options.now()
    const next =
      outcome === 'refused'
        ? null
        : toNextAttemptAt(attempts, now, delivery.firstDueAt, settings, options.random)
    if (next === null) {
      await pending.remove(delivery.id)
      logger.warn(
        { ...fields, attempts },
        outcome === 'refused'
          ? 'webhook dropped: its host is not allowed or resolves to an address webhooks may not reach'
          : 'webhook dropped: no 2xx answer within WEBHOOK_RETRY_FOR',
      )
      return
    }
    await pending.reschedule({ ...delivery, attempts, dueAt: next })
    logger.debug({ ...fields, attempts }, 'webhook attempt failed; retrying later')
  }

  async function runRounds(): Promise<number | null> {
    for (;;) {
      const now = options.now()
      const claimed = await pending.claimDue(now, BATCH, now + settings.timeoutMs + CLAIM_MARGIN_MS)
      await Promise.all(
        claimed.map((delivery) =>
          settle(delivery).catch((err: unknown) =>
            logger.warn({ err, webhookId: delivery.id }, 'webhook attempt not recorded'),
          ),
        ),
      )
      if (claimed.length < BATCH) return pending.nextDueAt()
    }
  }

  return {
    async queryEnded(record: QueryRecord, callbackUrl: string) {
      try {
        const now = options.now()
        const delivery: PendingDelivery = {
          id: toWebhookId(record.id),
          queryId: record.id,
          url: callbackUrl,
          body: JSON.stringify(toWebhookEvent(record, now)),
          attempts: 0,
          firstDueAt: now,
          dueAt: now,
        }
        if (!(await pending.add(delivery))) {
          logger.warn(
            { queryId: record.id, host: hostOf(delivery), max: settings.maxPending },
            'webhook dropped: WEBHOOK_MAX_PENDING deliveries are already waiting',
          )
          return
        }
        options.onQueued?.(now)
      } catch (err) {
        logger.warn({ err, queryId: record.id }, 'webhook not queued')
      }
    },
    runDue() {
      // One round at a time per dispatcher; a call meanwhile waits for that one.
      running ??= runRounds().finally(() => (running = undefined))
      return running
    },
    async settled() {
      await running?.catch(() => null)
    },
  }
}

function hostOf(delivery: PendingDelivery): string {
  try {
    return new URL(delivery.url).host
  } catch {
    return '(invalid)'
  }
}

function hasCode(error: unknown, code: string): boolean {
  for (let e = error, depth = 0; e && depth < 5; depth++) {
    if ((e as { code?: unknown }).code === code) return true
    e = (e as { cause?: unknown }).cause
  }
  return false
}
