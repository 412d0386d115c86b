/**
 * Settings: signed webhooks sent when a query ends (secret, allowed hosts, retries, bounds).
 * Portable: part of the table that drives the schema, the CLI flags and `--help`.
 */
import { z } from 'zod'
import { integer, toMilliseconds, type SettingValues } from './values.ts'

const duration = (min: number) =>
  z
    .string()
    .regex(/^\d+(ms|s|m|h|d)?$/, 'must be a duration like 24h, 30m, 5s or 500ms')
    .transform(toMilliseconds)
    .pipe(z.number().int().min(min))

/** `whsec_` and the base64 of a key of 24 to 64 bytes, as the Standard Webhooks spec gives it. */
const WEBHOOK_SECRET_PATTERN = /^whsec_([A-Za-z0-9+/]{32,88}={0,2})$/

/** One allowed host: a name, an IPv4 address or a bracketed IPv6 address, with an optional port. */
const ALLOWED_HOST_PATTERN = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/

function isBase64Key(secret: string): boolean {
  try {
    const length = atob(secret.slice('whsec_'.length)).length
    return length >= 24 && length <= 64
  } catch {
    return false
  }
}

export const WEBHOOK_SETTINGS = {
  WEBHOOK_SECRET: {
    flag: 'webhook-secret',
    schema: z.union([
      z.literal(''),
      z
        .string()
        .regex(WEBHOOK_SECRET_PATTERN, 'must be whsec_ followed by the base64 of 24 to 64 bytes')
        .refine(isBase64Key, 'must be whsec_ followed by the base64 of 24 to 64 bytes'),
    ]),
    default: '',
    help: 'Signs the webhooks sent when a query ends (callback_url), in the Standard Webhooks form whsec_<base64>; without it (or without WEBHOOK_ALLOWED_HOSTS) callback_url is refused; prefer the variable, flags show in ps',
  },
  WEBHOOK_ALLOWED_HOSTS: {
    flag: 'webhook-allowed-hosts',
    schema: z
      .string()
      .transform((text) =>
        text
          .split(',')
          .map((entry) => entry.trim())
          .filter((entry) => entry !== ''),
      )
      .pipe(
        z
          .array(z.string().regex(ALLOWED_HOST_PATTERN, 'each entry must be a host or host:port'))
          .max(1000),
      ),
    default: '',
    help: 'Comma-separated hosts (host or host:port) a callback_url may name; nothing else is ever called, and a private, loopback or link-local address only when listed as that address itself',
  },
  WEBHOOK_RETRY_FOR: {
    flag: 'webhook-retry-for',
    schema: duration(1000),
    default: '24h',
    help: 'How long a webhook that is not answered with a 2xx is retried (backoff with jitter) before it is dropped',
  },
  WEBHOOK_FIRST_RETRY: {
    flag: 'webhook-first-retry',
    schema: duration(10),
    default: '5s',
    help: 'The first retry delay of a webhook; later ones grow (×6, ×24, ×120, … up to ×2880) with jitter',
  },
  WEBHOOK_TIMEOUT: {
    flag: 'webhook-timeout',
    schema: duration(100),
    default: '10s',
    help: 'How long one webhook attempt waits for an answer; no 2xx within it is a failed attempt',
  },
  WEBHOOK_MAX_PENDING: {
    flag: 'webhook-max-pending',
    schema: integer(1, 1_000_000),
    default: '10000',
    help: 'Webhooks waiting for delivery at most; past it a new one is dropped with a log line',
  },
} as const

export interface WebhookSettings {
  /** `whsec_<base64>`: never log it. */
  secret: string
  /** Entries as given (`host` or `host:port`); `callback-url.ts` reads them. */
  allowedHosts: string[]
  retryForMs: number
  firstRetryMs: number
  timeoutMs: number
  maxPending: number
}

export function toWebhookSettings(
  values: SettingValues<typeof WEBHOOK_SETTINGS>,
): WebhookSettings | undefined {
  if (values.WEBHOOK_SECRET === '' || values.WEBHOOK_ALLOWED_HOSTS.length === 0) return undefined
  return {
    secret: values.WEBHOOK_SECRET,
    allowedHosts: values.WEBHOOK_ALLOWED_HOSTS,
    retryForMs: values.WEBHOOK_RETRY_FOR,
    firstRetryMs: values.WEBHOOK_FIRST_RETRY,
    timeoutMs: values.WEBHOOK_TIMEOUT,
    maxPending: values.WEBHOOK_MAX_PENDING,
  }
}
