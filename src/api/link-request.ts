/**
 * The body of `POST /{id}/link` read into what a link is made of: its lifetime and the download
 * form it fixes, each checked against the result it points at. Portable.
 */
import { BadRequestError } from '../errors.ts'
import type { QueryRecord } from '../domain/query.ts'
import { checkConvertible } from './converted-download.ts'
import { isSameForm, toAskedForm, toStoredForm } from './result-form.ts'
import { linkRequestSchema } from './schemas.ts'
import type { LinkForm } from './signed-link.ts'
import { toValidationError } from './validation.ts'

/** An hour, as long as most downloads a link is made for need. */
const DEFAULT_TTL_SECONDS = 3600

export interface LinkOrder {
  ttlSeconds: number
  form: LinkForm
}

/** `raw` is the parsed JSON body (`{}` for none). */
export function toLinkOrder(raw: unknown, record: QueryRecord, maxTtlSeconds: number): LinkOrder {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new BadRequestError({ id: 'BAD_JSON' })
  }
  const parsed = linkRequestSchema.safeParse(raw)
  if (!parsed.success) throw toValidationError(parsed.error)
  const body = parsed.data

  const ttlSeconds = body.ttl ?? Math.min(DEFAULT_TTL_SECONDS, maxTtlSeconds)
  if (ttlSeconds < 1 || ttlSeconds > maxTtlSeconds) {
    throw new BadRequestError({ id: 'LINK_TTL_INVALID', args: [maxTtlSeconds, ttlSeconds] })
  }

  // The download's own checks and words for a bad format, encoding or header flag.
  const given: LinkForm = {
    ...(body.format != null ? { format: body.format } : {}),
    ...(body.encode != null ? { encode: body.encode } : {}),
    ...(body.include_header != null ? { include_header: String(body.include_header) } : {}),
  }
  const stored = toStoredForm(record.options)
  const asked = toAskedForm((name) => given[name as keyof LinkForm], stored)
  if (!isSameForm(asked, stored)) checkConvertible(record)
  // Signed as the download will read them: lower case, only what was asked for.
  const form: LinkForm = {
    ...(given.format !== undefined ? { format: asked.format } : {}),
    ...(given.encode !== undefined ? { encode: asked.encode } : {}),
    ...(given.include_header !== undefined ? { include_header: String(asked.includeHeader) } : {}),
  }
  return { ttlSeconds, form }
}
