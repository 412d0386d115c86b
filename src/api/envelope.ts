/**
 * Kylin's success envelope `{"code":"000","data":…,"msg":""}`, sent with the dialect's media type.
 * Portable.
 */
import type { Context } from 'hono'
import type { Dialect } from './dialect.ts'

export function toEnvelope(data: unknown, msg = '', code = '000') {
  return { code, data, msg }
}

/**
 * `msg` stays empty except where Kylin says something on success (stop); `code` is `000` except
 * where Kylin answers a refusal with HTTP 200 and an envelope (a bad submit format).
 */
export function sendEnvelope(
  c: Context,
  dialect: Dialect,
  data: unknown,
  msg = '',
  code = '000',
): Response {
  return sendEnvelopeText(c, dialect, JSON.stringify(toEnvelope(data, msg, code)))
}

/** An envelope serialized already (e.g. a status kept per record version). */
export function sendEnvelopeText(c: Context, dialect: Dialect, text: string): Response {
  return c.body(text, 200, { 'Content-Type': dialect.contentType })
}
