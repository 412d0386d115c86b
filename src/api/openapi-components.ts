/**
 * The reusable parts of the OpenAPI document: named schemas (from the zod schemas of schemas.ts and
 * responses.ts), error responses, parameters, and the helpers route declarations use. Portable.
 */
import { z } from 'zod'
import { MEDIA_V2, MEDIA_V4, MEDIA_V4_PUBLIC } from './dialect.ts'
import {
  deletedAnswerSchema,
  errorEnvelopeSchema,
  fileStatusAnswerSchema,
  legacyListAnswerSchema,
  legacyRefusedFormatSchema,
  legacyStatusAnswerSchema,
  legacySubmitAnswerSchema,
  linkAnswerSchema,
  metadataEnvelopeSchema,
  queryStatusSchema,
  resultPathAnswerSchema,
  stopEnvelopeSchema,
  toEnvelopeSchema,
  v4ListAnswerSchema,
  v4RefusedFormatSchema,
  v4StatusAnswerSchema,
  v4SubmitAnswerSchema,
  shadowReportAnswerSchema,
} from './responses.ts'
import { linkRequestSchema, submitSchema } from './schemas.ts'

/** Media types of the legacy dialect (`queryID`) and of Kylin 5's (`query_id`); see dialect.ts. */
const LEGACY_MEDIA_TYPES = ['application/json', MEDIA_V2] as const
const V4_MEDIA_TYPES = [MEDIA_V4_PUBLIC, MEDIA_V4] as const
export const DIALECT_MEDIA_TYPES = [...LEGACY_MEDIA_TYPES, ...V4_MEDIA_TYPES]

type JsonSchema = Record<string, unknown>
type Reference = { $ref: string }
type PlainSchema = { type: 'string' | 'integer'; format?: string }

/** Every named schema; an answer that differs by dialect has one per dialect. */
const NAMED_SCHEMAS = {
  SubmitRequest: submitSchema,
  QueryStatus: queryStatusSchema,
  SubmitAnswer: legacySubmitAnswerSchema,
  SubmitAnswerV4: v4SubmitAnswerSchema,
  StatusAnswer: legacyStatusAnswerSchema,
  StatusAnswerV4: v4StatusAnswerSchema,
  SubmitEnvelope: z.union([toEnvelopeSchema(legacySubmitAnswerSchema), legacyRefusedFormatSchema]),
  SubmitEnvelopeV4: z.union([toEnvelopeSchema(v4SubmitAnswerSchema), v4RefusedFormatSchema]),
  StatusEnvelope: toEnvelopeSchema(legacyStatusAnswerSchema),
  StatusEnvelopeV4: toEnvelopeSchema(v4StatusAnswerSchema),
  ListEnvelope: toEnvelopeSchema(legacyListAnswerSchema),
  ListEnvelopeV4: toEnvelopeSchema(v4ListAnswerSchema),
  MetadataEnvelope: metadataEnvelopeSchema,
  FileStatusEnvelope: toEnvelopeSchema(fileStatusAnswerSchema),
  ResultPathEnvelope: toEnvelopeSchema(resultPathAnswerSchema),
  DeletedEnvelope: toEnvelopeSchema(deletedAnswerSchema),
  StopEnvelope: stopEnvelopeSchema,
  LinkRequest: linkRequestSchema,
  LinkEnvelope: toEnvelopeSchema(linkAnswerSchema),
  ShadowReportEnvelope: toEnvelopeSchema(shadowReportAnswerSchema),
  ErrorEnvelope: errorEnvelopeSchema,
} satisfies Record<string, z.ZodType>

type SchemaName = keyof typeof NAMED_SCHEMAS

/**
 * JSON Schemas by zod's own converter, as clients may send requests (strings for numbers and
 * flags included); zod-to-openapi's converter spells unions and nullables differently.
 */
export function toComponentSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>()
  for (const [id, schema] of Object.entries(NAMED_SCHEMAS)) registry.add(schema, { id })
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

export const schemaRef = (name: SchemaName) => ({ $ref: `#/components/schemas/${name}` })

/** The same answer under every dialect's media type, as `Accept` chooses. */
export function byDialect(
  legacy: SchemaName,
  v4: SchemaName = legacy,
): Record<string, { schema: Reference }> {
  return Object.fromEntries([
    ...LEGACY_MEDIA_TYPES.map((type) => [type, { schema: schemaRef(legacy) }]),
    ...V4_MEDIA_TYPES.map((type) => [type, { schema: schemaRef(v4) }]),
  ])
}

export function jsonAnswer(description: string, legacy: SchemaName, v4?: SchemaName) {
  return { description, content: byDialect(legacy, v4) }
}

const header = (description: string, schema: PlainSchema = { type: 'string' }) => ({
  description,
  schema,
})

