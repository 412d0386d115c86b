/**
 * Handlers of /kylin/api/async_query for all three dialects (see dialect.ts), each serving its
 * declaration in async-query-routes.ts. Portable. Handlers throw typed errors; errors.ts answers.
 */
import { OpenAPIHono, type RouteConfig } from '@hono/zod-openapi'
import type { Context, Next } from 'hono'
import type { AppEnv } from './app-env.ts'
import type { WebhookSettings } from '../config/webhook-settings.ts'
import { toCallbackUrl } from '../webhooks/callback-url.ts'
import { BadRequestError, ForbiddenError, GatewayError, NotFoundError } from '../errors.ts'
import type { GatewayMetrics } from '../ops/metrics.ts'
import type { Exporter } from '../export/export-result.ts'
import { toResultKey } from '../domain/query-id.ts'
import type { QueryService, SubmitInput } from '../queries/query-service.ts'
import type { QueryWatch } from '../queries/query-watch.ts'
import type { BlobStore } from '../store/types.ts'
import type { QueryRecord, ResultEncoding, ResultFormat } from '../domain/query.ts'
import type { Dialect } from './dialect.ts'
import { toLinkOrder } from './link-request.ts'
import type { SignedLinks } from './signed-link.ts'
import { checkFollowable, sendFollowedDownload, toFollowFlag } from './followed-download.ts'
import {
  ENCODING_LIST,
  FORMAT_LIST,
  ILLEGAL_PARAMETERS,
  toResultEncoding,
  toResultFormat,
} from './result-form.ts'
import { sendEnvelope, sendEnvelopeText, toEnvelope } from './envelope.ts'
import { STATUS_DENIAL, toIntegrity, toShadowAnswer, toStatusBody } from './status-answer.ts'
import { toStatusWait } from './status-wait.ts'
import { createStatusEventStream, EVENT_STREAM_HEADERS, toLastEventId } from './status-events.ts'
import { translate } from '../i18n.ts'
import {
  LIST_LIMIT,
  listQuerySchema,
  olderThanPattern,
  shadowReportQuerySchema,
  submitSchema,
  type SubmitBody,
} from './schemas.ts'
import { fromCursor, toCursor } from './list-cursor.ts'
import type { QuerySummary } from '../registry/types.ts'
import { ASYNC_QUERY_PATH, ASYNC_QUERY_ROUTES as routes } from './async-query-routes.ts'
import { sendAskedDownload, toAskedDownload } from './result-download.ts'
import type { StoredFileSender } from '../deps.ts'
import { limitBodyTo, rejectInvalid, toValidationError } from './validation.ts'

export interface AsyncQueryRoutesOptions {
  queries: QueryService
  /** Waits on a query's changes: `?wait=` / `Prefer: wait` and `/events`. */
  watch: QueryWatch
  /** How long one event stream may stay open (the query's own time limit and a margin). */
  maxEventStreamMs: number
  store: BlobStore
  maxBodyBytes: number
  /** Gzip downloads here; off where the platform compresses responses itself (Workers). */
  compressDownloads: boolean
  /** Counts download bytes and status calls. */
  metrics?: GatewayMetrics
  /** Runs a download-time conversion; `exportResult` when absent. */
  exporter?: Exporter
  /** Sends a stored file as written where the runtime can (Node with the fs store). */
  sendStoredFile?: StoredFileSender
  /** Where a submit's callback_url may point; absent: webhooks are off, callback_url is refused. */
  webhooks?: WebhookSettings
  /** Signed links, with the longest lifetime one may get; absent when links are off. */
  links?: { signer: SignedLinks; maxTtlSeconds: number }
  /** Where clients reach the gateway; each request's own origin when absent. */
  publicUrl?: string
  /**
   * Whether `?follow=1` streams a RUNNING result before it is whole (default). Where the HTTP layer
   * ends an errored body as if it were whole (workerd#6818), a follower instead waits for the end
   * and gets the whole download, Content-Length and all, so a cut-off file never looks complete.
   */
  followLive?: boolean
}

/** `/{id}/status` → `/:id/status`, so a handler's `c.req.param()` knows the declared names. */
type RoutingPath<P extends string> = P extends `${infer Head}{${infer Name}}${infer Tail}`
  ? `${Head}:${Name}${RoutingPath<Tail>}`
  : P

