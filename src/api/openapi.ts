/**
 * The OpenAPI 3.1 document of the async query API, generated from the zod schemas that validate
 * requests (schemas.ts) and describe answers (responses.ts). Portable; served at /openapi.json.
 */
import { z } from 'zod'
import { MEDIA_V2, MEDIA_V4, MEDIA_V4_PUBLIC } from './dialect.ts'
import {
  deletedAnswerSchema,
  errorEnvelopeSchema,
  fileStatusAnswerSchema,
  legacyStatusAnswerSchema,
  legacySubmitAnswerSchema,
  metadataAnswerSchema,
  queryStatusSchema,
  resultPathAnswerSchema,
  stopEnvelopeSchema,
  toEnvelopeSchema,
  v4StatusAnswerSchema,
  v4SubmitAnswerSchema,
} from './responses.ts'
import { idempotencyKeySchema, olderThanSchema, submitSchema } from './schemas.ts'

export const ASYNC_QUERY_PATH = '/kylin/api/async_query'

/** Media types of the legacy dialect (`queryID`) and of Kylin 5's (`query_id`); see dialect.ts. */
const LEGACY_MEDIA_TYPES = ['application/json', MEDIA_V2] as const
const V4_MEDIA_TYPES = [MEDIA_V4_PUBLIC, MEDIA_V4] as const

type JsonSchema = Record<string, unknown>
type Operation = Record<string, unknown>

export interface OpenApiDocument {
  openapi: '3.1.0'
  info: { title: string; version: string; description: string }
  tags: { name: string; description: string }[]
  security: Record<string, string[]>[]
  paths: Record<string, Record<string, Operation>>
  components: {
    schemas: Record<string, JsonSchema>
    responses: Record<string, unknown>
    parameters: Record<string, unknown>
    securitySchemes: Record<string, unknown>
  }
}

/** Every named schema; an answer that differs by dialect has one per dialect. */
const NAMED_SCHEMAS = {
  SubmitRequest: submitSchema,
  QueryStatus: queryStatusSchema,
  SubmitAnswer: legacySubmitAnswerSchema,
  SubmitAnswerV4: v4SubmitAnswerSchema,
  StatusAnswer: legacyStatusAnswerSchema,
  StatusAnswerV4: v4StatusAnswerSchema,
  SubmitEnvelope: toEnvelopeSchema(legacySubmitAnswerSchema),
  SubmitEnvelopeV4: toEnvelopeSchema(v4SubmitAnswerSchema),
  StatusEnvelope: toEnvelopeSchema(legacyStatusAnswerSchema),
  StatusEnvelopeV4: toEnvelopeSchema(v4StatusAnswerSchema),
  MetadataEnvelope: toEnvelopeSchema(metadataAnswerSchema),
  FileStatusEnvelope: toEnvelopeSchema(fileStatusAnswerSchema),
  ResultPathEnvelope: toEnvelopeSchema(resultPathAnswerSchema),
  DeletedEnvelope: toEnvelopeSchema(deletedAnswerSchema),
  StopEnvelope: stopEnvelopeSchema,
  ErrorEnvelope: errorEnvelopeSchema,
} satisfies Record<string, z.ZodType>

type SchemaName = keyof typeof NAMED_SCHEMAS

function toComponentSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>()
  for (const [id, schema] of Object.entries(NAMED_SCHEMAS)) registry.add(schema, { id })
  // Requests are described as clients may send them (strings for numbers and flags included).
  const { schemas } = z.toJSONSchema(registry, {
    io: 'input',
    uri: (id) => `#/components/schemas/${id}`,
  })
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      const { $schema: _dialect, $id: _id, ...rest } = schema as JsonSchema
      return [id, rest]
    }),
  )
}

const ref = (name: SchemaName) => ({ $ref: `#/components/schemas/${name}` })

/** The same answer under every dialect's media type, as `Accept` chooses. */
function byDialect(legacy: SchemaName, v4: SchemaName = legacy) {
  return Object.fromEntries([
    ...LEGACY_MEDIA_TYPES.map((type) => [type, { schema: ref(legacy) }]),
    ...V4_MEDIA_TYPES.map((type) => [type, { schema: ref(v4) }]),
  ])
}

function jsonAnswer(description: string, legacy: SchemaName, v4?: SchemaName) {
  return { description, content: byDialect(legacy, v4) }
}

const errorAnswer = (description: string, headers?: Record<string, unknown>) => ({
  description,
  ...(headers ? { headers } : {}),
  content: byDialect('ErrorEnvelope'),
})

