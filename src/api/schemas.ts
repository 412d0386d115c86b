/**
 * zod schemas of the async query API's requests. Portable.
 * Numbers and booleans also arrive as strings from some clients; Kylin's Jackson accepts both.
 */
import { z } from 'zod'
import { MAX_REUSE_AGE_SECONDS } from '../queries/result-reuse.ts'

const MAX_INT = 2 ** 31 - 1

const count = z
  .union([z.number(), z.string().regex(/^\d+$/, 'must be a whole number').transform(Number)])
  .pipe(z.number().int('must be a whole number').min(0, 'must be 0 or more').max(MAX_INT))

const flag = z.union([
  z.boolean(),
  z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true'),
])

/** A file name that is safe in `Content-Disposition`: no quotes, slashes or control characters. */
const fileName = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[^"\\/\u0000-\u001f\u007f]+$/, 'must not contain quotes, slashes or control characters')
  .refine((name) => !/\p{Cs}/u.test(name), 'must be valid Unicode (no lone surrogates)')

export const submitSchema = z.object({
  sql: z.string({ error: 'is required and must be a string' }).meta({
    description: 'The SQL to run',
    examples: ['select * from kylin_sales'],
  }),
  project: z
    .string()
    .max(256, 'must be at most 256 characters')
    .nullish()
    .meta({ description: 'Kylin project (default DEFAULT)', examples: ['learn_kylin'] }),
  offset: count.nullish().meta({ description: 'Passed to Kylin (default 0)' }),
  limit: count.nullish().meta({ description: 'Passed to Kylin (default 0: no limit)' }),
  acceptPartial: flag.nullish().meta({ description: 'Passed to Kylin (default false)' }),
  separator: z
    .string()
    .max(64, 'must be at most 64 characters')
    .nullish()
    .meta({ description: 'Cell separator, any string (default ",")' }),
  include_header: flag.nullish().meta({ description: 'Write a header row (default false)' }),
  includeHeader: flag.nullish().meta({ description: 'Older spelling of include_header' }),
  file_name: fileName
    .nullish()
    .meta({ description: 'Download name without its extension (default "result")' }),
  format: z
    .string()
    .nullish()
    .meta({
      description:
        '"csv" (default), "json" (Kylin 5\'s array of row strings), "xlsx", "parquet", "ndjson" ' +
        '(one typed object a line) or "arrow" (an IPC stream), any case; another answers HTTP 200 ' +
        'with a FAILED `data`, as Kylin 5 does',
    }),
  encode: z
    .string()
    .nullish()
    .meta({
      description:
        '"utf-8" (default) or "gbk", any case, for csv, json and ndjson; another answers HTTP 200 ' +
        'with a FAILED `data`, as a bad format does',
    }),
  callback_url: z
    .string()
    .nullish()
    .meta({
      description:
        'When the query ends (SUCCESSFUL or FAILED, stopped or deleted included), a signed JSON ' +
        'event is POSTed here (Standard Webhooks: `webhook-id`, `webhook-timestamp`, ' +
        '`webhook-signature`), retried with backoff until a 2xx. An http(s) URL without ' +
        'user:password whose host WEBHOOK_ALLOWED_HOSTS lists; anything else answers 400',
      examples: ['https://hooks.example.com/kylin?token=abc'],
    }),
  reuse_max_age: count
    .pipe(z.number().max(MAX_REUSE_AGE_SECONDS, `must be at most ${MAX_REUSE_AGE_SECONDS}`))
    .nullish()
    .meta({
      description:
        'Seconds (at most 2592000, 30 days; 0 or absent: never). When you have a SUCCESSFUL ' +
        'result of the same project, SQL (whitespace outside quotes aside), offset, limit, ' +
        'acceptPartial and output options that finished no longer ago than this, the answer is ' +
        'that query (SUCCESSFUL, `reused: true`) and nothing runs upstream',
      examples: [3600],
    }),
})

export type SubmitBody = z.infer<typeof submitSchema>

/** The query list's page size: the default and the most one page holds. */
export const LIST_LIMIT = { default: 100, max: 1000 }

/** The query list's parameters (`GET /kylin/api/async_query`). */
export const listQuerySchema = z.object({
  status: z
    .enum(['RUNNING', 'SUCCESSFUL', 'FAILED'], { error: 'must be RUNNING, SUCCESSFUL or FAILED' })
    .optional()
    .meta({ description: 'Only queries in this status' }),
  project: z
    .string()
    .min(1, 'must not be empty')
    .max(256, 'must be at most 256 characters')
    .optional()
    .meta({ description: 'Only queries of this project', examples: ['learn_kylin'] }),
  user: z
    .string()
    .min(1, 'must not be empty')
    .max(256, 'must be at most 256 characters')
    .optional()
    .meta({
      description:
        "Admins: only this user's queries (without it an admin sees everyone's). Anyone " +
        'else may name only themselves; another user answers 403',
      examples: ['ANALYST'],
    }),
  limit: z
    .string()
    .regex(/^\d{1,7}$/, 'must be a whole number')
    .transform(Number)
    .pipe(
      z
        .number()
        .min(1, 'must be 1 or more')
        .max(LIST_LIMIT.max, `must be at most ${LIST_LIMIT.max}`),
    )
    .optional()
    .meta({
      description: `Queries per page (default ${LIST_LIMIT.default}, at most ${LIST_LIMIT.max})`,
    }),
  cursor: z
    .string()
    .max(200, 'must be at most 200 characters')
    .optional()
    .meta({ description: "The previous page's `next_cursor`, to read on from there" }),
})

export type ListQueryParams = z.infer<typeof listQuerySchema>
/** The body of `POST /{id}/link`; strict, so a misspelt `ttl` is an error, not the default. */
export const linkRequestSchema = z.strictObject({
  ttl: count.nullish().meta({
    description:
      'Seconds the link works, from 1 to LINK_MAX_TTL (default 7 days); default 3600, or ' +
      'LINK_MAX_TTL when shorter',
    examples: [3600],
  }),
  format: z
    .string()
    .nullish()
    .meta({ description: 'Download in this format instead of the one written at submit' }),
  encode: z
    .string()
    .nullish()
    .meta({ description: 'Download text formats in this encoding (`utf-8` or `gbk`)' }),
  include_header: flag
    .nullish()
    .meta({ description: 'Download csv or xlsx with or without the header row' }),
})

export type LinkRequestBody = z.infer<typeof linkRequestSchema>

/** `older_than` of delete-all, Kylin's `yyyy-MM-dd HH:mm:ss` (gateway local time). */
export const olderThanPattern = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/

export const olderThanSchema = z
  .string()
  .regex(olderThanPattern)
  .meta({
    description:
      'Only queries submitted before this time, `yyyy-MM-dd HH:mm:ss` (gateway local time)',
    examples: ['2026-01-01 00:00:00'],
  })

/** The shadow report's window: `hours` back from now, 24 by default, at most 90 days. */
export const shadowReportQuerySchema = z.object({
  hours: z
    .string()
    .regex(/^\d{1,4}$/, 'must be a whole number of hours')
    .transform(Number)
    .pipe(z.number().min(1, 'must be 1 or more').max(2160, 'must be at most 2160 (90 days)'))
    .optional()
    .meta({ description: 'How many hours back, 1 to 2160 (default 24)', examples: ['24'] }),
})

/** A submit's `Idempotency-Key` header: visible ASCII, so it can be logged and compared safely. */
export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,200}$/)
  .meta({
    description:
      'Repeating a submit with the same key (same user, same body) answers the first query ' +
      'instead of starting another; the same key with a different body answers 409',
    examples: ['export-2026-05-01-sales'],
  })
