/**
 * The loopback webhook receivers of a conformance run, one pair per test file: started before the
 * target (whose WEBHOOK_ALLOWED_HOSTS names the first), read by `webhooks-cases.ts`. The second is
 * not listed: a redirect there must never reach it.
 */
import { randomBytes } from 'node:crypto'
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts'

export interface ConformanceReceivers {
  listed: WebhookReceiver
  unlisted: WebhookReceiver
  /** The gateway's WEBHOOK_SECRET. */
  secret: string
  /** The WEBHOOK_* settings a target starts with. */
  settings: Record<string, string>
}

let started: Promise<ConformanceReceivers> | undefined

/** The receivers of this test file, started on first use; `stop` closes them. */
export function startConformanceReceivers(): Promise<ConformanceReceivers> {
  started ??= (async () => {
    const [listed, unlisted] = await Promise.all([startWebhookReceiver(), startWebhookReceiver()])
    const secret = `whsec_${randomBytes(32).toString('base64')}`
    return {
      listed,
      unlisted,
      secret,
      settings: {
        WEBHOOK_SECRET: secret,
        WEBHOOK_ALLOWED_HOSTS: listed.host,
        // Short, so retries happen within a case: 100 ms, 600 ms, 2.4 s, … for 4 s.
        WEBHOOK_FIRST_RETRY: '100ms',
        WEBHOOK_RETRY_FOR: '4s',
        WEBHOOK_TIMEOUT: '2s',
      },
    }
  })()
  return started
}

export async function stopConformanceReceivers(): Promise<void> {
  if (!started) return
  const { listed, unlisted } = await started
  started = undefined
  await Promise.all([listed.close(), unlisted.close()])
}
