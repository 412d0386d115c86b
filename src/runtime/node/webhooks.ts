/**
 * Node wiring of webhooks: the dispatcher over its pending list (files under DATA_DIR, Redis with
 * several instances, memory with STORE=memory), the checked fetch, and a timer that attempts
 * what is due. Node only.
 */
import type { Config } from '../../config/config.ts'
import type { WebhookSettings } from '../../config/webhook-settings.ts'
import type { Logger } from '../../logger.ts'
import { createWebhookDispatcher, type WebhookDispatcher } from '../../webhooks/dispatcher.ts'
import { createMemoryDeliveries } from '../../webhooks/memory-deliveries.ts'
import type { PendingDeliveries } from '../../webhooks/types.ts'
import { createWebhookFetch, type ResolveName } from './webhook-fetch.ts'
import { openWebhookFiles } from './webhook-files.ts'

export interface NodeWebhooks {
  dispatcher: WebhookDispatcher
  /** Stops the timer and closes the sockets; what is pending stays for the next start. */
  close(): Promise<void>
}

export interface NodeWebhookOptions {
  logger: Logger
  now: () => number
  /** The shared list of several instances (Redis); otherwise files under DATA_DIR. */
  pending?: PendingDeliveries
  /** Tests: a resolver standing in for DNS. */
  resolve?: ResolveName
}

/** How often due deliveries are looked for: half the first retry delay, 20 ms to 1 s. */
export const toPollMs = (settings: WebhookSettings) =>
  Math.min(1000, Math.max(20, Math.floor(settings.firstRetryMs / 2)))

/** How long shutdown waits for attempts in flight; they are tried again after a restart. */
const CLOSE_WAIT_MS = 2_000

export async function startNodeWebhooks(
  config: Config,
  settings: WebhookSettings,
  options: NodeWebhookOptions,
): Promise<NodeWebhooks> {
  const pending =
    options.pending ??
    (config.store === 'memory'
      ? createMemoryDeliveries(settings.maxPending)
      : await openWebhookFiles(config.dataDir, settings.maxPending))
  const sender = createWebhookFetch({
    allowedHosts: settings.allowedHosts,
    connectTimeoutMs: settings.timeoutMs,
    resolve: options.resolve,
  })
  let closed = false
  const run = () => {
    if (closed) return
    dispatcher
      .runDue()
      .catch((err: unknown) => options.logger.warn({ err }, 'webhook round failed'))
  }
  const dispatcher = createWebhookDispatcher({
    settings,
    pending,
    fetch: sender.fetch,
    now: options.now,
    logger: options.logger,
    onQueued: () => setImmediate(run),
  })
  const timer = setInterval(run, toPollMs(settings))
  timer.unref()
  // Deliveries an earlier process left are due now or later: the first round looks at once.
  setImmediate(run)
  return {
    dispatcher,
    async close() {
      closed = true
      clearInterval(timer)
      await Promise.race([
        dispatcher.settled(),
        new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref()),
      ])
      await sender.close()
    },
  }
}
