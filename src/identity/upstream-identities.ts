/**
 * One identity resolver per upstream: a caller is who the Kylin that runs the query says, and a
 * credential checked on one upstream says nothing on another. Portable.
 */
import type { UpstreamRouter, Upstream } from '../upstream/upstream-router.ts'
import {
  createIdentityResolver,
  type IdentityResolver,
  type IdentityResolverOptions,
} from './identity-resolver.ts'

/** The resolver (and cache) of an upstream. */
export type UpstreamIdentities = (upstream: Upstream) => IdentityResolver

export function createUpstreamIdentities(
  upstreams: UpstreamRouter,
  options: Omit<IdentityResolverOptions, 'kylin' | 'upstream'>,
): UpstreamIdentities {
  const resolvers = new Map(
    upstreams.all.map((upstream) => [
      upstream.name,
      createIdentityResolver({ ...options, kylin: upstream.kylin, upstream: upstream.name }),
    ]),
  )
  return (upstream) => resolvers.get(upstream.name)!
}
