/**
 * createApp(deps): the one Hono app every runtime and every test builds. Portable.
 * /kylin/api/async_query/* is served here; every other /kylin/* request passes through.
 */
import { Hono, type Context } from 'hono'
import { createAsyncQueryRoutes } from './api/async-query.ts'
import { ASYNC_QUERY_PATH } from './api/async-query-routes.ts'
import { createApiDocsRoutes, type DocsAssetSource } from './api/docs.ts'
import { createConsoleRoutes } from './console/console-routes.ts'
import { createLinkDownloadRoutes } from './api/link-download.ts'
import { createSignedLinks, hideLinkSignature } from './api/signed-link.ts'
import { toDialect } from './api/dialect.ts'
import { toRequestId } from './api/request-id.ts'
import { createPollAnswerer, toStatusPollLane, type PollAnswerer } from './api/status-poll-lane.ts'
import { toLanguage } from './i18n.ts'
import type { AppEnv } from './api/app-env.ts'
import { toCredentials, type IdentityResolver } from './identity/identity-resolver.ts'
import { createUpstreamIdentities } from './identity/upstream-identities.ts'
import { createRequestUpstreams } from './api/request-upstream.ts'
import type { AppDeps } from './deps.ts'
import { GatewayError, NotFoundError, toErrorResponse } from './errors.ts'
import { createLimiter } from './queries/limiter.ts'
import { createRoutedPassthrough } from './ops/routed-passthrough.ts'
import { createKylinClient } from './upstream/client.ts'
import { toUpstreamRouter, type UpstreamRouter } from './upstream/upstream-router.ts'
import { createQueryService } from './queries/query-service.ts'
import { createQueryWatch } from './queries/query-watch.ts'
import { createReadinessCheck } from './ops/readiness.ts'
import { createQueryRunner, type QueryRunner } from './queries/runner.ts'
import type { Exporter } from './export/export-result.ts'

/** How long an event stream may outlive the upstream time limit of its query. */
const EVENT_STREAM_MARGIN_MS = 60_000

export interface GatewayApp {
  app: Hono<AppEnv>
  /**
   * The status polls `app` answers before its router, for a server that can answer them before it
   * builds a web Request (Node); absent where the router serves them all (at debug).
   */
  answerPoll?: PollAnswerer
  /** Deletes finished results older than RESULT_RETAIN; returns how many. */
  removeExpired(): Promise<number>
  /** Shutdown, first step: submits answer 503 from now on. */
  drain(): void
  /** Shutdown, last step: stops every query still running; each ends FAILED with `reason`. */
  stopAll(reason: string): Promise<void>
  /** Queries running upstream and waiting for a slot, for health and shutdown. */
  readonly activeQueries: number
  readonly queuedQueries: number
}

export interface GatewayOptions {
  /** Where queries run; by default in this process, bounded by MAX_CONCURRENT_QUERIES. */
  runner?: QueryRunner
  /**
   * Gzip downloads on request (default true). Workers turn it off: the runtime compresses a
   * response itself whenever it carries Content-Encoding, so app-side gzip would be doubled.
   */
  compressDownloads?: boolean
  /** swagger-ui-dist's files for /docs; without them /docs points at /openapi.json instead. */
  docsAssets?: DocsAssetSource
  /**
   * Runs exports, of queries and of download-time conversions: on threads of their own on Node;
   * `exportResult`, in this thread, by default.
   */
  exporter?: Exporter
  /**
   * Whether `?follow=1` streams a RUNNING result before it is whole (default true). Workers turn it
   * off: workerd ends a response whose body errors as if it were whole (workerd#6818), so there a
   * follower waits for the end and gets the whole download with its Content-Length.
   */
  followLive?: boolean
}

/** The router of `deps`, or one built from the settings over `deps.fetch`. */
function toAppUpstreams(deps: AppDeps): UpstreamRouter {
  return (
    deps.upstreams ??
    toUpstreamRouter(deps.config.upstreams, deps.kylin, (baseUrl) =>
      createKylinClient({ baseUrl, fetch: deps.fetch }),
    )
  )
}

