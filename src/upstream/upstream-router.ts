/**
 * Which upstream Kylin serves a project: the routes of KYLIN_UPSTREAMS, each with its client.
 * Portable. Built once per app; the runtime says how to build a client for a base URL.
 */
import type { UpstreamRoutes } from '../domain/upstream-routes.ts'
import type { KylinClient } from './types.ts'

export interface Upstream {
  /** Its host (`kylin5:7070`): what records, metrics and /readyz name it by. */
  name: string
  /** Base URL, without user or password (refused at start). */
  url: string
  kylin: KylinClient
  isDefault: boolean
}

export interface UpstreamRouter {
  readonly default: Upstream
  /** Every upstream, the default first. */
  readonly all: readonly Upstream[]
  /** More than one upstream: requests must be routed. */
  readonly routed: boolean
  /** The project's upstream; a project no route names (or none) goes to the default. */
  forProject(project: string | undefined | null): Upstream
  /** The upstream a record names; `undefined` when no upstream has that name (any more). */
  byName(name: string | undefined): Upstream | undefined
  /**
   * The upstream that runs a query: the one its record names, else (a record of before routing,
   * or naming an upstream since removed) its project's.
   */
  forRecord(record: {
    upstream?: string | undefined
    project?: string | null | undefined
  }): Upstream
}

/** Builds the client of one upstream from its base URL (the runtime's fetch, its timeouts). */
export type KylinClientFactory = (baseUrl: string) => KylinClient

export function createUpstreamRouter(
  routes: UpstreamRoutes,
  clientFor: KylinClientFactory,
): UpstreamRouter {
  const all = routes.targets.map((target, index) => ({
    name: target.name,
    url: target.url,
    kylin: clientFor(target.url),
    isDefault: index === 0,
  }))
  const byName = new Map(all.map((upstream) => [upstream.name, upstream]))
  const fallback = all[0]
  if (!fallback) throw new Error('No upstream Kylin is configured.')
  const projects = new Map(Object.entries(routes.projects))
  const forProject = (project: string | undefined | null) => {
    if (!project) return fallback
    const name = projects.get(project.toLowerCase())
    return (name !== undefined && byName.get(name)) || fallback
  }
  return {
    default: fallback,
    all,
    routed: all.length > 1,
    forProject,
    byName: (name) => (name === undefined ? undefined : byName.get(name)),
    forRecord: (record) =>
      (record.upstream !== undefined && byName.get(record.upstream)) || forProject(record.project),
  }
}

/**
 * The router of an app's settings: the default upstream keeps the client the runtime built
 * (`kylin`), every other is built by `clientFor`.
 */
export function toUpstreamRouter(
  routes: UpstreamRoutes,
  kylin: KylinClient,
  clientFor: KylinClientFactory,
): UpstreamRouter {
  const defaultUrl = routes.targets[0]?.url
  return createUpstreamRouter(routes, (url) => (url === defaultUrl ? kylin : clientFor(url)))
}