const errorAnswer = (description: string, headers?: Record<string, ReturnType<typeof header>>) => ({
  description,
  ...(headers ? { headers } : {}),
  content: byDialect('ErrorEnvelope'),
})

const RETRY_AFTER = { 'Retry-After': header('Seconds to wait', { type: 'integer' }) }

export const ERROR_RESPONSES = {
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
  TooManyFollowers: errorAnswer(
    'A running query already has as many followers (`follow=1`) as it may; try again later',
    RETRY_AFTER,
  ),
  TooManyWatchers: errorAnswer(
    'Too many waits and event streams open on this query or gateway; poll instead or try again later',
    RETRY_AFTER,
  ),
  ShuttingDown: errorAnswer('The gateway is shutting down; try again later', RETRY_AFTER),
  IdempotencyConflict: errorAnswer('This Idempotency-Key was used for a different request'),
  NotRunning: errorAnswer('The query is not running (`data`: "Query is not running")'),
  PayloadTooLarge: errorAnswer('The body is larger than MAX_BODY_BYTES'),
  UpstreamUnavailable: errorAnswer('Kylin could not be reached to check the credentials'),
  LinksOff: errorAnswer('Signed links are off: the gateway has no LINK_SECRET'),
  LinkInvalid: errorAnswer(
    'The link is not one this gateway signed as it is (changed, cut short, or an unknown key)',
  ),
  LinkExpired: errorAnswer('The link is past its expiry; its owner can make a new one'),
  Error: errorAnswer('Any other error, always in this envelope'),
}

type ErrorName = keyof typeof ERROR_RESPONSES

/** Error answers by status, always with the catch-all `default`. */
export const errors = (statuses: Partial<Record<string, ErrorName>>): Record<string, Reference> =>
  Object.fromEntries([
    ...Object.entries(statuses).map(([status, name]) => [
      status,
      { $ref: `#/components/responses/${name}` },
    ]),
    ['default', { $ref: '#/components/responses/Error' }],
  ])

/** The errors of every call about one query: credentials, ownership, existence. */
export const QUERY_ERRORS = errors({
  '401': 'Unauthorized',
  '403': 'Forbidden',
  '404': 'NotFound',
  '502': 'UpstreamUnavailable',
})

const optionalHeader = (name: string, description: string) => ({
  name,
  in: 'header' as const,
  required: false,
  description,
  schema: { type: 'string' } as const,
})

export const PARAMETERS = {
  QueryId: {
    name: 'id',
    in: 'path' as const,
    required: true,
    description: 'The query id a submit answered',
    schema: { type: 'string' } as const,
  },
  Project: {
    name: 'project',
    in: 'query' as const,
    required: false,
    description: 'Optional: when given, a query of another project counts as unknown',
    schema: { type: 'string' } as const,
  },
  Range: optionalHeader(
    'Range',
    'One byte range, e.g. `bytes=0-1023` or `bytes=-500`; several ranges get 200',
  ),
  IfRange: optionalHeader(
    'If-Range',
    'An ETag or Last-Modified: the range applies only if the result still matches',
  ),
  IfNoneMatch: optionalHeader(
    'If-None-Match',
    'An ETag from an earlier download: 304 if it still matches',
  ),
  Format: {
    name: 'format',
    in: 'query' as const,
    required: false,
    description:
      'Another format than the one written at submit (`csv`, `json`, `xlsx`, `parquet`, ' +
      '`ndjson`, `arrow`, any case): made from the stored CSV on the fly, streamed, without ' +
      'Content-Length or ranges and under a weak ETag. Only a result written as csv converts.',
    schema: { type: 'string' } as const,
  },
  Encode: {
    name: 'encode',
    in: 'query' as const,
    required: false,
    description: '`utf-8` or `gbk` for the text formats, converted like `format`',
    schema: { type: 'string' } as const,
  },
  IncludeHeader: {
    name: 'include_header',
    in: 'query' as const,
    required: false,
    description:
      '`true` or `false`: the header row of csv and xlsx, converted like `format` ' +
      '(`includeHeader` too; Kylin 5 refuses both here)',
    schema: { type: 'string' } as const,
  },
  LinkExpires: {
    name: 'expires',
    in: 'path' as const,
    required: true,
    description: 'When the link expires, in seconds since the epoch (signed)',
    schema: { type: 'string' } as const,
  },
  LinkSignature: {
    name: 'signature',
    in: 'path' as const,
    required: true,
    description: 'HMAC-SHA256 of the id, the expiry and the query string, base64url',
    schema: { type: 'string' } as const,
  },
  Follow: {
    name: 'follow',
    in: 'query' as const,
    required: false,
    description:
      '`1` (or `true`) on a RUNNING query: stream the result as it is written, ending when ' +
      'the query ends: no Content-Length, ETag or ranges, and the connection is reset, never ' +
      'ended cleanly, if the query fails, is stopped or deleted. Range, `format`, `encode` or ' +
      '`include_header` with it on a RUNNING query answer 400. On a SUCCESSFUL query it is ' +
      'ignored. At most 8 followers of one query; past that, 429.',
    schema: { type: 'string' as const, enum: ['1', 'true', '0', 'false'] },
  },
  AcceptEncoding: optionalHeader(
    'Accept-Encoding',
    '`gzip` compresses the download on the fly (Node; Workers leave it to the edge)',
  ),
  Wait: {
    name: 'wait',
    in: 'query' as const,
    required: false,
    description:
      'Seconds (a whole number from 0 to 60) to wait for a RUNNING query to end before answering',
    schema: { type: 'integer', minimum: 0, maximum: 60 } as const,
  },
  Prefer: optionalHeader(
    'Prefer',
    'RFC 7240 `wait=<seconds>`, like `wait` (a larger ask is capped at 60); `?wait` wins',
  ),
  LastEventId: optionalHeader(
    'Last-Event-ID',
    'The `id:` of the last event received: the stream goes on after it',
  ),
}

