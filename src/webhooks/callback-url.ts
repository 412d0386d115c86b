/**
 * Where a webhook may go: an http(s) URL without userinfo whose host (and port) WEBHOOK_ALLOWED_HOSTS
 * lists, never a private, loopback or other special address unless the list names that address.
 * Portable. Hosts are compared as WHATWG URL parsing writes them, so `2130706433`, `0x7f.1`,
 * `017700000001` and `127.1` all are `127.0.0.1`, and `[::ffff:127.0.0.1]` is `[::ffff:7f00:1]`.
 */
import type { WebhookSettings } from '../config/webhook-settings.ts'
import { BadRequestError } from '../errors.ts'
import type { MessageId } from '../i18n.ts'
import { classifyAddress, isIpAddress, type AddressKind } from './ip-address.ts'

/** Longest callback_url taken: it is kept with the record and sent nowhere but its host. */
export const MAX_CALLBACK_URL_LENGTH = 2048

interface AllowedHost {
  /** As WHATWG URL writes a hostname: lower case, IPv4 dotted, IPv6 compressed in brackets. */
  hostname: string
  /** `null`: any port. */
  port: string | null
}

/** Why a callback URL is refused: a catalogue message and its arguments. */
export interface CallbackRefusal {
  message: MessageId
  args: string[]
}

/** Names that are loopback whatever DNS says (RFC 6761). */
const isLoopbackName = (hostname: string) =>
  hostname === 'localhost' ||
  hostname.endsWith('.localhost') ||
  hostname === 'localhost.' ||
  hostname.endsWith('.localhost.')

const defaultPort = (url: URL) => url.port || (url.protocol === 'https:' ? '443' : '80')

/** The list's entries as URL parsing writes hosts; an entry it cannot read names nothing. */
export function toAllowedHosts(entries: readonly string[]): AllowedHost[] {
  const hosts: AllowedHost[] = []
  for (const entry of entries) {
    try {
      const url = new URL(`http://${entry}`)
      const explicitPort = /:(\d+)$/.test(entry.replace(/^\[[^\]]*\]/, ''))
      hosts.push({ hostname: url.hostname, port: explicitPort ? defaultPort(url) : null })
    } catch {
      // The settings schema already refused what is not a host or host:port.
    }
  }
  return hosts
}

/** The parsed list of each settings object, read once (a submit or an attempt reads it again). */
const parsedLists = new WeakMap<WebhookSettings, AllowedHost[]>()

function allowedHostsOf(settings: WebhookSettings): AllowedHost[] {
  let allowed = parsedLists.get(settings)
  if (!allowed) {
    allowed = toAllowedHosts(settings.allowedHosts)
    parsedLists.set(settings, allowed)
  }
  return allowed
}

/** An IP address as URL parsing writes it in a hostname (IPv6 compressed, in brackets). */
export function toHostnameOf(address: string): string {
  try {
    return new URL(`http://${address.includes(':') ? `[${address}]` : address}`).hostname
  } catch {
    return address
  }
}

/** Whether WEBHOOK_ALLOWED_HOSTS names this IP address itself (on any port). */
export function isNamedAddress(address: string, allowed: readonly AllowedHost[]): boolean {
  const hostname = toHostnameOf(address)
  return allowed.some((host) => host.hostname === hostname)
}

/**
 * Why an address may not be called, or `null` when it may: a special address only when the list
 * names it. What DNS answers for a name is asked here too, address by address.
 */
export function judgeAddress(address: string, allowed: readonly AllowedHost[]): AddressKind | null {
  const kind = classifyAddress(address)
  return kind && !isNamedAddress(address, allowed) ? kind : null
}

/** The URL a webhook may be sent to, or why not. */
export function judgeCallbackUrl(
  raw: string,
  settings: WebhookSettings | undefined,
): { url: URL } | { refusal: CallbackRefusal } {
  const refuse = (message: MessageId, ...args: string[]) => ({ refusal: { message, args } })
  if (!settings) return refuse('WEBHOOKS_OFF')
  if (raw.length > MAX_CALLBACK_URL_LENGTH) return refuse('CALLBACK_URL_INVALID')
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return refuse('CALLBACK_URL_INVALID')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return refuse('CALLBACK_URL_SCHEME', url.protocol.slice(0, 20))
  }
  if (url.username !== '' || url.password !== '') return refuse('CALLBACK_URL_USERINFO')
  const allowed = allowedHostsOf(settings)
  const port = defaultPort(url)
  const listed = allowed.some(
    (host) => host.hostname === url.hostname && (host.port === null || host.port === port),
  )
  const shown = `${url.hostname}:${port}`
  if (!listed) return refuse('CALLBACK_URL_NOT_ALLOWED', shown)
  // Listed as a literal address: the operator named it. A loopback name never is an address.
  if (isLoopbackName(url.hostname)) return refuse('CALLBACK_URL_PRIVATE', shown, 'loopback')
  const literal = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  if (isIpAddress(literal)) {
    const kind = judgeAddress(literal, allowed)
    if (kind) return refuse('CALLBACK_URL_PRIVATE', shown, kind)
  }
  return { url }
}

/** `judgeCallbackUrl` for a submit: the URL, or a 400 that says what to change. */
export function toCallbackUrl(raw: string, settings: WebhookSettings | undefined): string {
  const judged = judgeCallbackUrl(raw, settings)
  if ('refusal' in judged) {
    throw new BadRequestError({ id: judged.refusal.message, args: judged.refusal.args })
  }
  return judged.url.href
}
