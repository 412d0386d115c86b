/**
 * zod schemas of the async query API's answers, per dialect. Portable.
 * The OpenAPI document is generated from them, and tests check real answers against them.
 */
import { z } from 'zod'

const queryId = z.string().meta({
  description: 'The query id the submit answered',
  examples: ['3c8e0b2a-6f1d-4c1e-9a57-0d2f5e8b7c41'],
})
const info = z.string().meta({
  description: 'What the status means, or why the query failed',
  examples: ['still running'],
})
const byteCount = z.number().int().min(0)

export const queryStatusSchema = z.enum(['RUNNING', 'SUCCESSFUL', 'FAILED', 'MISSING']).meta({
  description:
    'RUNNING: queued or running; SUCCESSFUL: the result can be fetched; FAILED: `info` says why; ' +
    'MISSING: no such query (or not in the given project)',
})

/** A submit reports RUNNING, or where an earlier query with the same Idempotency-Key is. */
const submitStatus = queryStatusSchema.exclude(['MISSING'])

/** Only in the answer of a submit that `reuse_max_age` answered with an earlier result. */
const reused = z
  .literal(true)
  .optional()
  .meta({
    description:
      'Present (true) when the answer is an earlier SUCCESSFUL query of yours reused ' +
      "(`reuse_max_age`); its status, metadata and result are that query's",
  })

export const legacySubmitAnswerSchema = z.strictObject({
  queryID: queryId,
  status: submitStatus,
  info,
  reused,
})

export const v4SubmitAnswerSchema = z.strictObject({
  query_id: queryId,
  status: submitStatus,
  info,
  reused,
})

/** Kylin 5's answer to a submit `format` it does not take: HTTP 200 and a FAILED `data`. */
const refusedFormat = (idField: 'queryID' | 'query_id') =>
  z.strictObject({
    code: z.literal('KE-020040001(Asynchronous query illegal parameters)'),
    data: z.strictObject({
      [idField]: z.null(),
      status: z.literal('FAILED'),
      info: info.meta({
        examples: ['Format xlsx unsupported. Only [csv, json, ndjson] are supported'],
      }),
    }),
    msg: z.literal(''),
  })

export const legacyRefusedFormatSchema = refusedFormat('queryID')
export const v4RefusedFormatSchema = refusedFormat('query_id')

/** Progress of a RUNNING query; absent in any other status. */
const progress = {
  rows_written: byteCount
    .optional()
    .meta({ description: 'Rows written so far (RUNNING only)', examples: [1200] }),
  bytes_written: byteCount
    .optional()
    .meta({ description: 'CSV bytes written so far (RUNNING only)', examples: [48213] }),
}

/** Which upstream Kylin runs (ran) the query, when several are routed by project. */
const origin = {
  upstream: z
    .string()
    .optional()
    .meta({
      description:
        'The name (host) of the upstream Kylin that runs or ran the query (KYLIN_UPSTREAMS); absent on queries recorded before routing',
      examples: ['kylin5:7070'],
    }),
}

