/**
 * Signed links: a download URL that carries the query id, its expiry, the download form it fixes
 * and an HMAC signature of all three, made for an owner and checked without credentials. Portable.
 */
import { GatewayError } from '../errors.ts'
import { isQueryId } from '../domain/query-id.ts'
import { ASYNC_QUERY_PATH } from './async-query-routes.ts'
import { createLinkSignature, type LinkKeys } from './link-signature.ts'

/** The route segment of link downloads, under the async query path: `/link/{id}/{expires}/{sig}`. */
export const LINK_SEGMENT = 'link'

/** The download parameters a link may fix, in the order they are signed. */
export const LINK_FORM_PARAMS = ['format', 'encode', 'include_header'] as const
export type LinkFormParam = (typeof LINK_FORM_PARAMS)[number]
export type LinkForm = Partial<Record<LinkFormParam, string>>

export interface NewLink {
  /** Path and query string, from the async query path on: `/link/…?format=xlsx`. */
  path: string
  /** Milliseconds since the epoch, on a whole second. */
  expiresAt: number
}

/** What a link download names, taken from its URL as it came. */
export interface LinkRequest {
  id: string
  expires: string
  signature: string
  search: URLSearchParams
}

export interface SignedLinks {
  /** A link to query `id`'s result in `form`, working for `ttlSeconds` from now. */
  create(id: string, ttlSeconds: number, form: LinkForm): Promise<NewLink>
  /**
   * The query and form a link names; a 403 for any link this gateway did not sign as it is, a
   * 410 for one past its expiry.
   */
  check(link: LinkRequest): Promise<{ id: string; form: LinkForm }>
}

/** Seconds since the epoch, no leading zero: 12 digits reach far past any expiry and stay exact. */
const EXPIRES_PATTERN = /^[1-9]\d{0,11}$/

export function createSignedLinks(options: { keys: LinkKeys; now: () => number }): SignedLinks {
  const signature = createLinkSignature(options.keys)
  return {
    async create(id, ttlSeconds, form) {
      // Rounded up: a link lives at least its ttl.
      const expires = String(Math.ceil(options.now() / 1000) + ttlSeconds)
      const query = toCanonicalQuery(form)
      const signed = await signature.sign(toPayload(id, expires, query))
      return {
        path: `/${LINK_SEGMENT}/${id}/${expires}/${signed}${query ? `?${query}` : ''}`,
        expiresAt: Number(expires) * 1000,
      }
    },
    async check(link) {
      const form = toLinkForm(link.search)
      const wellFormed = form !== null && isQueryId(link.id) && EXPIRES_PATTERN.test(link.expires)
      const payload = toPayload(link.id, link.expires, toCanonicalQuery(form ?? {}))
      if (!wellFormed || !(await signature.verify(payload, link.signature))) {
        throw new GatewayError(403, { id: 'LINK_INVALID' })
      }
      const expiresAt = Number(link.expires) * 1000
      if (options.now() >= expiresAt) {
        throw new GatewayError(410, {
          id: 'LINK_EXPIRED',
          args: [new Date(expiresAt).toISOString()],
        })
      }
      return { id: link.id, form }
    },
  }
}

/**
 * What is signed: a fixed prefix, so that nothing else the secret might sign passes for a link,
 * then each part on a line of its own.
 */
function toPayload(id: string, expires: string, query: string): string {
  return `kylin-async-gateway link v1\n${id}\n${expires}\n${query}`
}

function toCanonicalQuery(form: LinkForm): string {
  const params = new URLSearchParams()
  for (const name of LINK_FORM_PARAMS) {
    const value = form[name]
    if (value !== undefined) params.set(name, value)
  }
  return params.toString()
}

/** The form of a link's query string; `null` for a name no link carries, or one given twice. */
function toLinkForm(search: URLSearchParams): LinkForm | null {
  const form: LinkForm = {}
  for (const [name, value] of search) {
    if (!(LINK_FORM_PARAMS as readonly string[]).includes(name)) return null
    const param = name as LinkFormParam
    if (form[param] !== undefined) return null
    form[param] = value
  }
  return form
}

/** A link's path up to its signature, then the signature. */
const LINK_SIGNATURE = new RegExp(
  `(${ASYNC_QUERY_PATH}/${LINK_SEGMENT}/[^/?#]*/[^/?#]*/)[^/?#]+`,
  'g',
)

/** The path (or URL) with a link's signature blanked out, for logs and error answers. */
export function hideLinkSignature(text: string): string {
  return text.replace(LINK_SIGNATURE, '$1[redacted]')
}
