/**
 * The query service behind the routes: submit, look up with ownership rules, delete.
 * Portable. Ownership follows Kylin 5: the submitter or an admin (ROLE_ADMIN) may act on a query.
 */
import type { MessageId } from '../i18n.ts'
import type { AppDeps } from '../deps.ts'
import { ForbiddenError, GatewayError, NotFoundError } from '../errors.ts'
import { isQueryId, toRecordKey, toResultKey } from '../domain/query-id.ts'
import { mayAccess } from '../identity/ownership.ts'
import type { QueryRecord, QueryState, ResultOptions, UpstreamQuery } from '../domain/query.ts'
import { writeRecordFile } from '../registry/record-file.ts'
import { toRedactedUrl } from '../redact-url.ts'
import { toOneLine } from '../upstream/kylin-error.ts'
import { findEarlierSubmit, hashRequest } from './idempotency.ts'
import { findReusableResult, toReuseKey } from './result-reuse.ts'
import type { ListPage, ListPosition } from '../registry/types.ts'
import type { QueryRunner } from './runner.ts'
import { createFollowing } from './followed-result.ts'
import { isShadowSampled, SHADOW_PENDING } from '../shadow/shadow-runner.ts'
import { collectShadowReport, type ShadowReport } from '../shadow/shadow-report.ts'
import { sha256Hex } from '../sha256.ts'
import { normaliseSqlWhitespace } from './sql-whitespace.ts'
import type { Credentials, UserIdentity } from '../domain/caller.ts'

/** When to try again after a 429 or 503, in seconds. */
const RETRY_AFTER = { 'Retry-After': '5' }

export interface SubmitInput {
  query: UpstreamQuery
  options: ResultOptions
  /** The client's Idempotency-Key: the same key and request from the same user, the same query. */
  idempotencyKey?: string
  /** Where the signed webhook goes when the query ends, already checked against the settings. */
  callbackUrl?: string
  /** Seconds: answer with the caller's own identical result finished within them, if any. */
  reuseMaxAge?: number
}

/** What a submit answers: the query, and whether it is an earlier result reused. */
export interface SubmitOutcome {
  record: QueryRecord
  reused: boolean
}

/** The query list's filters, as the route parsed them. */
export interface ListFilters {
  state?: QueryState
  project?: string
  /** Another user's queries: admins only. */
  user?: string
  limit: number
  after?: ListPosition
}

/** What a refused caller gets: Kylin's message, and the `data` Kylin sends with it. */
export interface Denial {
  message: MessageId
  data: unknown
}

export interface QueryService {
  submit(
    identity: UserIdentity,
    credentials: Credentials,
    input: SubmitInput,
  ): Promise<SubmitOutcome>
  /** A page of the caller's queries (an admin's: everyone's, or `user`'s), newest first. */
  list(identity: UserIdentity, filters: ListFilters): Promise<ListPage>
  /** The record, or `null` when unknown (or in another project); 403 when not the caller's. */
  find(
    identity: UserIdentity,
    id: string,
    denial: Denial,
    project?: string,
  ): Promise<QueryRecord | null>
  /**
   * `find` answered at once where the registry holds its records in this process; `undefined`
   * where it must be asked and waited for (then call `find`).
   */
  findNow(
    identity: UserIdentity,
    id: string,
    denial: Denial,
    project?: string,
  ): QueryRecord | null | undefined
  /** Like `find`, but unknown → 404, and anything not SUCCESSFUL → 404 too (Kylin's rule). */
  findSuccessful(
    identity: UserIdentity,
    id: string,
    denial: Denial,
    project?: string,
  ): Promise<QueryRecord>
  /**
   * A SUCCESSFUL record by its id alone, with no caller to check: for a signed link, which
   * carries its owner's leave. Unknown or not SUCCESSFUL → the same 404s as `findSuccessful`.
   */
  findSuccessfulById(id: string): Promise<QueryRecord>
  /** Like `findSuccessful`, but a RUNNING query is found too: one a client may follow. */
  findFollowable(
    identity: UserIdentity,
    id: string,
    denial: Denial,
    project?: string,
  ): Promise<QueryRecord>
  /**
   * The bytes of a RUNNING query as they are written, or its stored file once it ends where they
   * cannot be had here; the stream errors unless the result is whole (followed-result.ts).
   */
  follow(record: QueryRecord): Promise<ReadableStream<Uint8Array>>
  /** Stops a queued or running query; it ends FAILED with `reason`. `false` if not running. */
  stop(record: QueryRecord, reason: string): Promise<boolean>
  /** From now on submits answer 503: the gateway is shutting down. */
  drain(): void
  /** Admins: the shadow runs ended in the last `hours` and their mismatches. */
  shadowReport(identity: UserIdentity, hours: number): Promise<ShadowReport>
  /** Removes one query, its result and its record; a running one is stopped. */
  remove(record: QueryRecord): Promise<void>
  /**
   * Removes every query matching `filter`; returns how many. Without a filter it also clears
   * blobs no record points at (left by eviction or an earlier process), as Kylin empties the dir.
   */
  removeAll(filter?: (record: QueryRecord) => boolean): Promise<number>
}

