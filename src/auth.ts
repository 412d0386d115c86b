/**
 * Who is calling: the upstream's /kylin/api/user/authentication, cached briefly per credential.
 * Portable. The cache key is a SHA-256 of the credential, so no credential is kept in memory.
 */
import { LRUCache } from 'lru-cache'
import { GatewayError, UnauthorizedError, UpstreamError } from './errors.ts'
import type { IncrementalHash } from './deps.ts'
import { sha256Hex } from './sha256.ts'
import type { Credentials, KylinClient, UserIdentity } from './upstream/types.ts'

export interface IdentityResolverOptions {
  kylin: KylinClient
  /** How long a verified identity is trusted; 0 asks the upstream every time. */
  ttlMs: number
  /** Identities cached at most. */
  maxEntries?: number
  /** The runtime's SHA-256 for cache keys (Web Crypto when absent). */
  createHash?: () => IncrementalHash
}

export interface IdentityResolver {
  /** The caller's identity; throws 401 for missing or rejected credentials. */
  resolve(credentials: Credentials): Promise<UserIdentity>
}

export function toCredentials(headers: Headers): Credentials {
  const credentials: Credentials = {}
  const authorization = headers.get('authorization')
  const cookie = headers.get('cookie')
  if (authorization) credentials.authorization = authorization
  if (cookie) credentials.cookie = cookie
  return credentials
}

export function createIdentityResolver(options: IdentityResolverOptions): IdentityResolver {
  // fetchMethod also folds concurrent look-ups of one credential into a single upstream call.
  const cache = new LRUCache<string, UserIdentity, Credentials>({
    max: options.maxEntries ?? 10_000,
    ttl: Math.max(options.ttlMs, 1),
    fetchMethod: async (_key, _stale, { context, signal }) => {
      const identity = await options.kylin.authenticate(context, signal)
      if (!identity) throw new UnauthorizedError({ id: 'BAD_CREDENTIALS' })
      return identity
    },
  })

  return {
    async resolve(credentials) {
      if (!credentials.authorization && !credentials.cookie) {
        throw new UnauthorizedError({ id: 'UNAUTHORIZED' })
      }
      if (options.ttlMs === 0) return ask(options.kylin, credentials)
      const key = await hashCredentials(credentials, options.createHash)
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

function hashCredentials(
  credentials: Credentials,
  createHash?: () => IncrementalHash,
): Promise<string> {
  return sha256Hex(`${credentials.authorization ?? ''}\n${credentials.cookie ?? ''}`, createHash)
}
