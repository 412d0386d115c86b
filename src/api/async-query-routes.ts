/**
 * Every route of /kylin/api/async_query, declared once: the router serves these declarations
 * (async-query.ts) and the OpenAPI document is generated from them (openapi.ts). Portable.
 */
import { createRoute } from '@hono/zod-openapi'
import { z } from 'zod'
import {
  byDialect,
  DIALECT_MEDIA_TYPES,
  DOWNLOAD_PARAMS,
  downloadResponses,
  errors,
  ID_PARAMS,
  jsonAnswer,
  LINK_DOWNLOAD_ERRORS,
  LINK_DOWNLOAD_PARAMS,
  param,
  QUERY_ERRORS,
  schemaRef,
  toParameterSchema,
} from './openapi-components.ts'
import {
  idempotencyKeySchema,
  listQuerySchema,
  olderThanSchema,
  shadowReportQuerySchema,
} from './schemas.ts'

/** Where app.ts mounts the router; the paths declared here are relative to it. */
export const ASYNC_QUERY_PATH = '/kylin/api/async_query'

const tags = ['Async query']

const DOWNLOAD_NOTE =
  'Streams the result in the form written at submit (csv: UTF-8 or GBK, no BOM, `\\n` after ' +
  "every row; json: Kylin 5's array of row strings; xlsx: sheet `query_result`, typed cells; " +
  'parquet and arrow: typed columns; ndjson: one typed object a line) with Content-Length, a ' +
  'strong ETag, `Repr-Digest: sha-256=:…:` (RFC 9530, the SHA-256 the status also gives; not on a ' +
  'gzipped answer), single byte ranges (206 / 416), If-None-Match (304), If-Range and gzip on ' +
  'request. `format`, `encode` or `include_header` asking for another form convert a result ' +
  'written as csv on the fly: streamed, with `Accept-Ranges: none`, no Content-Length, no ' +
  'digest and a weak ETag. The query must be SUCCESSFUL, or RUNNING with `follow=1`: then the ' +
  'result streams as it is written and the connection is reset unless the query succeeds.'

const submit = createRoute({
  method: 'post',
  path: '/',
  tags,
  operationId: 'submitQuery',
  summary: 'Submit a query',
  description:
    'Validates the body, starts the query in the background and answers at once with ' +
    'its id and RUNNING. The body is read as JSON whatever `Content-Type` says.',
  request: {
    headers: z.object({ 'Idempotency-Key': idempotencyKeySchema.optional() }),
    // A schema reference, not the zod schema itself: the library would then parse the body only
    // under a JSON Content-Type and refuse others, where Kylin reads JSON whatever it says.
    body: {
      required: true,
      content: Object.fromEntries(
        DIALECT_MEDIA_TYPES.map((type) => [type, { schema: schemaRef('SubmitRequest') }]),
      ),
    },
  },
  responses: {
    '200': jsonAnswer(
      'The query id and RUNNING (or, for a repeated Idempotency-Key, where that query is); ' +
        "for a `format` the gateway does not write, Kylin 5's `KE-020040001` envelope with a " +
        'FAILED `data` and no query started',
      'SubmitEnvelope',
      'SubmitEnvelopeV4',
    ),
    ...errors({
      '400': 'BadRequest',
      '401': 'Unauthorized',
      '409': 'IdempotencyConflict',
      '413': 'PayloadTooLarge',
      '429': 'TooManyQueries',
      '502': 'UpstreamUnavailable',
      '503': 'ShuttingDown',
    }),
  },
})

const list = createRoute({
  method: 'get',
  path: '/',
  tags,
  operationId: 'listQueries',
  summary: 'List your queries, newest first',
  description:
    'Id, status, project, owner, submit and end times (ms since the epoch), rows and bytes of ' +
    "the caller's queries (an admin's: everyone's, or one `user`'s), newest first, a page at a " +
    'time: pass `next_cursor` as `cursor` for the next. New queries never shift a page that ' +
    'follows a cursor. Never any SQL.',
  request: { query: listQuerySchema },
  responses: {
    '200': jsonAnswer('A page of queries', 'ListEnvelope', 'ListEnvelopeV4'),
    ...errors({
      '400': 'BadRequest',
      '401': 'Unauthorized',
      '403': 'Forbidden',
      '502': 'UpstreamUnavailable',
    }),
  },
})