export function createQueryService(
  deps: Pick<AppDeps, 'registry' | 'store' | 'now' | 'newId' | 'config' | 'upstreams'>,
  runner: QueryRunner,
): QueryService {
  let draining = false
  const follow = createFollowing(deps, runner)
  const isVisible = (record: QueryRecord | null, project?: string): record is QueryRecord =>
    record !== null && (!project || project === record.project)

  function toFound(
    identity: UserIdentity,
    record: QueryRecord | null,
    denial: Denial,
    project?: string,
  ): QueryRecord | null {
    if (!isVisible(record, project)) return null
    if (!mayAccess(identity, record)) {
      throw new ForbiddenError({ id: denial.message }, { code: '401', data: denial.data })
    }
    return record
  }

  async function find(identity: UserIdentity, id: string, denial: Denial, project?: string) {
    if (!isQueryId(id)) return null
    return toFound(identity, await deps.registry.get(id), denial, project)
  }

  function findNow(identity: UserIdentity, id: string, denial: Denial, project?: string) {
    if (!deps.registry.peek) return undefined
    if (!isQueryId(id)) return null
    return toFound(identity, deps.registry.peek(id), denial, project)
  }

  /** `find`, with unknown → 404, and a state not in `states` → 404 too (Kylin's rule). */
  async function findInState(
    identity: UserIdentity,
    id: string,
    denial: Denial,
    project: string | undefined,
    states: readonly QueryState[],
  ) {
    return toInState(await find(identity, id, denial, project), states)
  }

  async function remove(record: QueryRecord) {
    await runner.abort(record.id, 'The query was deleted before it finished.')
    await deps.registry.delete(record.id)
    await Promise.all([
      deps.store.delete(toResultKey(record.id)),
      deps.store.delete(toRecordKey(record.id)),
    ])
  }

  return {
    async submit(identity, credentials, input) {
      if (draining) throw new GatewayError(503, { id: 'SHUTTING_DOWN' }, { headers: RETRY_AFTER })
      // A queue shared by several instances is counted now, across all of them.
      const queued = runner.countQueued ? await runner.countQueued() : runner.queued
      if (queued >= deps.config.maxQueuedQueries) {
        throw new GatewayError(
          429,
          { id: 'QUEUE_FULL' },
          { errorCode: 'KE-020040002', headers: RETRY_AFTER },
        )
      }
      const idempotency = input.idempotencyKey
        ? {
            key: input.idempotencyKey,
            requestHash: await hashRequest(input.query, input.options, input.callbackUrl),
          }
        : undefined
      if (idempotency) {
        const earlier = await findEarlierSubmit(deps.registry, identity.username, idempotency)
        if (earlier) return { record: earlier, reused: false }
      }
      // The upstream that will run it (several upstreams only), by name.
      const upstream = deps.upstreams?.routed
        ? deps.upstreams.forProject(input.query.project).name
        : undefined
      const reuseKey = await toReuseKey(identity.username, input.query, input.options, upstream)
      if (input.reuseMaxAge) {
        const earlier = await findReusableResult(
          deps,
          identity.username,
          reuseKey,
          input.reuseMaxAge,
        )
        if (earlier) return { record: earlier, reused: true }
      }
      // Drawn at submit, so the status says from the start that a shadow run will follow.
      const shadow = deps.config.shadow && isShadowSampled(deps.config.shadow, input.query.project)
      const now = deps.now()
      const record: QueryRecord = {
        id: deps.newId(),
        owner: identity.username,
        project: input.query.project,
        options: input.options,
        state: 'RUNNING',
        rows: 0,
        bytes: 0,
        createdAt: now,
        updatedAt: now,
        reuseKey,
        // Which Kylin runs it, by name: the status tells it, and the runner calls that one.
        ...(upstream !== undefined ? { upstream } : {}),
        ...(idempotency ? { idempotency } : {}),
        ...(input.callbackUrl ? { callbackUrl: input.callbackUrl } : {}),
        ...(shadow
          ? {
              shadow: SHADOW_PENDING,
              // For the mismatch report: which SQL, without keeping the SQL.
              sqlDigest: await sha256Hex(normaliseSqlWhitespace(input.query.sql)),
            }
          : {}),
      }
      await deps.registry.create(record).catch((error: unknown) => {
        throw toNotRecordedError('registry', error)
      })
      // On disk before the submit is answered: a crash after this point is remembered as such.
      // A record that cannot be kept is no query at all: it would stay RUNNING with no runner.
      await writeRecordFile(deps, record).catch(async (error: unknown) => {
        await deps.registry.delete(record.id).catch(() => {})
        throw toNotRecordedError('result store', error)
      })
      await runner.start(record, input.query, credentials)
      return { record, reused: false }
    },
    async list(identity, filters) {
      const { user, ...rest } = filters
      if (user !== undefined && user !== identity.username && !identity.isAdmin) {
        throw new ForbiddenError({ id: 'DENIED_LIST_USER' })
      }
      // A non-admin sees their own; an admin everyone's, or one user's when asked.
      const owner = identity.isAdmin ? user : identity.username
      return deps.registry.listPage({ ...rest, ...(owner !== undefined ? { owner } : {}) })
    },
    find,
    findNow,
    findSuccessful: (identity, id, denial, project) =>
      findInState(identity, id, denial, project, ['SUCCESSFUL']),
    async findSuccessfulById(id) {
      return toSuccessful(isQueryId(id) ? await deps.registry.get(id) : null)
    },
    findFollowable: (identity, id, denial, project) =>
      findInState(identity, id, denial, project, ['SUCCESSFUL', 'RUNNING']),
    follow,
    remove,
    stop: (record, reason) => runner.abort(record.id, reason),
    async shadowReport(identity, hours) {
      if (!identity.isAdmin) throw new ForbiddenError({ id: 'DENIED_SHADOW_REPORT' })
      return collectShadowReport(deps.registry, deps.now() - hours * 3_600_000)
    },
    drain() {
      draining = true
    },
    async removeAll(filter) {
      const records = await deps.registry.list()
      let removed = 0
      for (const record of records) {
        if (filter && !filter(record)) continue
        await remove(record)
        removed++
      }
      if (!filter) {
        for await (const key of deps.store.list()) {
          const id = key.slice(0, key.indexOf('.'))
          if (!(await deps.registry.get(id))) await deps.store.delete(key)
        }
      }
      return removed
    },
  }
}

/** Kylin's rule: an unknown query and one that is not SUCCESSFUL have no result, both 404. */
function toSuccessful(record: QueryRecord | null): QueryRecord {
  return toInState(record, ['SUCCESSFUL'])
}

/** Unknown → 404; in a state not in `states` (e.g. not yet SUCCESSFUL) → 404 too. */
function toInState(record: QueryRecord | null, states: readonly QueryState[]): QueryRecord {
  if (!record) {
    throw new NotFoundError({ id: 'QUERY_NOT_FOUND' }, { errorCode: 'KE-010031301' })
  }
  if (!states.includes(record.state)) {
    throw new NotFoundError({ id: 'QUERY_NOT_FOUND' }, { errorCode: 'KE-020040001' })
  }
  return record
}

/** 503 for a submit whose record could not be kept; a GatewayError (e.g. registry full) as is. */
function toNotRecordedError(where: string, error: unknown): GatewayError {
  if (error instanceof GatewayError) return error
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  const cause =
    typeof code === 'string' && code ? code : toOneLine(toRedactedUrl(String(message ?? error)))
  return new GatewayError(
    503,
    { id: 'NOT_RECORDED', args: [where, cause.slice(0, 200)] },
    { headers: RETRY_AFTER, cause: error },
  )
}