/** What a SUCCESSFUL result is, so a client can check its download; absent in any other status. */
const integrity = {
  rows: byteCount
    .optional()
    .meta({ description: 'Rows of the result (SUCCESSFUL only)', examples: [1200] }),
  bytes: byteCount
    .optional()
    .meta({ description: 'Bytes of the stored file (SUCCESSFUL only)', examples: [48213] }),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional()
    .meta({
      description:
        'SHA-256 of the stored file, lower-case hex (SUCCESSFUL only); the download sends it as Repr-Digest',
      examples: ['9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    }),
}

/** The verdict of a shadow run (KYLIN_SHADOW_URL), present only on a query sampled for one. */
export const shadowAnswerSchema = z
  .strictObject({
    status: z.enum(['RUNNING', 'SUCCESSFUL', 'FAILED', 'SKIPPED']).meta({
      description:
        'RUNNING until the shadow run ends (it starts once the query has ended); SKIPPED when its queue was full or the result is not csv',
    }),
    match: z.boolean().nullable().meta({
      description:
        'Whether the new cluster gave the same answer: columns, row count and rows (in order only under a top-level ORDER BY); null until known',
    }),
    rows: byteCount.nullable().meta({ description: 'Rows the shadow answered' }),
    primary_rows: byteCount.nullable().meta({ description: 'Rows of the primary result compared' }),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .nullable()
      .meta({ description: "SHA-256 of the shadow's columns, row count and row hashes" }),
    first_difference: z
      .string()
      .nullable()
      .meta({
        description:
          'Where the answers first differ, in words (a row number when compared in order); never a row',
        examples: ['row 3 differs (compared in order: the SQL has a top-level ORDER BY)'],
      }),
    message: z
      .string()
      .optional()
      .meta({ description: "FAILED: the shadow run's message; SKIPPED: why it did not run" }),
  })
  .meta({ description: 'The shadow run of this query (only when shadowed)' })

export const legacyStatusAnswerSchema = z.strictObject({
  queryID: queryId,
  status: queryStatusSchema,
  info,
  ...progress,
  ...origin,
  ...integrity,
  shadow: shadowAnswerSchema.optional(),
})

export const v4StatusAnswerSchema = z.strictObject({
  query_id: queryId,
  status: queryStatusSchema,
  info,
  ...progress,
  ...origin,
  ...integrity,
  shadow: shadowAnswerSchema.optional(),
})

export const metadataAnswerSchema = z.tuple([z.array(z.string()), z.array(z.string())]).meta({
  description: 'Column labels, then their SQL type names, in result order',
  examples: [
    [
      ['LSTG_FORMAT_NAME', 'GMV'],
      ['VARCHAR', 'DECIMAL'],
    ],
  ],
})

export const fileStatusAnswerSchema = byteCount.meta({
  description: 'Size of the CSV result in bytes',
  examples: [48213],
})

export const resultPathAnswerSchema = z.string().meta({
  description: 'Where the result lives in the store: file://…, memory://… or r2://<bucket>/…',
  examples: ['file:///var/lib/kylin-async-gateway/3c8e0b2a-6f1d-4c1e-9a57-0d2f5e8b7c41.csv'],
})

/** One query of the list; times are milliseconds since the epoch. */
const listedQuery = {
  status: queryStatusSchema.exclude(['MISSING']),
  project: z.string().meta({ examples: ['learn_kylin'] }),
  owner: z.string().meta({ description: 'Who submitted it', examples: ['ANALYST'] }),
  submitted_at: z
    .number()
    .int()
    .meta({ description: 'When it was submitted, ms since the epoch', examples: [1767323045123] }),
  finished_at: z
    .number()
    .int()
    .nullable()
    .meta({
      description: 'When it ended, ms since the epoch; null while RUNNING',
      examples: [1767323046456],
    }),
  rows: byteCount.meta({ description: 'Rows written so far or in total', examples: [1200] }),
  bytes: byteCount.meta({ description: 'Bytes written so far or in total', examples: [48213] }),
}

const nextCursor = z
  .string()
  .nullable()
  .meta({
    description:
      'Pass as `cursor` for the next page; null at the end. A page may hold fewer queries than ' +
      '`limit` and still have a next one',
  })

export const legacyListAnswerSchema = z.strictObject({
  queries: z.array(z.strictObject({ queryID: queryId, ...listedQuery })),
  next_cursor: nextCursor,
})

export const v4ListAnswerSchema = z.strictObject({
  queries: z.array(z.strictObject({ query_id: queryId, ...listedQuery })),
  next_cursor: nextCursor,
})

/** The shadow report (admins): the shadow runs of a window and their mismatches, never a row. */
export const shadowReportAnswerSchema = z.strictObject({
  since: z.string().meta({
    description: 'Start of the window, ISO 8601 in UTC',
    examples: ['2026-01-01T00:00:00.000Z'],
  }),
  compared: byteCount.meta({ description: 'Shadow runs that ended in the window with a verdict' }),
  matched: byteCount.meta({ description: 'Of those, the ones whose answers matched' }),
  mismatches: z.array(
    z.strictObject({
      query_id: queryId,
      project: z.string(),
      user: z.string().meta({ description: 'Who submitted it' }),
      sql_digest: z
        .string()
        .nullable()
        .meta({ description: 'SHA-256 of the SQL, whitespace normalised (never the SQL)' }),
      primary_rows: byteCount.nullable(),
      shadow_rows: byteCount.nullable(),
      shadow_status: z.string().meta({ examples: ['SUCCESSFUL', 'FAILED'] }),
      first_difference: z.string().nullable(),
      finished_at: z.string().meta({ description: 'When the verdict was recorded, ISO 8601' }),
    }),
  ),
  truncated: z.boolean().meta({ description: 'More mismatches than the 1,000 newest listed' }),
})

export const linkAnswerSchema = z.strictObject({
  url: z.string().meta({
    description:
      'Downloads the result without credentials (GET or HEAD, ranges too) until `expires_at`',
    examples: [
      'https://gateway.example.com/kylin/api/async_query/link/3c8e0b2a-6f1d-4c1e-9a57-0d2f5e8b7c41/1767326400/Jk4v2mXb1Qh8yWcN0pLr5tAe9sUd3oZi7gKf6HnBqV',
    ],
  }),
  expires_at: z.string().meta({
    description: 'When the link stops working, ISO 8601 in UTC',
    examples: ['2026-01-02T04:00:00.000Z'],
  }),
})

export const deletedAnswerSchema = z.literal(true).meta({ description: 'Always true' })

/** Kylin's success envelope around one answer. */
export function toEnvelopeSchema<T extends z.ZodType>(data: T) {
  return z.strictObject({ code: z.literal('000'), data, msg: z.string().meta({ examples: [''] }) })
}

/** The metadata answer: Kylin's envelope, with the result's rows, bytes and hash beside `data`. */
export const metadataEnvelopeSchema = z.strictObject({
  code: z.literal('000'),
  data: metadataAnswerSchema,
  msg: z.string().meta({ examples: [''] }),
  rows: byteCount.meta({ description: 'Rows of the result', examples: [1200] }),
  bytes: byteCount.meta({ description: 'Bytes of the stored file', examples: [48213] }),
  sha256: integrity.sha256,
  shadow: shadowAnswerSchema.optional(),
})

/** Kylin 5's stop answers `data: ""` and says what happens in `msg`. */
export const stopEnvelopeSchema = z.strictObject({
  code: z.literal('000'),
  data: z.literal(''),
  msg: z.string().meta({ examples: ['Async Query（id=3c8e…） will be canceled'] }),
})

const NOT_FOUND_EXAMPLE =
  'Can’t find the query by this query ID in this project. Please check and try again.'

/** Every error, whatever the endpoint: see errors.ts `toErrorResponse`. */
export const errorEnvelopeSchema = z
  .strictObject({
    code: z.string().meta({
      description: '"999", or "401" where Kylin itself answers 401',
      examples: ['999'],
    }),
    data: z.union([z.null(), z.string(), z.number(), z.boolean()]).meta({
      description: 'What Kylin sends for this endpoint: null, 0, "", false or a text',
      examples: [null],
    }),
    msg: z.string().meta({ examples: [NOT_FOUND_EXAMPLE] }),
    exception: z.string().meta({ examples: [NOT_FOUND_EXAMPLE] }),
    url: z.string().meta({
      examples: ['http://gateway:8080/kylin/api/async_query/3c8e0b2a-6f1d-4c1e-9a57-0d2f5e8b7c41'],
    }),
    error_code: z
      .string()
      .optional()
      .meta({ description: "Kylin 5's KE-… code, where it has one", examples: ['KE-010031301'] }),
  })
  .meta({ description: 'Kylin error envelope; `msg` is translated for Accept-Language: cn' })