const deleteAll = createRoute({
  method: 'delete',
  path: '/',
  tags,
  operationId: 'deleteQueries',
  summary: 'Delete every result (admins)',
  description:
    'Without parameters removes every query and result; with both `project` and ' +
    "`older_than`, only that project's queries submitted before then. One alone answers 400.",
  // Checked by the handler, after the admin check, so that a non-admin learns nothing more.
  parameters: [
    {
      name: 'project',
      in: 'query',
      required: false,
      description: 'Only this project (needs `older_than` too)',
      schema: { type: 'string' },
    },
    { name: 'older_than', in: 'query', required: false, ...toParameterSchema(olderThanSchema) },
  ],
  responses: {
    '200': jsonAnswer('Deleted', 'DeletedEnvelope'),
    ...errors({
      '400': 'BadRequest',
      '401': 'Unauthorized',
      '403': 'Forbidden',
      '502': 'UpstreamUnavailable',
    }),
  },
})

const shadowReport = createRoute({
  method: 'get',
  path: '/shadow_report',
  tags,
  operationId: 'getShadowReport',
  summary: 'Mismatches of shadow runs (admins)',
  description:
    'With KYLIN_SHADOW_URL set, sampled queries run again on the new cluster and their results ' +
    'are compared. This lists the shadow runs that ended in the last `hours` whose answer ' +
    'differed (or that failed where the primary answered), newest first: query id, project, ' +
    'user, a SHA-256 of the SQL, both row counts and the first difference. Never a row or the SQL.',
  request: { query: shadowReportQuerySchema },
  responses: {
    '200': jsonAnswer('The report', 'ShadowReportEnvelope'),
    ...errors({
      '400': 'BadRequest',
      '401': 'Unauthorized',
      '403': 'Forbidden',
      '502': 'UpstreamUnavailable',
    }),
  },
})

const status = createRoute({
  method: 'get',
  path: '/{id}/status',
  tags,
  operationId: 'getQueryStatus',
  summary: 'Status of a query',
  description:
    'RUNNING (with rows and bytes written so far), SUCCESSFUL, FAILED (with the reason) or ' +
    'MISSING for an unknown id. With `wait` (or `Prefer: wait=<seconds>`) a RUNNING query is ' +
    'answered as soon as it ends, or RUNNING when the wait is over: one call instead of a ' +
    'polling loop.',
  parameters: [...ID_PARAMS, param('Wait'), param('Prefer')],
  responses: {
    '200': jsonAnswer(
      'The status; after a `Prefer: wait`, with `Preference-Applied: wait=<seconds>` (capped at 60)',
      'StatusEnvelope',
      'StatusEnvelopeV4',
    ),
    ...errors({
      '400': 'BadRequest',
      '401': 'Unauthorized',
      '403': 'Forbidden',
      '429': 'TooManyWatchers',
      '502': 'UpstreamUnavailable',
    }),
  },
})

const events = createRoute({
  method: 'get',
  path: '/{id}/events',
  tags,
  operationId: 'getQueryEvents',
  summary: 'Live events of a query (Server-Sent Events)',
  description:
    'A `text/event-stream` of events named `status`, whose data is JSON: `status`, `rows` and ' +
    '`bytes` so far; the last one also `info`, and `sha256` when SUCCESSFUL (`MISSING` if the ' +
    'query is deleted meanwhile). One at each change, at most one a second while RUNNING, the ' +
    'last when the query ends, then the stream closes. Each event has an `id:`; a reconnect ' +
    'with `Last-Event-ID` goes on from there without repeating an event. `: ping` comments ' +
    'every 15 s keep proxies from closing an idle stream; a stream stays open at most ' +
    'UPSTREAM_TIMEOUT_MS and a minute.',
  parameters: [...ID_PARAMS, param('LastEventId')],
  responses: {
    '200': {
      description: 'The event stream',
      content: { 'text/event-stream': { schema: { type: 'string' } } },
    },
    ...errors({
      '401': 'Unauthorized',
      '403': 'Forbidden',
      '404': 'NotFound',
      '429': 'TooManyWatchers',
      '502': 'UpstreamUnavailable',
    }),
  },
})

