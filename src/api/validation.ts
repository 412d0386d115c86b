/**
 * zod validation failures as the gateway's own 400s, so no zod JSON ever reaches a client, and a
 * body past its size limit as a 413. Portable; the routers' default hook, the submit body's check
 * and its size limit all come here.
 */
import { bodyLimit } from 'hono/body-limit'
import type { z } from 'zod'
import { BadRequestError, GatewayError } from '../errors.ts'
import type { MessageId } from '../i18n.ts'

/** What was validated, as Hono's validators name it. */
type Target = 'json' | 'header' | 'query' | 'param' | 'cookie' | 'form'

/** Fields whose failure has a message of its own; any other names the field and zod's words. */
const FIELD_MESSAGES: Partial<Record<`${Target} ${string}`, MessageId>> = {
  'header Idempotency-Key': 'IDEMPOTENCY_KEY_INVALID',
}

export function toValidationError(error: z.ZodError, target: Target = 'json'): GatewayError {
  const issue = error.issues[0]
  const field = issue?.path.join('.') ?? ''
  const id = FIELD_MESSAGES[`${target} ${field}`]
  if (id) return new BadRequestError({ id })
  return new BadRequestError({
    id: target === 'query' ? 'BAD_PARAMETER' : 'BAD_BODY',
    args: [`${field || 'body'} ${issue?.message ?? ''}`.trim()],
  })
}

/** The hook every declared route validates through: it throws, and errors.ts answers. */
export function rejectInvalid(
  result: { target: Target } & ({ success: true } | { success: false; error: z.ZodError }),
) {
  if (!result.success) throw toValidationError(result.error, result.target)
}

/** Middleware refusing a body of more than `maxBytes` with the gateway's 413 (BODY_TOO_LARGE). */
export function limitBodyTo(maxBytes: number) {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new GatewayError(413, { id: 'BODY_TOO_LARGE', args: [maxBytes] })
    },
  })
}