const header = (description: string, schema: JsonSchema = { type: 'string' }) => ({
  description,
  schema,
})

const RETRY_AFTER = { 'Retry-After': header('Seconds to wait', { type: 'integer' }) }

const ERROR_RESPONSES = {
  BadRequest: errorAnswer('The request is malformed; `msg` says what is wrong'),
  Unauthorized: errorAnswer('No or bad Kylin credentials', {
    'WWW-Authenticate': header('Basic realm="Kylin"'),
  }),
  Forbidden: errorAnswer(
    'Not your query (only its submitter or an admin may see it), or an admin-only call',
  ),
  NotFound: errorAnswer('No such query, not in `project`, or not SUCCESSFUL yet'),
  RangeNotSatisfiable: errorAnswer('The range starts past the end of the result', {
    'Content-Range': header('`bytes */<size>`'),
  }),
  TooManyQueries: errorAnswer('Too many queries queued; try again later', RETRY_AFTER),
  ShuttingDown: errorAnswer('The gateway is shutting down; try again later', RETRY_AFTER),
  IdempotencyConflict: errorAnswer('This Idempotency-Key was used for a different request'),
  NotRunning: errorAnswer('The query is not running (`data`: "Query is not running")'),
  PayloadTooLarge: errorAnswer('The body is larger than MAX_BODY_BYTES'),
  UpstreamUnavailable: errorAnswer('Kylin could not be reached to check the credentials'),
  Error: errorAnswer('Any other error, always in this envelope'),
}

type ErrorName = keyof typeof ERROR_RESPONSES
const errors = (statuses: Partial<Record<string, ErrorName>>) =>
  Object.fromEntries([
    ...Object.entries(statuses).map(([status, name]) => [
      status,
      { $ref: `#/components/responses/${name}` },
    ]),
    ['default', { $ref: '#/components/responses/Error' }],
  ])

const PARAMETERS = {
  QueryId: {
    name: 'id',
    in: 'path',
    required: true,
    description: 'The query id a submit answered',
    schema: { type: 'string' },
  },
  Project: {
    name: 'project',
    in: 'query',
    required: false,
    description: 'Optional: when given, a query of another project counts as unknown',
    schema: { type: 'string' },
  },
  Range: {
    name: 'Range',
    in: 'header',
    required: false,
    description: 'One byte range, e.g. `bytes=0-1023` or `bytes=-500`; several ranges get 200',
    schema: { type: 'string' },
  },
  IfRange: {
    name: 'If-Range',
    in: 'header',
    required: false,
    description: 'An ETag or Last-Modified: the range applies only if the result still matches',
    schema: { type: 'string' },
  },
  IfNoneMatch: {
    name: 'If-None-Match',
    in: 'header',
    required: false,
    description: 'An ETag from an earlier download: 304 if it still matches',
    schema: { type: 'string' },
  },
  AcceptEncoding: {
    name: 'Accept-Encoding',
    in: 'header',
    required: false,
    description: '`gzip` compresses the download on the fly (Node; Workers leave it to the edge)',
    schema: { type: 'string' },
  },
}

const param = (name: keyof typeof PARAMETERS) => ({ $ref: `#/components/parameters/${name}` })
const ID_PARAMS = [param('QueryId'), param('Project')]
const DOWNLOAD_PARAMS = [
  ...ID_PARAMS,
  param('Range'),
  param('IfRange'),
  param('IfNoneMatch'),
  param('AcceptEncoding'),
]

const DOWNLOAD_HEADERS = {
  'Content-Disposition': header('`attachment; filename="…"` (RFC 5987 `filename*` if not ASCII)'),
  'Content-Length': header('Bytes in this response', { type: 'integer' }),
  ETag: header('Strong validator of the result (a different one when gzipped)'),
  'Last-Modified': header('When the query finished'),
  'Accept-Ranges': header('`bytes`'),
  'Content-Encoding': header('`gzip` when the client asked for it'),
}

function downloadResponses(csvTypes: string[], withBody: boolean) {
  const csv = withBody
    ? {
        content: Object.fromEntries(
          csvTypes.map((type) => [type, { schema: { type: 'string', format: 'binary' } }]),
        ),
      }
    : {}
  return {
    '200': { description: 'The whole CSV result', headers: DOWNLOAD_HEADERS, ...csv },
    '206': {
      description: 'The requested byte range',
      headers: {
        ...DOWNLOAD_HEADERS,
        'Content-Range': header('`bytes <first>-<last>/<size>`'),
      },
      ...csv,
    },
    '304': { description: 'Not modified: `If-None-Match` matched the ETag' },
    ...errors({
      '401': 'Unauthorized',
      '403': 'Forbidden',
      '404': 'NotFound',
      '416': 'RangeNotSatisfiable',
      '502': 'UpstreamUnavailable',
    }),
  }
}