const metadata = createRoute({
  method: 'get',
  path: '/{id}/metadata',
  tags,
  operationId: 'getQueryMetadata',
  summary: 'Column names and types of a result',
  parameters: ID_PARAMS,
  responses: {
    '200': jsonAnswer('`[[names…], [types…]]`', 'MetadataEnvelope'),
    ...QUERY_ERRORS,
  },
})

/** KAP v2 spells it `filestatus`, Kylin 5 `file_status`: both are served. */
const toFileStatus = (segment: string, operationId: string, spelling: string) =>
  createRoute({
    method: 'get',
    path: `/{id}/${segment}`,
    tags,
    operationId,
    summary: `Size of a result in bytes (${spelling})`,
    parameters: ID_PARAMS,
    responses: {
      '200': jsonAnswer('The CSV size in bytes', 'FileStatusEnvelope'),
      ...QUERY_ERRORS,
    },
  })

const result = createRoute({
  method: 'get',
  path: '/{id}/result',
  tags,
  operationId: 'getQueryResult',
  summary: 'Download the result',
  description: `${DOWNLOAD_NOTE} Always named \`result.<format>\`; CSV as \`text/csv\`.`,
  parameters: DOWNLOAD_PARAMS,
  responses: downloadResponses(['text/csv'], true),
})

const resultDownload = createRoute({
  method: 'get',
  path: '/{id}/result_download',
  tags,
  operationId: 'downloadQueryResult',
  summary: 'Download the result as a file',
  description:
    `${DOWNLOAD_NOTE} Named \`<file_name>.<format>\` from the submit; CSV as \`text/csv\` ` +
    "for the legacy dialects, `application/csv` for Kylin 5's. Kylin 5 answers 400 to a " +
    'header choice here; the gateway converts.',
  parameters: DOWNLOAD_PARAMS,
  responses: {
    ...downloadResponses(['text/csv', 'application/csv'], true),
    '400': { $ref: '#/components/responses/BadRequest' },
  },
})

const resultPath = createRoute({
  method: 'get',
  path: '/{id}/result_path',
  tags,
  operationId: 'getQueryResultPath',
  summary: 'Where the result is stored',
  parameters: ID_PARAMS,
  responses: {
    '200': jsonAnswer('The store location', 'ResultPathEnvelope'),
    ...QUERY_ERRORS,
  },
})

const deleteQuery = createRoute({
  method: 'delete',
  path: '/{id}',
  tags,
  operationId: 'deleteQuery',
  summary: 'Delete a query and its result',
  description: 'Its submitter or an admin; a running query is stopped first.',
  parameters: ID_PARAMS,
  responses: {
    '200': jsonAnswer('Deleted', 'DeletedEnvelope'),
    ...QUERY_ERRORS,
  },
})

const stop = createRoute({
  method: 'delete',
  path: '/stop/{id}',
  tags,
  operationId: 'stopQuery',
  summary: 'Stop a running query',
  description:
    'Answers at once; the query then ends FAILED with "The query was stopped by <user> ' +
    'before it finished.". A query that is not running answers 409.',
  parameters: ID_PARAMS,
  responses: {
    '200': { description: 'Stopping', content: byDialect('StopEnvelope') },
    ...errors({
      '401': 'Unauthorized',
      '403': 'Forbidden',
      '404': 'NotFound',
      '409': 'NotRunning',
      '502': 'UpstreamUnavailable',
    }),
  },
})