export function createGateway(appDeps: AppDeps, options: GatewayOptions = {}): GatewayApp {
  const upstreams = toAppUpstreams(appDeps)
  const deps: AppDeps = { ...appDeps, upstreams }
  const limiter = createLimiter(deps.config.maxConcurrentQueries, deps.config.maxConcurrentPerUser)
  const runner =
    options.runner ?? createQueryRunner({ ...deps, exporter: options.exporter }, limiter)
  const queries = createQueryService(deps, runner)
  // One identity cache per upstream: a user is who the upstream that runs the query says.
  const identitiesOf = createUpstreamIdentities(upstreams, {
    ttlMs: deps.config.authCacheTtlMs,
    createHash: deps.createHash,
    hashText: deps.hashText,
    metrics: deps.metrics,
  })
  const identities = identitiesOf(upstreams.default)
  const requestUpstreams = createRequestUpstreams({
    upstreams,
    registry: deps.registry,
    maxBodyBytes: deps.config.maxBodyBytes,
  })
  const links = deps.config.links
  const signer = links && createSignedLinks({ keys: links.credentials, now: deps.now })
  const passthrough = createRoutedPassthrough({
    upstreams,
    fetch: deps.fetch,
    logger: deps.logger,
  })

  const app = new Hono<AppEnv>()
  // The access log is at debug: a line per status poll would cost more than the poll itself.
  const accessLog = deps.logger.isLevelEnabled?.('debug') ?? true

  app.use(async (c, next) => {
    const requestId = toRequestId(c.req.header('x-request-id'))
    c.set('requestId', requestId)
    c.header('X-Request-Id', requestId)
    c.set('lang', toLanguage(c.req.header('accept-language')))
    c.set('dialect', toDialect(c.req.header('accept')))
    if (!accessLog) return next()
    const started = deps.now()
    await next()
    // Path only: query strings may carry SQL, and SQL text is never logged; nor link signatures.
    deps.logger.debug(
      {
        requestId,
        method: c.req.method,
        path: hideLinkSignature(c.req.path),
        status: c.res.status,
        ms: deps.now() - started,
      },
      'request',
    )
  })

  app.onError((error, c) => {
    const reply = toErrorResponse(error, {
      lang: c.get('lang') ?? toLanguage(c.req.header('accept-language')),
      url: hideLinkSignature(c.req.url),
      requestId: c.get('requestId') ?? '',
    })
    if (reply.status >= 500) {
      deps.logger.error({ err: error, requestId: c.get('requestId') }, 'request failed')
    }
    const dialect = c.get('dialect') ?? toDialect(c.req.header('accept'))
    return c.body(JSON.stringify(reply.body), reply.status, {
      ...reply.headers,
      'Content-Type': dialect.contentType,
    })
  })

  app.notFound((c) => {
    throw new NotFoundError({ id: 'NOT_FOUND_ROUTE', args: [c.req.method, c.req.path] })
  })

  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.route('/', createApiDocsRoutes({ assets: options.docsAssets }))
  app.route('/', createConsoleRoutes({ links: Boolean(signer) }))

  const readiness = createReadinessCheck({
    upstreamUrl: upstreams.default.url,
    upstreams: upstreams.all,
    fetch: deps.upstreamCheckFetch ?? deps.fetch,
    store: deps.store,
    now: deps.now,
  })
  app.get('/readyz', async (c) => {
    const { ready, checks } = await readiness.check()
    return c.json({ status: ready ? 'ready' : 'not ready', checks }, ready ? 200 : 503)
  })

  const dispatch = app.fetch
  // Status polls, by far the most frequent request, skip the router where they can (at debug the
  // router serves them too, since it writes the access log).
  const answerPoll = accessLog
    ? undefined
    : createPollAnswerer({
        identities,
        queries,
        metrics: deps.metrics,
        // Routed: the poll's credentials are checked with the upstream its record names.
        ...(upstreams.routed ? { identitiesOf: identitiesOfRecordNow } : {}),
      })
  const pollLane = answerPoll && toStatusPollLane(answerPoll)
  app.fetch = (request, ...rest) => {
    const polled = pollLane?.(request)
    if (polled) return polled
    // Hono's router looks methods up in plain objects, so a method named like an Object.prototype
    // member ("constructor", "toString") would throw before any middleware runs: answer 405 first.
    if (!Object.hasOwn(Object.prototype, request.method)) return dispatch(request, ...rest)
    const reply = toErrorResponse(
      new GatewayError(405, {
        id: 'NOT_FOUND_ROUTE',
        args: [request.method, new URL(request.url).pathname],
      }),
      {
        lang: toLanguage(request.headers.get('accept-language')),
        url: hideLinkSignature(request.url),
        requestId: '',
      },
    )
    return Response.json(reply.body, { status: reply.status })
  }

  const compressDownloads = options.compressDownloads ?? true
  // Before authentication, so that this route alone answers without credentials.
  app.route(
    ASYNC_QUERY_PATH,
    createLinkDownloadRoutes({
      signer,
      queries,
      store: deps.store,
      compressDownloads,
      metrics: deps.metrics,
      exporter: options.exporter,
      sendStoredFile: deps.sendStoredFile,
    }),
  )
  app.use(ASYNC_QUERY_PATH, authenticate)
  app.use(`${ASYNC_QUERY_PATH}/*`, authenticate)
  app.route(
    ASYNC_QUERY_PATH,
    createAsyncQueryRoutes({
      queries,
      watch: createQueryWatch(deps),
      // A query ends within its upstream time limit (its wait for a slot aside); the margin covers
      // the end of its export. A client that still wants more reconnects with Last-Event-ID.
      maxEventStreamMs: deps.config.upstreamTimeoutMs + EVENT_STREAM_MARGIN_MS,
      store: deps.store,
      maxBodyBytes: deps.config.maxBodyBytes,
      compressDownloads,
      metrics: deps.metrics,
      exporter: options.exporter,
      sendStoredFile: deps.sendStoredFile,
      webhooks: deps.config.webhooks,
      links: signer && links && { signer, maxTtlSeconds: links.maxTtlSeconds },
      publicUrl: deps.config.publicUrl,
      followLive: options.followLive ?? true,
    }),
  )

  app.all('/kylin/*', (c) => passthrough(c.req.raw))

  function authenticate(c: Context<AppEnv>, next: () => Promise<void>) {
    if (upstreams.routed) return authenticateRouted(c, next)
    return authenticateWith(identities, c, next)
  }

  function authenticateWith(
    resolver: IdentityResolver,
    c: Context<AppEnv>,
    next: () => Promise<void>,
  ) {
    const credentials = toCredentials(c.req.raw.headers)
    c.set('credentials', credentials)
    const known = resolver.peek(credentials)
    if (known) {
      c.set('identity', known)
      return next()
    }
    return resolver.resolve(credentials).then((identity) => {
      c.set('identity', identity)
      return next()
    })
  }

  async function authenticateRouted(c: Context<AppEnv>, next: () => Promise<void>) {
    return authenticateWith(identitiesOf(await requestUpstreams.of(c)), c, next)
  }

  /** The identities of the upstream a record held in this process names; else `undefined`. */
  function identitiesOfRecordNow(id: string): IdentityResolver | undefined {
    const upstream = requestUpstreams.ofRecordNow(id)
    return upstream && identitiesOf(upstream)
  }

  return {
    app,
    ...(answerPoll ? { answerPoll } : {}),
    drain: () => queries.drain(),
    removeExpired: () => {
      const cutoff = deps.now() - deps.config.resultRetainMs
      return queries.removeAll(
        (r) => r.state !== 'RUNNING' && (r.finishedAt ?? r.updatedAt) < cutoff,
      )
    },
    stopAll: (reason) => runner.abortAll(reason),
    get activeQueries() {
      return runner.active
    },
    get queuedQueries() {
      return runner.queued
    },
  }
}

/** The app alone, for callers that need no runtime handles. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  return createGateway(deps).app
}
