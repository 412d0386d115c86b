/**
 * Who is calling: the upstream's /kylin/api/user/authentication, cached briefly per credential.
 * Portable. The cache key is a SHA-256 of the credential; only the last few credential texts are
 * kept beside their keys (`credential-keys.ts`), so that a repeated poll skips the hash.
 */
import { LRUCache } from 'lru-cache'
import { GatewayError, UnauthorizedError, UpstreamError } from '../errors.ts'
import type { IncrementalHash } from '../sha256.ts'
import { NO_METRICS, toUpstreamErrorKind, type GatewayMetrics } from '../ops/metrics.ts'
import { sha256Hex } from '../sha256.ts'
import { createCredentialKeys, toCredentialText } from './credential-keys.ts'
import type { Credentials, UserIdentity } from '../domain/caller.ts'
import type { KylinClient } from '../upstream/types.ts'

export interface IdentityResolverOptions {
  kylin: KylinClient
  /** How long a verified identity is trusted; 0 asks the upstream every time. */
  ttlMs: number
  /** Identities cached at most. */
  maxEntries?: number
  /** The runtime's SHA-256 for cache keys (Web Crypto when absent). */
  createHash?: () => IncrementalHash
  /**
   * A synchronous SHA-256 hex, preferred when given: a status poll needs its key at once (the
   * keys of recent credentials are remembered, so a repeated poll does not hash again).
   */
  hashText?: (text: string) => string
  /** Counts look-ups, misses, upstream call times and failures. */
  metrics?: GatewayMetrics
  /** The upstream's name, the `upstream` label of its call metrics (several upstreams only). */
  upstream?: string
}

export interface IdentityResolver {
  /** The caller's identity; throws 401 for missing or rejected credentials. */
  resolve(credentials: Credentials): Promise<UserIdentity>
  /**
   * The identity when it is cached and fresh and the key can be computed synchronously, else
   * `undefined` (then call `resolve`). Lets a status poll pass without awaiting anything.
   * `countLookup: false` leaves the look-up uncounted, for a caller that may still hand the
   * request on to one that peeks again; it calls `countLookup()` once it answers itself.
   */
  peek(credentials: Credentials, options?: { countLookup?: boolean }): UserIdentity | undefined
  /** Counts one look-up answered from the cache (see `peek`). */
  countLookup(): void
}

export function toCredentials(headers: Pick<Headers, 'get'>): Credentials {
  const credentials: Credentials = {}
  const authorization = headers.get('authorization')
  const cookie = headers.get('cookie')
  if (authorization) credentials.authorization = authorization
  if (cookie) credentials.cookie = cookie
  return credentials
}

export function createIdentityResolver(options: IdentityResolverOptions): IdentityResolver {
  const metrics = options.metrics ?? NO_METRICS
  const kylin =
    metrics === NO_METRICS
      ? options.kylin
      : measureAuthentication(options.kylin, metrics, options.upstream)
  // fetchMethod also folds concurrent look-ups of one credential into a single upstream call.
  const cache = new LRUCache<string, UserIdentity, Credentials>({
    max: options.maxEntries ?? 10_000,
    ttl: Math.max(options.ttlMs, 1),
    fetchMethod: async (_key, _stale, { context, signal }) => {
      metrics.countIdentityMiss()
      const identity = await kylin.authenticate(context, signal)
      if (!identity) throw new UnauthorizedError({ id: 'BAD_CREDENTIALS' })
      return identity
    },
  })

  const keyOf = options.hashText && createCredentialKeys(options.hashText)

  return {
    peek(credentials, { countLookup = true } = {}) {
      if (!keyOf || options.ttlMs === 0) return undefined
      if (!credentials.authorization && !credentials.cookie) return undefined
      const cached = cache.get(keyOf(credentials))
      if (cached && countLookup) metrics.countIdentityLookup()
      return cached
    },
    countLookup: () => metrics.countIdentityLookup(),
    async resolve(credentials) {
      if (!credentials.authorization && !credentials.cookie) {
        throw new UnauthorizedError({ id: 'UNAUTHORIZED' })
      }
      // The one count on every authenticated request (status polls included).
      metrics.countIdentityLookup()
      if (options.ttlMs === 0) {
        metrics.countIdentityMiss()
        return ask(kylin, credentials)
      }
      const key = keyOf
        ? keyOf(credentials)
        : await sha256Hex(toCredentialText(credentials), options.createHash)
      // A fresh identity is answered without the promise machinery of fetch (status polls).
      const cached = cache.get(key)
      if (cached) return cached
      try {
        const identity = await cache.fetch(key, { context: credentials })
        if (!identity) throw new UnauthorizedError({ id: 'BAD_CREDENTIALS' })
        return identity
      } catch (error) {
        throw toAuthError(error)
      }
    },
  }
}

/** Times each identity call and counts its upstream failures (only misses reach it). */
function measureAuthentication(
  kylin: KylinClient,
  metrics: GatewayMetrics,
  upstream: string | undefined,
): KylinClient {
  return {
    query: (query, credentials, signal) => kylin.query(query, credentials, signal),
    async authenticate(credentials, signal) {
      const started = performance.now()
      try {
        return await kylin.authenticate(credentials, signal)
      } catch (error) {
        const kind = signal?.aborted ? null : toUpstreamErrorKind(error)
        if (kind) metrics.countUpstreamError('authentication', kind, upstream)
        throw error
      } finally {
        metrics.observeUpstreamCall(
          'authentication',
          (performance.now() - started) / 1000,
          upstream,
        )
      }
    },
  }
}

async function ask(kylin: KylinClient, credentials: Credentials): Promise<UserIdentity> {
  let identity: UserIdentity | null
  try {
    identity = await kylin.authenticate(credentials)
  } catch (error) {
    throw toAuthError(error)
  }
  if (!identity) throw new UnauthorizedError({ id: 'BAD_CREDENTIALS' })
  return identity
}

function toAuthError(error: unknown): GatewayError {
  if (error instanceof UpstreamError) {
    return new GatewayError(
      502,
      { id: 'UPSTREAM_AUTH_UNAVAILABLE', args: [error.message] },
      { cause: error },
    )
  }
  if (error instanceof GatewayError) return error
  return new GatewayError(
    502,
    { id: 'UPSTREAM_AUTH_UNAVAILABLE', args: [String(error)] },
    { cause: error },
  )
}