const createLink = createRoute({
  method: 'post',
  path: '/{id}/link',
  tags,
  operationId: 'createQueryLink',
  summary: 'A signed link to the result, for downloads without credentials',
  description:
    'Its submitter or an admin, of a SUCCESSFUL query (else the 404 a download gives). Answers ' +
    'a URL that downloads the result with no credentials (browsers, BI tools, `curl`) until ' +
    '`expires_at`: GET and HEAD, with ranges, ETag and `Repr-Digest` as `/{id}/result`. `ttl` ' +
    'is in seconds; `format`, `encode` and `include_header` fix the form it downloads, as on a ' +
    'download, and are signed with the rest, so the link serves that form and no other. The URL ' +
    "starts with PUBLIC_URL, else with this request's own origin. Needs LINK_SECRET; an empty " +
    'body takes the defaults.',
  parameters: ID_PARAMS,
  request: {
    body: {
      required: false,
      content: Object.fromEntries(
        DIALECT_MEDIA_TYPES.map((type) => [type, { schema: schemaRef('LinkRequest') }]),
      ),
    },
  },
  responses: {
    '200': jsonAnswer('The link and when it expires', 'LinkEnvelope'),
    ...errors({
      '400': 'BadRequest',
      '401': 'Unauthorized',
      '403': 'Forbidden',
      '404': 'NotFound',
      '413': 'PayloadTooLarge',
      '501': 'LinksOff',
      '502': 'UpstreamUnavailable',
    }),
  },
})

const LINK_DOWNLOAD_NOTE =
  'No credentials: the signature in the path stands for them. The download of `/{id}/result` ' +
  '(Range, If-Range, HEAD, ETag, 304, `Repr-Digest`, gzip on request), named as the submit ' +
  'named the file. A link whose id, expiry, signature or query string was changed, or that was ' +
  'signed with a key the gateway no longer has, answers 403; one past its expiry 410; one to a ' +
  'deleted result 404.'

const linkDownload = createRoute({
  method: 'get',
  path: '/link/{id}/{expires}/{signature}',
  tags,
  operationId: 'downloadByLink',
  summary: 'Download the result by a signed link',
  description: LINK_DOWNLOAD_NOTE,
  security: [],
  parameters: LINK_DOWNLOAD_PARAMS,
  responses: downloadResponses(['text/csv', 'application/csv'], true, LINK_DOWNLOAD_ERRORS),
})

/** Served by the router, each by its own handler. */
export const ASYNC_QUERY_ROUTES = {
  submit,
  list,
  deleteAll,
  shadowReport,
  status,
  events,
  metadata,
  fileStatus: toFileStatus('filestatus', 'getQueryFileStatus', 'KAP v2 spelling'),
  fileStatusV4: toFileStatus('file_status', 'getQueryFileStatusV4', 'Kylin 5 spelling'),
  result,
  resultDownload,
  resultPath,
  deleteQuery,
  stop,
  createLink,
  linkDownload,
}

/** HEAD of a download: Hono answers it with the GET route, so it is described, not routed. */
export const ASYNC_QUERY_HEAD_ROUTES = [
  createRoute({
    method: 'head',
    path: result.path,
    tags,
    operationId: 'headQueryResult',
    summary: 'Headers of the result download (size, ETag) without the body',
    parameters: DOWNLOAD_PARAMS,
    responses: downloadResponses(['text/csv'], false),
  }),
  createRoute({
    method: 'head',
    path: resultDownload.path,
    tags,
    operationId: 'headQueryResultDownload',
    summary: 'Headers of the file download (size, ETag, name) without the body',
    parameters: DOWNLOAD_PARAMS,
    responses: downloadResponses(['text/csv', 'application/csv'], false),
  }),
  createRoute({
    method: 'head',
    path: linkDownload.path,
    tags,
    operationId: 'headByLink',
    summary: 'Headers of a download by a signed link (size, ETag, name) without the body',
    security: [],
    parameters: LINK_DOWNLOAD_PARAMS,
    responses: downloadResponses(['text/csv', 'application/csv'], false, LINK_DOWNLOAD_ERRORS),
  }),
]
