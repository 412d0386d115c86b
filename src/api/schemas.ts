/**
 * zod schemas of the async query API's requests. Portable.
 * Numbers and booleans also arrive as strings from some clients; Kylin's Jackson accepts both.
 */
import { z } from 'zod'

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
  sql: z.string({ error: 'is required and must be a string' }),
  project: z.string().max(256, 'must be at most 256 characters').nullish(),
  offset: count.nullish(),
  limit: count.nullish(),
  acceptPartial: flag.nullish(),
  separator: z.string().max(64, 'must be at most 64 characters').nullish(),
  include_header: flag.nullish(),
  includeHeader: flag.nullish(),
  file_name: fileName.nullish(),
  format: z.string().nullish(),
  encode: z.string().nullish(),
})

export type SubmitBody = z.infer<typeof submitSchema>

/** `older_than` of delete-all, Kylin's `yyyy-MM-dd HH:mm:ss` (gateway local time). */
export const olderThanPattern = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/