const DOWNLOAD_NOTE =
  'Streams the CSV (UTF-8, no BOM, `\\n` after every row) with Content-Length, a strong ETag, ' +
  'single byte ranges (206 / 416), If-None-Match (304), If-Range and gzip on request. ' +
  'The query must be SUCCESSFUL.'

function toPaths(): OpenApiDocument['paths'] {
  const base = ASYNC_QUERY_PATH
  const tags = ['Async query']
  const resultDownload = {
    summary: 'Download the result as a file',
    description:
      `${DOWNLOAD_NOTE} Named \`<file_name>.csv\` from the submit; \`text/csv\` for the ` +
      "legacy dialects, `application/csv` for Kylin 5's. `includeHeader` here answers 400: " +
      'as in Kylin 5, the header row is chosen at submit.',
  }
  const result = {
    summary: 'Download the result',
    description: `${DOWNLOAD_NOTE} Always \`result.csv\`, \`text/csv\`.`,
  }
  return {
    [base]: {
      post: {
        tags,
        operationId: 'submitQuery',
        summary: 'Submit a query',
        description:
          'Validates the body, starts the query in the background and answers at once with ' +
          'its id and RUNNING. The body is read as JSON whatever `Content-Type` says.',
        parameters: [
          {
            name: 'Idempotency-Key',
            in: 'header',
            required: false,
            ...toParameterSchema(idempotencyKeySchema),
          },
        ],
        requestBody: {
          required: true,
          content: Object.fromEntries(
            [...LEGACY_MEDIA_TYPES, ...V4_MEDIA_TYPES].map((type) => [
              type,
              { schema: ref('SubmitRequest') },
            ]),
          ),
        },
        responses: {
          '200': jsonAnswer(
            'The query id and RUNNING (or, for a repeated Idempotency-Key, where that query is)',
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
      },
      delete: {
        tags,
        operationId: 'deleteQueries',
        summary: 'Delete every result (admins)',
        description:
          'Without parameters removes every query and result; with both `project` and ' +
          "`older_than`, only that project's queries submitted before then. One alone answers 400.",
        parameters: [
          {
            name: 'project',
            in: 'query',
            required: false,
            description: 'Only this project (needs `older_than` too)',
            schema: { type: 'string' },
          },
          {
            name: 'older_than',
            in: 'query',
            required: false,
            ...toParameterSchema(olderThanSchema),
          },
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
      },
    },
    [`${base}/{id}/status`]: {
      get: {
        tags,
        operationId: 'getQueryStatus',
        summary: 'Status of a query',
        description:
          'RUNNING (with rows and bytes written so far), SUCCESSFUL, FAILED (with the reason) or ' +
          'MISSING for an unknown id.',
        parameters: ID_PARAMS,
        responses: {
          '200': jsonAnswer('The status', 'StatusEnvelope', 'StatusEnvelopeV4'),
          ...errors({ '401': 'Unauthorized', '403': 'Forbidden', '502': 'UpstreamUnavailable' }),
        },
      },
    },
    [`${base}/{id}/metadata`]: {
      get: {
        tags,
        operationId: 'getQueryMetadata',
        summary: 'Column names and types of a result',
        parameters: ID_PARAMS,
        responses: {
          '200': jsonAnswer('`[[names…], [types…]]`', 'MetadataEnvelope'),
          ...errors({
            '401': 'Unauthorized',
            '403': 'Forbidden',
            '404': 'NotFound',
            '502': 'UpstreamUnavailable',
          }),
        },
      },
    },
    ...Object.fromEntries(
      [
        ['filestatus', 'getQueryFileStatus', 'KAP v2 spelling'],
        ['file_status', 'getQueryFileStatusV4', 'Kylin 5 spelling'],
      ].map(([segment, operationId, spelling]) => [
        `${base}/{id}/${segment}`,
        {
          get: {
            tags,
            operationId,
            summary: `Size of a result in bytes (${spelling})`,
            parameters: ID_PARAMS,
            responses: {
              '200': jsonAnswer('The CSV size in bytes', 'FileStatusEnvelope'),
              ...errors({
                '401': 'Unauthorized',
                '403': 'Forbidden',
                '404': 'NotFound',
                '502': 'UpstreamUnavailable',
              }),
            },
          },
        },
      ]),
    ),
    [`${base}/{id}/result`]: {
      get: {
        tags,
        operationId: 'getQueryResult',
        ...result,
        parameters: DOWNLOAD_PARAMS,
        responses: downloadResponses(['text/csv'], true),
      },
      head: {
        tags,
        operationId: 'headQueryResult',
        summary: 'Headers of the result download (size, ETag) without the body',
        parameters: DOWNLOAD_PARAMS,
        responses: downloadResponses(['text/csv'], false),
      },
    },
    [`${base}/{id}/result_download`]: {
      get: {
        tags,
        operationId: 'downloadQueryResult',
        ...resultDownload,
        parameters: DOWNLOAD_PARAMS,
        responses: {
          ...downloadResponses(['text/csv', 'application/csv'], true),
          '400': { $ref: '#/components/responses/BadRequest' },
        },
      },
      head: {
        tags,
        operationId: 'headQueryResultDownload',
        summary: 'Headers of the file download (size, ETag, name) without the body',
        parameters: DOWNLOAD_PARAMS,
        responses: downloadResponses(['text/csv', 'application/csv'], false),
      },
    },
    [`${base}/{id}/result_path`]: {
      get: {
        tags,
        operationId: 'getQueryResultPath',
        summary: 'Where the result is stored',
        parameters: ID_PARAMS,
        responses: {
          '200': jsonAnswer('The store location', 'ResultPathEnvelope'),
          ...errors({
            '401': 'Unauthorized',
            '403': 'Forbidden',
            '404': 'NotFound',
            '502': 'UpstreamUnavailable',
          }),
        },
      },
    },
    [`${base}/{id}`]: {
      delete: {
        tags,
        operationId: 'deleteQuery',
        summary: 'Delete a query and its result',
        description: 'Its submitter or an admin; a running query is stopped first.',
        parameters: ID_PARAMS,
        responses: {
          '200': jsonAnswer('Deleted', 'DeletedEnvelope'),
          ...errors({
            '401': 'Unauthorized',
            '403': 'Forbidden',
            '404': 'NotFound',
            '502': 'UpstreamUnavailable',
          }),
        },
      },
    },
    [`${base}/stop/{id}`]: {
      delete: {
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
      },
    },
  }
}

/** A parameter's schema from the zod schema that validates it; its description moves up. */
function toParameterSchema(schema: z.ZodType) {
  const { $schema: _dialect, description, ...rest } = z.toJSONSchema(schema, { io: 'input' })
  return { description, schema: rest }
}

const DESCRIPTION = `The asynchronous query API of Kyligence / Kylin 5 in front of a synchronous
Apache Kylin: submit SQL, poll the status, read metadata and size, download the CSV, clean up.
Every other request under \`/kylin/\` passes through to Kylin unchanged.

**Credentials** are Kylin's own (HTTP Basic, or Kylin's \`JSESSIONID\` cookie); a result belongs
to its submitter, and admins (\`ROLE_ADMIN\`) may see every result.

**Dialects**: the \`Accept\` header picks the shape of the answers; the paths are the same.

| Accept | shape | id field |
| --- | --- | --- |
| \`application/json\` (or none), \`${MEDIA_V2}\` | legacy | \`queryID\` |
| \`${MEDIA_V4_PUBLIC}\`, \`${MEDIA_V4}\` | Kylin 5 | \`query_id\` |

Answers carry the media type that was matched. Every answer is Kylin's envelope
\`{"code":"000","data":…,"msg":""}\`; every error is \`{"code":"999","data":…,"msg":…}\` with an
honest HTTP status. \`Accept-Language: cn\` answers messages in Chinese.`

let cached: OpenApiDocument | undefined

/** The document, built once: it depends on nothing but the schemas. */
export function getOpenApiDocument(): OpenApiDocument {
  cached ??= {
    openapi: '3.1.0',
    info: { title: 'Kylin async query gateway', version: '1.0.0', description: DESCRIPTION },
    tags: [{ name: 'Async query', description: `Everything under \`${ASYNC_QUERY_PATH}\`` }],
    security: [{ basicAuth: [] }, { kylinSession: [] }],
    paths: toPaths(),
    components: {
      schemas: toComponentSchemas(),
      responses: ERROR_RESPONSES,
      parameters: PARAMETERS,
      securitySchemes: {
        basicAuth: {
          type: 'http',
          scheme: 'basic',
          description: 'A Kylin user and password, checked against Kylin',
        },
        kylinSession: {
          type: 'apiKey',
          in: 'cookie',
          name: 'JSESSIONID',
          description: 'The session cookie Kylin gave you',
        },
      },
    },
  }
  return cached
}