type RouteHandler<R extends RouteConfig> = (
  c: Context<AppEnv, RoutingPath<R['path']>>,
  next: Next,
) => Promise<Response | void>

export function createAsyncQueryRoutes(options: AsyncQueryRoutesOptions) {
  const { queries, store, watch } = options
  const app = new OpenAPIHono<AppEnv>({ defaultHook: rejectInvalid })
  /**
   * Serves a declared route. Answers are Responses whose media type the dialect picks per request
   * (sendEnvelope, sendDownload), which the library's typed answers cannot express. The document
   * comes from the declarations themselves (openapi.ts), so it needs no router to be built.
   */
  const serve = <R extends RouteConfig>(route: R, handler: RouteHandler<R>) =>
    app.openapi(route, handler as never)
  const projectOf = (c: Context<AppEnv>) => c.req.query('project') || undefined
  const limitBody = limitBodyTo(options.maxBodyBytes)

  serve({ ...routes.submit, middleware: limitBody }, async (c) => {
    const identity = c.get('identity')
    // Checked by the route's header schema before this runs.
    const idempotencyKey = c.req.header('idempotency-key')
    const body = toSubmitBody(await readJsonBody(c))
    const dialect = c.get('dialect')
    const lang = c.get('lang')
    const format = toResultFormat(body.format)
    const encode = toResultEncoding(body.encode)
    if (!format || !encode) {
      // Kylin 5's answer, HTTP 200 included: a FAILED query that was never recorded. Kylin 5
      // answers a bad encoding with the format text; here it gets a text of its own.
      const info = !format
        ? translate('FORMAT_UNSUPPORTED', lang, [body.format ?? '', FORMAT_LIST])
        : translate('ENCODE_UNSUPPORTED', lang, [body.encode ?? '', ENCODING_LIST])
      const data = { [dialect.idField]: null, status: 'FAILED', info }
      return sendEnvelope(c, dialect, data, '', ILLEGAL_PARAMETERS)
    }
    // Checked before anything is recorded: a callback that could never be sent is refused now.
    const callbackUrl =
      body.callback_url == null ? undefined : toCallbackUrl(body.callback_url, options.webhooks)
    const input = {
      ...toSubmitInput(body, { format, encode }),
      idempotencyKey,
      ...(callbackUrl ? { callbackUrl } : {}),
    }
    const { record, reused } = await queries.submit(identity, c.get('credentials'), input)
    if (reused) {
      // Final in this very answer: a reused result sends no webhook.
      const info = translate('QUERY_REUSED', lang)
      return sendEnvelope(c, dialect, {
        [dialect.idField]: record.id,
        status: 'SUCCESSFUL',
        info,
        reused: true,
      })
    }
    // A repeated submit (same Idempotency-Key) reports where its query is, as Kylin 5's does.
    const [status, info] =
      record.state === 'SUCCESSFUL'
        ? ['SUCCESSFUL', translate('QUERY_SUCCESS_SUBMIT', lang)]
        : record.state === 'FAILED'
          ? ['FAILED', record.error ?? '']
          : ['RUNNING', translate(dialect.submitInfo, lang)]
    return sendEnvelope(c, dialect, { [dialect.idField]: record.id, status, info })
  })

  serve(routes.list, async (c) => {
    const parsed = listQuerySchema.safeParse(c.req.query())
    if (!parsed.success) throw toValidationError(parsed.error, 'query')
    const { status, project, user, limit, cursor } = parsed.data
    const page = await queries.list(c.get('identity'), {
      ...(status ? { state: status } : {}),
      ...(project ? { project } : {}),
      ...(user ? { user } : {}),
      limit: limit ?? LIST_LIMIT.default,
      ...(cursor ? { after: fromCursor(cursor) } : {}),
    })
    const dialect = c.get('dialect')
    return sendEnvelope(c, dialect, {
      queries: page.queries.map((query) => toListedQuery(query, dialect)),
      next_cursor: page.next ? toCursor(page.next) : null,
    })
  })

  serve(routes.shadowReport, async (c) => {
    const parsed = shadowReportQuerySchema.safeParse(c.req.query())
    if (!parsed.success) throw toValidationError(parsed.error, 'query')
    const hours = parsed.data.hours ?? 24
    const report = await queries.shadowReport(c.get('identity'), hours)
    return sendEnvelope(c, c.get('dialect'), {
      since: new Date(report.since).toISOString(),
      compared: report.compared,
      matched: report.matched,
      mismatches: report.mismatches.map((m) => ({
        query_id: m.id,
        project: m.project,
        user: m.owner,
        sql_digest: m.sqlDigest,
        primary_rows: m.primaryRows,
        shadow_rows: m.shadowRows,
        shadow_status: m.shadowStatus,
        first_difference: m.firstDifference,
        finished_at: new Date(m.finishedAt).toISOString(),
      })),
      truncated: report.truncated,
    })
  })

  // The lane in status-poll-lane.ts answers most polls before the router; the rest come here.
  serve(routes.status, async (c) => {
    const id = c.req.param('id')
    const dialect = c.get('dialect')
    const wait = toStatusWait(c.req.query('wait'), c.req.header('prefer'))
    let record = await queries.find(c.get('identity'), id, STATUS_DENIAL, projectOf(c))
    if (wait && watch.canWait) {
      if (record?.state === 'RUNNING' && wait.seconds > 0) {
        const release = watch.hold(id, {
          maxMs: wait.seconds * 1000,
          signal: c.req.raw.signal,
        })
        try {
          // Ownership was checked above and a record's owner and project never change.
          record = await watch.untilFinished(record, wait.seconds * 1000, c.req.raw.signal)
        } finally {
          release()
        }
      }
      if (wait.preferred) c.header('Preference-Applied', `wait=${wait.seconds}`)
    }
    options.metrics?.countStatusCall(wait && watch.canWait ? 'wait' : 'poll')
    const body = toStatusBody(id, record, dialect, c.get('lang'))
    return sendEnvelopeText(c, dialect, body.text)
  })

  serve(routes.events, async (c) => {
    const record = await queries.find(
      c.get('identity'),
      c.req.param('id'),
      STATUS_DENIAL,
      projectOf(c),
    )
    if (!record) throw new NotFoundError({ id: 'QUERY_NOT_FOUND' }, { errorCode: 'KE-010031301' })
    options.metrics?.countStatusCall('events')
    const release = watch.hold(record.id, { maxMs: options.maxEventStreamMs })
    const stream = createStatusEventStream({
      watch,
      record,
      lastEventId: toLastEventId(c.req.header('last-event-id')),
      lang: c.get('lang'),
      maxOpenMs: options.maxEventStreamMs,
      signal: c.req.raw.signal,
      onEnd: release,
    })
    return new Response(stream, { status: 200, headers: EVENT_STREAM_HEADERS })
  })

  serve(routes.metadata, async (c) => {
    const record = await queries.findSuccessful(
      c.get('identity'),
      c.req.param('id'),
      { message: 'DENIED_METADATA', data: null },
      projectOf(c),
    )
    const metadata = record.metadata ?? { names: [], types: [] }
    // Kylin's `data` is the two lists; rows, bytes and sha256 ride beside it in the envelope.
    const envelope = {
      ...toEnvelope([metadata.names, metadata.types]),
      ...toIntegrity(record),
      ...(record.shadow ? { shadow: toShadowAnswer(record.shadow) } : {}),
    }
    return sendEnvelopeText(c, c.get('dialect'), JSON.stringify(envelope))
  })

  const sendFileStatus: RouteHandler<typeof routes.fileStatus> = async (c) => {
    const record = await queries.findSuccessful(
      c.get('identity'),
      c.req.param('id'),
      { message: 'DENIED_FILE_STATUS', data: 0 },
      projectOf(c),
    )
    return sendEnvelope(c, c.get('dialect'), record.bytes)
  }
  serve(routes.fileStatus, sendFileStatus)
  serve(routes.fileStatusV4, sendFileStatus)

  /** SUCCESSFUL, or with `follow=1` RUNNING too; anything else answers 404 as Kylin's. */
  const findDownloadable = (c: Context<AppEnv, '/:id/result'>) => {
    const find = toFollowFlag(c.req.query('follow'))
      ? queries.findFollowable
      : queries.findSuccessful
    return find(
      c.get('identity'),
      c.req.param('id'),
      { message: 'DENIED_DOWNLOAD', data: null },
      projectOf(c),
    )
  }

  serve(routes.result, async (c) => {
    const record = await findDownloadable(c)
    // The older Kylins' route: their text/csv, and always the name "result".
    return sendResult(c, record, 'legacy', 'result')
  })

  serve(routes.resultDownload, async (c) => {
    // Kylin 5 rejects this one with include_header moved to submit; it has no meaning now.
    if (c.req.query('oldIncludeHeader') !== undefined) {
      throw new BadRequestError({ id: 'INCLUDE_HEADER_MOVED' }, { errorCode: 'KE-010031304' })
    }
    const record = await findDownloadable(c)
    return sendResult(c, record, c.get('dialect').name, record.options.fileName)
  })

  /**
   * The stored file as written, or, when the query string asks for another format, encoding or
   * header choice, that form made from it on the fly; a RUNNING query's bytes as they are written.
   */
  const sendResult = async (
    c: Context<AppEnv>,
    record: QueryRecord,
    dialect: Dialect['name'],
    fileName: string,
  ) => {
    const asked = toAskedDownload(record, (name) => c.req.query(name), dialect, fileName, options)
    if (record.state === 'RUNNING') {
      checkFollowable(c, asked.sameForm)
      if (options.followLive === false) {
        return sendResult(c, await awaitSuccessful(c, record), dialect, fileName)
      }
      return sendFollowedDownload(c, record, queries.follow, asked.download)
    }
    return sendAskedDownload(c, record, asked, options)
  }

  /**
   * A followed RUNNING query once it has ended, where followers wait for the end: SUCCESSFUL, or
   * the 404 a download of anything else answers.
   */
  const awaitSuccessful = async (c: Context<AppEnv>, record: QueryRecord) => {
    const signal = c.req.raw.signal
    const release = watch.hold(record.id, { maxMs: options.maxEventStreamMs, signal })
    try {
      await watch.untilFinished(record, options.maxEventStreamMs, signal)
    } finally {
      release()
    }
    return queries.findSuccessful(
      c.get('identity'),
      record.id,
      { message: 'DENIED_DOWNLOAD', data: null },
      projectOf(c),
    )
  }

  serve({ ...routes.createLink, middleware: limitBody }, async (c) => {
    const { links } = options
    if (!links) throw new GatewayError(501, { id: 'LINKS_OFF' })
    const raw = await readJsonBody(c, {})
    const record = await queries.findSuccessful(
      c.get('identity'),
      c.req.param('id'),
      { message: 'DENIED_DOWNLOAD', data: null },
      projectOf(c),
    )
    const { ttlSeconds, form } = toLinkOrder(raw, record, links.maxTtlSeconds)
    const link = await links.signer.create(record.id, ttlSeconds, form)
    const base = options.publicUrl ?? new URL(c.req.url).origin
    const answer = sendEnvelope(c, c.get('dialect'), {
      url: `${base}${ASYNC_QUERY_PATH}${link.path}`,
      expires_at: new Date(link.expiresAt).toISOString(),
    })
    // The URL is as good as the owner's credentials for this one file: no cache keeps it.
    answer.headers.set('Cache-Control', 'no-store')
    return answer
  })

  serve(routes.resultPath, async (c) => {
    const record = await queries.find(
      c.get('identity'),
      c.req.param('id'),
      { message: 'DENIED_PATH', data: '' },
      projectOf(c),
    )
    if (!record) throw new NotFoundError({ id: 'QUERY_NOT_FOUND' }, { errorCode: 'KE-010031301' })
    return sendEnvelope(c, c.get('dialect'), store.locate(toResultKey(record.id)))
  })

  // Kylin 5's stop: answers at once; the query then ends FAILED with a "stopped" message.
  // Served as /:action/:id rather than /stop/:id: beside DELETE /:id, the static segment would
  // push Hono onto its slower trie router for every request, status polls included. The document
  // describes it as declared, at /stop/{id}.
  serve({ ...routes.stop, path: '/{action}/{id}' as const, hide: true }, async (c, next) => {
    if (c.req.param('action') !== 'stop') return next()
    const identity = c.get('identity')
    const id = c.req.param('id')
    const record = await queries.find(
      identity,
      id,
      { message: 'DENIED_STOP', data: 'Access denied.' },
      projectOf(c),
    )
    if (!record) throw new NotFoundError({ id: 'QUERY_NOT_FOUND' }, { errorCode: 'KE-010031301' })
    const stopped =
      record.state === 'RUNNING' &&
      (await queries.stop(
        record,
        `The query was stopped by ${identity.username} before it finished.`,
      ))
    if (!stopped) {
      throw new GatewayError(409, { id: 'QUERY_NOT_RUNNING' }, { data: 'Query is not running' })
    }
    return sendEnvelope(c, c.get('dialect'), '', translate('QUERY_STOPPING', c.get('lang'), [id]))
  })

  serve(routes.deleteQuery, async (c) => {
    const record = await queries.find(
      c.get('identity'),
      c.req.param('id'),
      { message: 'DENIED_DELETE', data: false },
      projectOf(c),
    )
    if (!record) throw new NotFoundError({ id: 'QUERY_NOT_FOUND' }, { errorCode: 'KE-010031301' })
    await queries.remove(record)
    return sendEnvelope(c, c.get('dialect'), true)
  })

  serve(routes.deleteAll, async (c) => {
    if (!c.get('identity').isAdmin) {
      throw new ForbiddenError({ id: 'DENIED_DELETE' }, { errorCode: 'KE-010024001' })
    }
    const project = projectOf(c)
    const olderThan = c.req.query('older_than') || undefined
    if (!project && !olderThan) {
      await queries.removeAll()
    } else if (project && olderThan) {
      const cutoff = parseOlderThan(olderThan)
      await queries.removeAll((r) => r.project === project && r.createdAt < cutoff)
    } else {
      throw new BadRequestError({ id: 'DELETE_NEEDS_BOTH' })
    }
    return sendEnvelope(c, c.get('dialect'), true)
  })

  return app
}

