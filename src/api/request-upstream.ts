/**
 * Which upstream an async-query request belongs to, so that its credentials are checked there:
 * a submit's body project, a query's own record, else `?project=`, else the default. Portable.
 * Only asked with several upstreams; with one, every request is the default's.
 */
import type { Context } from 'hono'
import { isQueryId } from '../domain/query-id.ts'
import type { QueryRecord } from '../domain/query.ts'
import { limitBodyTo } from './validation.ts'
import type { Registry } from '../registry/types.ts'
import type { Upstream, UpstreamRouter } from '../upstream/upstream-router.ts'
import type { AppEnv } from './app-env.ts'
import { ASYNC_QUERY_PATH } from './async-query-routes.ts'

export interface RequestUpstreamOptions {
  upstreams: UpstreamRouter
  registry: Registry
  /** A submit's body is read here before its route reads it: within the same bound. */
  maxBodyBytes: number
}

export interface RequestUpstreams {
  /** The upstream of an async-query request (reads a submit's body, or the query's record). */
  of(c: Context<AppEnv>): Promise<Upstream>
  /** The upstream of a record the registry holds in this process; `undefined` where it cannot say now. */
  ofRecordNow(id: string): Upstream | undefined
}

export function createRequestUpstreams(options: RequestUpstreamOptions): RequestUpstreams {
  const { upstreams, registry } = options
  const limitBody = limitBodyTo(options.maxBodyBytes)

  /** The upstream a record names; a record of before routing (or a removed upstream): its project's. */
  const ofRecord = (record: Pick<QueryRecord, 'upstream' | 'project'>) =>
    upstreams.forRecord(record)

  /** The submit body's `project`; the body stays there for the route to read again. */
  async function readSubmitProject(c: Context<AppEnv>): Promise<string | undefined> {
    await limitBody(c, async () => {})
    try {
      const body: unknown = JSON.parse(await c.req.raw.clone().text())
      const project = (body as { project?: unknown } | null)?.project
      return typeof project === 'string' ? project : undefined
    } catch {
      // Not JSON: the route answers that, once the default upstream knows the caller.
      return undefined
    }
  }

  return {
    async of(c) {
      const path = c.req.path
      if (c.req.method === 'POST' && path.replace(/\/+$/, '') === ASYNC_QUERY_PATH) {
        return upstreams.forProject(await readSubmitProject(c))
      }
      // `/{id}/…`, or `/stop/{id}`: the query id is the first or the second segment.
      const id = path
        .slice(ASYNC_QUERY_PATH.length + 1)
        .split('/')
        .slice(0, 2)
        .find(isQueryId)
      if (id) {
        const record = await registry.get(id)
        if (record) return ofRecord(record)
      }
      return upstreams.forProject(c.req.query('project'))
    },
    ofRecordNow(id) {
      if (!isQueryId(id)) return undefined
      const record = registry.peek?.(id)
      return record ? ofRecord(record) : undefined
    },
  }
}
