/**
 * The upstream's answer to the identity check → who the caller is, whichever Kylin answered.
 * Portable: zod only.
 */
import { z } from 'zod'
import { UpstreamError } from '../errors.ts'
import type { UserIdentity } from '../domain/caller.ts'
import { toExcerpt } from './error-excerpt.ts'

const authoritySchema = z.union([
  z.string(),
  z.object({ authority: z.string() }).transform((a) => a.authority),
])
const userSchema = z.object({
  username: z.string().min(1),
  authorities: z.array(authoritySchema).nullish(),
})
/** Kylin 2–4 `{userDetails}`, Kylin 5 `{code:"000",data}`, or a bare user. */
const authenticationSchema = z.union([
  z.object({ userDetails: userSchema }).transform((b) => b.userDetails),
  z.object({ code: z.string().optional(), data: userSchema }).transform((b) => b.data),
  userSchema,
])

export function parseIdentity(text: string, status: number): UserIdentity | null {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (error) {
    throw new UpstreamError(
      `The upstream Kylin answered the authentication check with something other than JSON: ${toExcerpt(text) || '(empty body)'}`,
      { upstreamStatus: status, cause: error },
    )
  }
  // Kylin 5's async-style envelopes can carry 401 inside an HTTP 200.
  if ((body as { code?: unknown } | null)?.code === '401') return null
  const parsed = authenticationSchema.safeParse(body)
  if (!parsed.success) {
    throw new UpstreamError(
      'The upstream Kylin answered the authentication check without a user name; ' +
        'is the upstream URL pointing at Kylin?',
      { upstreamStatus: status, cause: parsed.error },
    )
  }
  const authorities = parsed.data.authorities ?? []
  return {
    username: parsed.data.username,
    authorities,
    isAdmin: authorities.includes('ROLE_ADMIN'),
  }
}