/** One query of the list, in the dialect's id field; never its SQL, which no record keeps. */
function toListedQuery(query: QuerySummary, dialect: Dialect) {
  return {
    [dialect.idField]: query.id,
    status: query.state,
    project: query.project,
    owner: query.owner,
    submitted_at: query.createdAt,
    finished_at: query.finishedAt ?? null,
    rows: query.rows,
    bytes: query.bytes,
  }
}

/** `empty`, when given, stands for a body of nothing but white space. */
async function readJsonBody(c: Context<AppEnv>, empty?: unknown): Promise<unknown> {
  // Clients send vnd Content-Types (or none); the body is JSON whatever the header says.
  const text = await c.req.text()
  if (empty !== undefined && text.trim() === '') return empty
  try {
    return JSON.parse(text)
  } catch {
    throw new BadRequestError({ id: 'BAD_JSON' })
  }
}

function toSubmitBody(raw: unknown): SubmitBody {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new BadRequestError({ id: 'BAD_JSON' })
  }
  // Validated here, not by the route: the body is JSON whatever its Content-Type says.
  const parsed = submitSchema.safeParse(raw)
  if (!parsed.success) throw toValidationError(parsed.error)
  const body: SubmitBody = parsed.data
  if (body.sql.trim() === '') {
    throw new BadRequestError({ id: 'SQL_EMPTY' }, { errorCode: 'KE-010014004' })
  }
  return body
}

function toSubmitInput(
  body: SubmitBody,
  { format, encode }: { format: ResultFormat; encode: ResultEncoding },
): SubmitInput {
  return {
    query: {
      sql: body.sql,
      project: body.project?.trim() || 'DEFAULT',
      offset: body.offset ?? 0,
      limit: body.limit ?? 0,
      acceptPartial: body.acceptPartial ?? false,
    },
    options: {
      // Kylin 5 turns an empty separator into the default.
      separator: body.separator || ',',
      includeHeader: body.include_header ?? body.includeHeader ?? false,
      fileName: body.file_name ?? 'result',
      format,
      encode,
    },
    ...(body.reuse_max_age ? { reuseMaxAge: body.reuse_max_age } : {}),
  }
}

function parseOlderThan(text: string): number {
  const match = olderThanPattern.exec(text)
  const date = match
    ? new Date(+match[1]!, +match[2]! - 1, +match[3]!, +match[4]!, +match[5]!, +match[6]!)
    : null
  if (!date || Number.isNaN(date.getTime()) || date.getMonth() !== +match![2]! - 1) {
    throw new BadRequestError({ id: 'TIME_FORMAT_INVALID' }, { errorCode: 'KE-010031303' })
  }
  return date.getTime()
}