export const param = (name: keyof typeof PARAMETERS) => ({
  $ref: `#/components/parameters/${name}`,
})
export const ID_PARAMS = [param('QueryId'), param('Project')]
export const DOWNLOAD_PARAMS = [
  ...ID_PARAMS,
  param('Range'),
  param('IfRange'),
  param('IfNoneMatch'),
  param('AcceptEncoding'),
  param('Format'),
  param('Encode'),
  param('IncludeHeader'),
  param('Follow'),
]

/** A link fixes its form in its signed query string: the same names as a download's. */
export const LINK_DOWNLOAD_PARAMS = [
  param('QueryId'),
  param('LinkExpires'),
  param('LinkSignature'),
  param('Range'),
  param('IfRange'),
  param('IfNoneMatch'),
  param('AcceptEncoding'),
  param('Format'),
  param('Encode'),
  param('IncludeHeader'),
]

const DOWNLOAD_HEADERS = {
  'Content-Disposition': header('`attachment; filename="…"` (RFC 5987 `filename*` if not ASCII)'),
  'Content-Length': header('Bytes in this response', { type: 'integer' }),
  ETag: header('Strong validator of the result (a different one when gzipped)'),
  'Last-Modified': header('When the query finished'),
  'Accept-Ranges': header('`bytes`'),
  'Content-Encoding': header('`gzip` when the client asked for it'),
}

/** The answers of a download; HEAD's carry the same headers and no body. */
/** The media types of every other result format, the same in every dialect. */
const OTHER_RESULT_TYPES = [
  'application/json',
  'application/x-ndjson',
  'application/octet-stream',
  'application/vnd.apache.parquet',
  'application/vnd.apache.arrow.stream',
]

/** The errors of a download by the owner's credentials. */
const DOWNLOAD_ERRORS = errors({
  '401': 'Unauthorized',
  '403': 'Forbidden',
  '404': 'NotFound',
  '416': 'RangeNotSatisfiable',
  '429': 'TooManyFollowers',
  '502': 'UpstreamUnavailable',
})

/** The errors of a download by a signed link: no credentials, so no 401 nor 502. */
export const LINK_DOWNLOAD_ERRORS = errors({
  '403': 'LinkInvalid',
  '404': 'NotFound',
  '410': 'LinkExpired',
  '416': 'RangeNotSatisfiable',
  '501': 'LinksOff',
})

export function downloadResponses(
  csvTypes: string[],
  withBody: boolean,
  failures: Record<string, Reference> = DOWNLOAD_ERRORS,
) {
  const csv = withBody
    ? {
        content: Object.fromEntries(
          [...csvTypes, ...OTHER_RESULT_TYPES].map((type) => [
            type,
            { schema: { type: 'string', format: 'binary' } as const },
          ]),
        ),
      }
    : {}
  return {
    '200': {
      description:
        'The whole result, in the format chosen at submit; with `follow=1` on a RUNNING query, ' +
        'streamed as it is written (no Content-Length, ETag or ranges)',
      headers: DOWNLOAD_HEADERS,
      ...csv,
    },
    '206': {
      description: 'The requested byte range',
      headers: {
        ...DOWNLOAD_HEADERS,
        'Content-Range': header('`bytes <first>-<last>/<size>`'),
      },
      ...csv,
    },
    '304': { description: 'Not modified: `If-None-Match` matched the ETag' },
    ...failures,
  }
}

/** A parameter's schema from the zod schema that validates it; its description moves up. */
export function toParameterSchema(schema: z.ZodType) {
  const { $schema: _dialect, description, ...rest } = z.toJSONSchema(schema, { io: 'input' })
  // zod's JSON Schema type and openapi3-ts's SchemaObject describe the same JSON differently.
  return { description, schema: rest as never }
}
