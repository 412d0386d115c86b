/**
 * The fetch webhooks are sent with: its own undici pool whose DNS look-up checks every address a
 * name resolves to and connects only to an address it checked, so neither a look-alike name
 * (`127.0.0.1.nip.io`) nor DNS rebinding reaches a special address WEBHOOK_ALLOWED_HOSTS does not
 * name. Node only (undici, node:dns).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { Agent, fetch as undiciFetch } from 'undici'
import { judgeAddress, toAllowedHosts } from '../../webhooks/callback-url.ts'
import { ADDRESS_REFUSED } from '../../webhooks/types.ts'

/** Resolves a name to every address it has (default: the system resolver, as net.connect does). */
export type ResolveName = (hostname: string) => Promise<LookupAddress[]>

export interface WebhookFetchOptions {
  allowedHosts: readonly string[]
  connectTimeoutMs: number
  resolve?: ResolveName
}

export interface WebhookFetch {
  fetch: typeof fetch
  close(): Promise<void>
}

const resolveWithSystem: ResolveName = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  )

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void

/**
 * A `lookup` for net.connect / tls.connect: every address checked; one special address not named
 * refuses the whole name (a name half public, half loopback is a rebinding attempt).
 */
export function createCheckedLookup(allowedHosts: readonly string[], resolve: ResolveName) {
  const allowed = toAllowedHosts(allowedHosts)
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback) => {
    resolve(hostname).then(
      (addresses) => {
        const refused = addresses.find((a) => judgeAddress(a.address, allowed) !== null)
        if (refused || addresses.length === 0) {
          const error: NodeJS.ErrnoException = new Error(
            `${hostname} resolves to ${refused ? `${judgeAddress(refused.address, allowed)} address ${refused.address}` : 'no address'}, which webhooks may not reach`,
          )
          error.code = ADDRESS_REFUSED
          callback(error, '')
          return
        }
        if (options.all) callback(null, addresses)
        else callback(null, addresses[0]!.address, addresses[0]!.family)
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    )
  }
}

export function createWebhookFetch(options: WebhookFetchOptions): WebhookFetch {
  const agent = new Agent({
    connect: {
      timeout: options.connectTimeoutMs,
      lookup: createCheckedLookup(options.allowedHosts, options.resolve ?? resolveWithSystem),
    },
    // A receiver gets one event at a time per query; a few sockets per host are plenty.
    connections: 8,
    keepAliveTimeout: 4_000,
  })
  const send = (input: RequestInfo | URL, init?: RequestInit) =>
    undiciFetch(input as string, {
      ...(init as Record<string, unknown>),
      redirect: 'manual',
      dispatcher: agent,
    }) as unknown as Promise<Response>
  // Attempts still in flight at shutdown are tried again after the restart.
  return { fetch: send as typeof fetch, close: () => agent.destroy() }
}
